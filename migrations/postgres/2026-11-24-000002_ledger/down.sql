DROP TABLE ledger_tree_heads;
DROP TABLE ledger_nodes;
DROP TABLE ledger_sequence;
DROP TABLE ledger_queue;
DROP TABLE ledger_leaves;
DROP FUNCTION ledger_refuse_change();
