-- keyward rotation log, for the rotation engine: rotated_by is always set,
-- and the columns the engine needs to resume and schedule. No column can
-- hold a value: names, ids, dates, numbers and short codes only.
UPDATE secret_rotation_log SET rotated_by = 'unknown' WHERE rotated_by IS NULL;
ALTER TABLE secret_rotation_log ALTER COLUMN rotated_by SET NOT NULL;
ALTER TABLE secret_rotation_log ADD COLUMN rotator text NOT NULL DEFAULT '';
ALTER TABLE secret_rotation_log ADD COLUMN due_at timestamptz;
ALTER TABLE secret_rotation_log ADD COLUMN duration_ms integer;
ALTER TABLE secret_rotation_log ADD COLUMN grace_ms bigint;
ALTER TABLE secret_rotation_log ADD COLUMN delete_after_ms bigint;
ALTER TABLE secret_rotation_log ADD COLUMN error_code text;
CREATE INDEX secret_rotation_log_due ON secret_rotation_log (due_at) WHERE status = 'scheduled';
