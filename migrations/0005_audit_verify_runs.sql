-- The operator console (issue 17): each `secrets audit verify` run records
-- its result here (time, chains, rows, first problem), so the console shows
-- the last one. No row holds a value: counts, a problem's kind and sentence.
CREATE TABLE IF NOT EXISTS audit_verify_runs (
  id           bigserial PRIMARY KEY,
  ran_at       timestamptz NOT NULL,
  ok           boolean NOT NULL,
  chains       integer NOT NULL,
  rows_checked bigint NOT NULL,
  first_kind   text,
  first_detail text,
  ran_by       text NOT NULL
);
