-- Audit through the endpoint (issue 16): an event an instance forwarded to
-- POST /v1/audit keeps the instance's id and its per-instance sequence
-- number, so the endpoint, after a restart, knows which of a resent batch
-- are already written (it takes max(origin_seq) per instance).
ALTER TABLE secret_access_log ADD COLUMN origin_instance text;
ALTER TABLE secret_access_log ADD COLUMN origin_seq bigint;
CREATE INDEX secret_access_log_origin ON secret_access_log (origin_instance, origin_seq)
  WHERE origin_instance IS NOT NULL;
