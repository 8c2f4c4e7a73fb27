-- keyward rotation log: one row per rotation step, grouped by rotation_id.
-- The first six columns are the seed's; the rest serve the rotation engine.
-- step:   create_pending, set_at_provider, test_pending, promote, verify,
--         deprecate_previous, schedule_deletion, rollback
-- status: started, succeeded, failed, skipped, rolled_back
CREATE TABLE secret_rotation_log (
  id                     bigserial PRIMARY KEY,
  secret_name            text NOT NULL,
  rotated_at             timestamptz NOT NULL DEFAULT now(),
  rotated_by             text,
  old_key_deprecated_at  timestamptz,
  notes                  text,
  rotation_id            uuid NOT NULL,
  step                   text NOT NULL,
  status                 text NOT NULL,
  from_version           text,
  to_version             text,
  scheduled_deletion_at  timestamptz
);

CREATE INDEX secret_rotation_log_rotation ON secret_rotation_log (rotation_id, id);
CREATE INDEX secret_rotation_log_secret_time ON secret_rotation_log (secret_name, rotated_at);
