//! The witness's tables (`migrations/witness/`).

diesel::table! {
    cosigned_checkpoints (id) {
        id -> BigInt,
        origin -> Text,
        tree_size -> BigInt,
        root_hash -> Binary,
        note -> Text,
        cosignature -> Text,
        cosigned_at -> Timestamp,
    }
}

diesel::table! {
    mirrored_entries (entry_index) {
        entry_index -> BigInt,
        leaf_hash -> Binary,
        entry -> Binary,
        kind -> Text,
        fingerprint -> Nullable<Text>,
        subjects -> Text,
        time_micros -> BigInt,
        details -> Nullable<Text>,
    }
}

diesel::table! {
    mirrored_subjects (subject, entry_index) {
        subject -> Text,
        entry_index -> BigInt,
    }
}

diesel::table! {
    evidence (id) {
        id -> BigInt,
        origin -> Text,
        reason -> Text,
        note -> Text,
        old_size -> BigInt,
        proof -> Text,
        conflicting_note -> Nullable<Text>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        evidence_id -> BigInt,
        kind -> Text,
        recipient -> Text,
        message_id -> Text,
        subject -> Text,
        body -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(mirrored_subjects -> mirrored_entries (entry_index));
diesel::joinable!(outbox -> evidence (evidence_id));
diesel::allow_tables_to_appear_in_same_query!(
    cosigned_checkpoints,
    mirrored_entries,
    mirrored_subjects,
    evidence,
    outbox
);
