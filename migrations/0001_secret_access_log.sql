-- keyward audit trail: one row per audited access (names, never values),
-- sealed into per-writer HMAC-SHA-256 chains.
CREATE TABLE secret_access_log (
  id           bigserial PRIMARY KEY,
  accessed_at  timestamptz NOT NULL,
  service      text NOT NULL,
  secret_name  text NOT NULL,
  action       text NOT NULL CHECK (action IN ('get', 'list', 'set', 'describe', 'promote', 'delete', 'rotate', 'dropped')),
  outcome      text NOT NULL CHECK (outcome IN ('ok', 'not_found', 'denied', 'error')),
  source       text NOT NULL CHECK (source IN ('backend', 'cache', 'stale')),
  backend      text,
  version      text,
  latency_ms   double precision NOT NULL DEFAULT 0,
  error_code   text,
  count        integer NOT NULL DEFAULT 1 CHECK (count > 0),
  chain_id     text NOT NULL,
  seq          bigint NOT NULL CHECK (seq > 0),
  prev_mac     text NOT NULL,
  mac          text NOT NULL,
  CONSTRAINT secret_access_log_chain_seq UNIQUE (chain_id, seq)
);

-- audit query --secret ... --since ...
CREATE INDEX secret_access_log_secret_time ON secret_access_log (secret_name, accessed_at);
-- audit query --service ... --since ...; audit stats per service
CREATE INDEX secret_access_log_service_time ON secret_access_log (service, accessed_at);
-- audit prune --older-than ...; audit query --since ...
CREATE INDEX secret_access_log_time ON secret_access_log (accessed_at);
-- audit stats: errors and stale serves
CREATE INDEX secret_access_log_problems ON secret_access_log (accessed_at)
  WHERE outcome <> 'ok' OR source = 'stale';

-- Where a pruned chain now starts: the last pruned row's seq and mac, sealed
-- under the audit key (anchor_mac), so verify trusts the first remaining row.
CREATE TABLE secret_access_log_anchor (
  chain_id       text PRIMARY KEY,
  seq            bigint NOT NULL,
  mac            text NOT NULL,
  pruned_before  timestamptz NOT NULL,
  anchor_mac     text NOT NULL,
  pruned_at      timestamptz NOT NULL DEFAULT now()
);
