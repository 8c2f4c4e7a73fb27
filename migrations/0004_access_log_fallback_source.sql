-- SECRET_FALLBACK=env (issue 14): a read the environment served because the
-- backend does not hold the secret yet is recorded with source 'fallback'.
ALTER TABLE secret_access_log DROP CONSTRAINT secret_access_log_source_check;
ALTER TABLE secret_access_log
  ADD CONSTRAINT secret_access_log_source_check
  CHECK (source IN ('backend', 'cache', 'stale', 'fallback'));
