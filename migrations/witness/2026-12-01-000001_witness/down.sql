DROP TABLE outbox;
DROP TABLE evidence;
DROP TABLE mirrored_subjects;
DROP TABLE mirrored_entries;
DROP TABLE cosigned_checkpoints;
