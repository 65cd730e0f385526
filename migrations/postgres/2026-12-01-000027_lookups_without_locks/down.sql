ALTER TABLE lookups
    ADD CONSTRAINT lookups_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES organizations (id),
    ADD CONSTRAINT lookups_receivable_id_fkey FOREIGN KEY (receivable_id) REFERENCES receivables (id),
    ADD CONSTRAINT lookups_purchase_order_id_fkey FOREIGN KEY (purchase_order_id) REFERENCES purchase_orders (id);
