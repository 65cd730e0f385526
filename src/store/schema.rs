//! One portable schema for both backends (see `migrations/postgres` and
//! `migrations/sqlite`, which keep identical migration names).

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        role -> Text,
        legal_id -> Text,
        legal_id_normalized -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    organization_keys (id) {
        id -> Text,
        organization_id -> Text,
        public_key -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    risk_officers (id) {
        id -> Text,
        organization_id -> Text,
        email -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        organization_id -> Text,
        risk_officer_id -> Nullable<Text>,
        secret_sha256 -> Binary,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    organization_identifiers (normalized_value, scheme) {
        organization_id -> Text,
        scheme -> Text,
        value -> Text,
        normalized_value -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(organization_keys -> organizations (organization_id));
diesel::joinable!(organization_identifiers -> organizations (organization_id));
diesel::joinable!(risk_officers -> organizations (organization_id));
diesel::joinable!(api_keys -> organizations (organization_id));
diesel::joinable!(api_keys -> risk_officers (risk_officer_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    organization_keys,
    organization_identifiers,
    risk_officers,
    api_keys
);

diesel::table! {
    ledger_leaves (leaf_hash) {
        leaf_hash -> Binary,
        entry -> Binary,
        kind -> Text,
        details -> Text,
        details_salt -> Binary,
        parties -> Text,
        queued_at -> Timestamp,
    }
}

diesel::table! {
    ledger_queue (id) {
        id -> BigInt,
        leaf_hash -> Binary,
    }
}

diesel::table! {
    ledger_sequence (leaf_index) {
        leaf_index -> BigInt,
        leaf_hash -> Binary,
        sequenced_at -> Timestamp,
    }
}

diesel::table! {
    ledger_nodes (level, node_index) {
        level -> SmallInt,
        node_index -> BigInt,
        hash -> Binary,
    }
}

diesel::table! {
    ledger_tree_heads (tree_size) {
        tree_size -> BigInt,
        root_hash -> Binary,
        timestamp_ms -> BigInt,
        signature -> Binary,
        checkpoint -> Text,
    }
}

diesel::table! {
    ledger_leaf_fingerprints (leaf_hash) {
        leaf_hash -> Binary,
        fingerprint -> Binary,
    }
}

diesel::joinable!(ledger_sequence -> ledger_leaves (leaf_hash));
diesel::joinable!(ledger_leaf_fingerprints -> ledger_leaves (leaf_hash));
diesel::joinable!(ledger_queue -> ledger_leaves (leaf_hash));

diesel::allow_tables_to_appear_in_same_query!(
    ledger_leaves,
    ledger_queue,
    ledger_sequence,
    ledger_nodes,
    ledger_tree_heads,
    ledger_leaf_fingerprints
);

diesel::table! {
    purchase_orders (id) {
        id -> Text,
        fingerprint -> Binary,
        supplier_id -> Text,
        buyer_id -> Text,
        po_number -> Text,
        issue_date -> Date,
        currency -> Text,
        amount_minor -> BigInt,
        invoiced_minor -> BigInt,
        status -> Text,
        leaf_hash -> Binary,
        created_at -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    receivables (id) {
        id -> Text,
        fingerprint -> Binary,
        supplier_id -> Text,
        buyer_id -> Text,
        invoice_number -> Text,
        purchase_order_id -> Nullable<Text>,
        issue_date -> Date,
        due_date -> Date,
        currency -> Text,
        amount_minor -> BigInt,
        status -> Text,
        dispute_reason -> Nullable<Text>,
        leaf_hash -> Binary,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        credited_minor -> BigInt,
        superseded_by -> Nullable<Text>,
        order_reference -> Nullable<Text>,
    }
}

diesel::table! {
    credit_notes (id) {
        id -> Text,
        fingerprint -> Binary,
        receivable_id -> Text,
        supplier_id -> Text,
        credit_note_number -> Text,
        issue_date -> Date,
        currency -> Text,
        amount_minor -> BigInt,
        leaf_hash -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    uploads (id) {
        id -> Text,
        supplier_id -> Text,
        digest -> Binary,
        status -> Text,
        total_rows -> Nullable<BigInt>,
        processed_rows -> BigInt,
        report -> Nullable<Text>,
        created_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        attempts -> Integer,
        failure -> Nullable<Text>,
    }
}

diesel::table! {
    upload_bodies (upload_id) {
        upload_id -> Text,
        format -> Text,
        body -> Binary,
    }
}

diesel::table! {
    upload_chunks (upload_id, first_item) {
        upload_id -> Text,
        first_item -> BigInt,
        results -> Text,
    }
}

diesel::table! {
    assets (id) {
        id -> Text,
        receivable_id -> Text,
        parent_id -> Nullable<Text>,
        position -> Integer,
        holder_id -> Text,
        face_value_minor -> BigInt,
        currency -> Text,
        status -> Text,
        leaf_hash -> Binary,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    alerts (id) {
        id -> Text,
        kind -> Text,
        fingerprint -> Nullable<Binary>,
        subject_id -> Nullable<Text>,
        attempting_org_id -> Text,
        existing_party_id -> Nullable<Text>,
        details -> Text,
        leaf_hash -> Binary,
        status -> Text,
        created_at -> Timestamp,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledged_by -> Nullable<Text>,
    }
}

diesel::joinable!(receivables -> purchase_orders (purchase_order_id));
diesel::joinable!(assets -> receivables (receivable_id));
diesel::joinable!(credit_notes -> receivables (receivable_id));

diesel::table! {
    liens (id) {
        id -> Text,
        asset_id -> Nullable<Text>,
        purchase_order_id -> Nullable<Text>,
        bank_id -> Text,
        kind -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        status -> Text,
        leaf_hash -> Binary,
        created_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        offer_id -> Nullable<Text>,
        share_minor -> Nullable<BigInt>,
        disbursed_minor -> BigInt,
        repaid_minor -> BigInt,
    }
}

diesel::table! {
    offers (id) {
        id -> Text,
        asset_id -> Nullable<Text>,
        purchase_order_id -> Nullable<Text>,
        holder_id -> Text,
        bank_id -> Text,
        kind -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        expires_at -> Timestamp,
        status -> Text,
        leaf_hash -> Binary,
        created_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    loan_records (id) {
        id -> Text,
        lien_id -> Text,
        bank_id -> Text,
        kind -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        value_date -> Date,
        reference -> Text,
        leaf_hash -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payments (id) {
        id -> Text,
        asset_id -> Text,
        payer_id -> Text,
        amount_minor -> BigInt,
        currency -> Text,
        paid_on -> Date,
        distributions -> Text,
        leaf_hash -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (organization_id, idempotency_key) {
        organization_id -> Text,
        idempotency_key -> Text,
        request_sha256 -> Binary,
        response_body -> Text,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    purchase_orders,
    receivables,
    assets,
    alerts,
    liens,
    offers,
    loan_records,
    payments,
    idempotency_keys,
    credit_notes,
    uploads,
    upload_bodies,
    upload_chunks
);

diesel::table! {
    alert_audiences (alert_id, organization_id) {
        alert_id -> Text,
        organization_id -> Text,
        redacted -> Bool,
        status -> Text,
        acknowledged_at -> Nullable<Timestamp>,
        acknowledged_by -> Nullable<Text>,
    }
}

diesel::table! {
    alert_deliveries (id) {
        id -> Text,
        alert_id -> Text,
        risk_officer_id -> Text,
        recipient -> Text,
        message_id -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        leased_until -> Nullable<Timestamp>,
        leased_by -> Nullable<Text>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(alert_audiences -> alerts (alert_id));
diesel::allow_tables_to_appear_in_same_query!(alerts, alert_audiences, alert_deliveries);

diesel::table! {
    request_replays (caller_sha256, idempotency_key) {
        caller_sha256 -> Binary,
        idempotency_key -> Text,
        request_sha256 -> Binary,
        response_status -> Integer,
        content_type -> Text,
        response_body -> Binary,
        created_at -> Timestamp,
    }
}

diesel::table! {
    lookups (id) {
        id -> Text,
        organization_id -> Text,
        fingerprint -> Binary,
        receivable_id -> Nullable<Text>,
        purchase_order_id -> Nullable<Text>,
        registered -> Bool,
        confirmed -> Bool,
        encumbered -> Bool,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(lookups, organizations, alerts);

diesel::table! {
    platform_identity (name) {
        name -> Text,
        value -> Binary,
        set_at -> Timestamp,
    }
}

diesel::table! {
    liveness (id) {
        id -> BigInt,
        probed_at -> Timestamp,
    }
}

diesel::table! {
    portal_sessions (id_sha256) {
        id_sha256 -> Binary,
        organization_id -> Text,
        risk_officer_id -> Nullable<Text>,
        api_key_id -> Text,
        api_key_secret_sha256 -> Binary,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        idle_expires_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(portal_sessions -> api_keys (api_key_id));
diesel::allow_tables_to_appear_in_same_query!(portal_sessions, api_keys);
diesel::allow_tables_to_appear_in_same_query!(portal_sessions, organizations);

diesel::table! {
    witness_cosignatures (tree_size, witness) {
        tree_size -> BigInt,
        witness -> Text,
        signature_line -> Text,
        witness_timestamp -> BigInt,
        received_at -> Timestamp,
    }
}

diesel::table! {
    witness_states (witness) {
        witness -> Text,
        cosigned_size -> Nullable<BigInt>,
        failures -> BigInt,
        last_error -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(witness_cosignatures -> ledger_tree_heads (tree_size));
diesel::allow_tables_to_appear_in_same_query!(witness_cosignatures, ledger_tree_heads);
