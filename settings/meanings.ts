/**
 * What each setting of the settings table (`./table.ts`) means, for the
 * docs: the README's settings table, `.env.template`'s settings section and
 * the guide's per-backend tables (`./docs.ts`, `deno task settings:generate`).
 * Only the generator and its tests import this module; the factory parses
 * with `./table.ts` alone, so none of this prose ships in its start-up code.
 *
 * Adding a setting is two entries: its row in `./table.ts` (name, type,
 * default, feature, kind) and its meaning here, under the same name.
 * `deno check` refuses a meaning for a name the table does not have or a
 * missing one, and tests/settings/settings_test.ts names the setting.
 *
 * @module
 */

import type { SettingFeature, SettingName } from "./table.ts";

/** Each feature's title and note, in the order the docs show them. */
export const FEATURES: Readonly<Record<SettingFeature, { title: string; note?: string }>> = {
  all: { title: "every backend" },
  file: { title: "file: the embedded encrypted store (development, single host)" },
  env: { title: "env: read-only, from the environment and an optional .env file" },
  vault: {
    title: "vault: HashiCorp Vault KV v2",
    note: "Exactly one way to authenticate: VAULT_TOKEN, AppRole or Kubernetes.",
  },
  aws: {
    title: "aws: AWS Secrets Manager",
    note: "Credentials come from the AWS SDK's default chain (instance or container role, SSO, " +
      "shared config, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), read by the SDK itself. " +
      "Do not put access keys here.",
  },
  cache: { title: "cache in front of vault and aws (on by default)" },
  rotation: { title: "rotation events (off by default; vault and aws, with the cache)" },
  rotate: {
    title: "rotation engine (`deno task rotate`, `deno task secrets rotation`)",
    note: "The policy, the rotation log and the locks of one rotation per secret at a time " +
      "(docs/RUNBOOKS/secret-rotation.md).",
  },
  audit: { title: "audit trail (off by default)" },
  server: {
    title: "the secrets endpoint (`deno task serve`, `./server`)",
    note: "A sidecar on loopback by default; a non-loopback host needs both TLS files " +
      "(docs/SERVER.md).",
  },
};

/**
 * What each setting means, one or two sentences of Markdown, by name, in
 * the table's order.
 */
export const MEANINGS: Readonly<Record<SettingName, string>> = {
  // --- all backends
  SECRET_BACKEND: "**required**: which backend; keyward has no default",
  SECRET_NAMESPACE: "prefixes every name (`prod` -> `prod/db/password`); listing never leaves it",
  SECRET_FALLBACK: "for a migration window: `env` serves a secret the backend does not hold " +
    "from the environment (and `.env`), with a warning and an audit event per read; " +
    "never on an access error or an outage (`deno task secrets check` lists them)",
  SECRET_READ_DEADLINE_MS:
    "one overall deadline per read, retries included, that the file, Vault and AWS " +
    "backends honour (0: none; the memory and env backends answer without I/O)",
  // --- file
  KEYWARD_FILE_PATH: "the store, **relative to the working directory**",
  KEYWARD_FILE_KEY_FILE: "the key as a file outside any git repository, mode 0600 " +
    "(`deno task secrets keygen --out <path>`); preferred over `KEYWARD_FILE_KEY`",
  KEYWARD_FILE_KEY: "instead of `KEYWARD_FILE_KEY_FILE`: the key, 32 bytes in base64 " +
    "(`deno task secrets keygen --stdout`), injected by the orchestrator",
  // --- env
  KEYWARD_ENV_FILE: "a `.env` file read besides the environment (the environment wins); " +
    "unset: `./.env` when it exists; `none`: no file",
  KEYWARD_ENV_PREFIXES: "comma-separated variable prefixes `list` covers (`ALPACA_,DB_`); " +
    "the rest of the environment is never listed",
  // --- vault
  VAULT_ADDR: "**required**: Vault's address, e.g. `https://vault.internal:8200`",
  VAULT_TOKEN:
    "token auth (dev, CI); exactly one way to authenticate: a token, AppRole or Kubernetes",
  VAULT_ROLE_ID: "AppRole auth instead, with `VAULT_SECRET_ID`",
  VAULT_SECRET_ID: "AppRole: the secret id",
  VAULT_APPROLE_MOUNT: "AppRole: the auth mount",
  VAULT_K8S_ROLE: "Kubernetes auth instead, with the pod's service-account token",
  VAULT_K8S_MOUNT: "Kubernetes: the auth mount",
  VAULT_K8S_JWT_PATH: "Kubernetes: the service-account token, read at each login",
  VAULT_NAMESPACE: "Vault Enterprise/HCP namespace, sent as `X-Vault-Namespace`",
  VAULT_MOUNT: "the KV v2 mount",
  VAULT_TIMEOUT_MS: "the timeout of each request",
  // --- aws
  AWS_REGION: "**required**: the Region, e.g. `eu-west-1`",
  AWS_DEFAULT_REGION: "read when `AWS_REGION` is not set",
  AWS_ENDPOINT_URL_SECRETS_MANAGER:
    "an endpoint replacing AWS's: moto locally, or a VPC interface endpoint",
  AWS_ENDPOINT_URL: "read when `AWS_ENDPOINT_URL_SECRETS_MANAGER` is not set",
  AWS_MAX_ATTEMPTS: "attempts per call",
  AWS_TIMEOUT_MS:
    "how long one AWS call attempt may wait for an answer (the backend's default: 5000)",
  // --- cache
  SECRET_CACHE_TTL_MS:
    "vault, aws: how long a value is served without I/O; `0` turns the cache off",
  SECRET_CACHE_STALE_MS:
    "how long past its expiry the last good value is served while the backend is " +
    "unreachable, times out or throttles (with a warning log and a `stale` audit event); `0` " +
    "never serves a stale value. A missing secret, a denial or invalid input always surface",
  SECRET_CACHE_STALE_RETRY_MS:
    "once a stale value has been served, how long further reads get it at once, " +
    "without waiting for the failing backend; then one read retries the backend while the " +
    "others keep getting the stale value. `0` makes every read wait for the backend",
  SECRET_CACHE_MAX_ENTRIES:
    "the most cached reads (one per name, stage, version and field); least recently " +
    "used evicted first",
  SECRET_CACHE_SNAPSHOT:
    "path of the encrypted last-known-good snapshot file, so an instance that restarts " +
    "during an outage can still start (off when unset)",
  KEYWARD_SNAPSHOT_KEY_FILE:
    "with `SECRET_CACHE_SNAPSHOT`: a file the orchestrator mounts holding the base64 " +
    "snapshot key, never in the snapshot's directory",
  KEYWARD_SNAPSHOT_KEY:
    "instead of `KEYWARD_SNAPSHOT_KEY_FILE`: the snapshot key, 32 random bytes in " +
    "base64 (`openssl rand -base64 32`)",
  // --- rotation events
  SECRET_ROTATION_EVENTS: "`postgres`: the cache (vault, aws) listens on LISTEN/NOTIFY channel " +
    "`keyward_rotation` (names only) and publishes what is written through it, so a " +
    "promotion reaches every running instance; `endpoint`: the same through the host's " +
    "endpoint (`GET /v1/events`, `POST /v1/events`; `KEYWARD_ENDPOINT_URL`, " +
    "`KEYWARD_ENDPOINT_TOKEN`), no Postgres connection of the instance's own",
  SECRET_ROTATION_DATABASE_SECRET:
    "the secret holding the connection (a URL or host/user/password/database fields), " +
    "read from the bare backend",
  // --- rotation engine
  KEYWARD_ROTATION_POLICY:
    "the rotation policy (JSON; `--policy` overrides it). Unset, a missing " +
    "`keyward.rotation.json` in the working directory is an empty policy; a file named here " +
    "must exist",
  SECRET_ROTATION_LOG:
    "where the rotation log and locks live: `file` (a JSON-lines file and lock files, " +
    "one host) or `postgres` (`secret_rotation_log` and advisory locks)",
  SECRET_ROTATION_LOG_FILE: "file: the rotation log, relative to the working directory",
  SECRET_ROTATION_LOCK_DIR:
    "file: the directory of the lock files (pid, host and start time, so a later run " +
    "can prove a dead holder's lock stale)",
  SECRET_ROTATION_LOG_DATABASE_SECRET:
    "postgres: the secret holding the log database's connection (a URL or " +
    "host/user/password/database fields), read through the manager; else `DATABASE_URL`",
  // --- audit
  SECRET_AUDIT: "`jsonl` (a size-rotated JSON-lines file), `postgres` (`secret_access_log`) or " +
    "`endpoint` (batches to the host's endpoint, `POST /v1/audit`, which writes them to " +
    "`secret_access_log`; `KEYWARD_ENDPOINT_URL`, `KEYWARD_ENDPOINT_TOKEN`)",
  SECRET_AUDIT_SERVICE: "the service name on every event (required when audit is on)",
  SECRET_AUDIT_ON_FAILURE:
    "`fail` refuses to serve a value that cannot be audited (the CLI's default); " +
    "`warn` serves it and reports on standard error, in the log and in the stats " +
    "(the library's default)",
  SECRET_AUDIT_FILE: "jsonl: the file, rotated by size",
  SECRET_AUDIT_MAX_BYTES: "jsonl: the size at which the file is rotated",
  SECRET_AUDIT_MAX_FILES: "jsonl: rotated files kept",
  SECRET_AUDIT_KEY_SECRET:
    "the secret holding the HMAC key that chains the events (base64, at least 32 " +
    "bytes), read from the bare backend; required for postgres unless `KEYWARD_AUDIT_KEY`",
  KEYWARD_AUDIT_KEY:
    "instead of `SECRET_AUDIT_KEY_SECRET`: the key itself, injected by the orchestrator",
  SECRET_AUDIT_DATABASE_SECRET:
    "postgres: the secret holding the connection (a URL or host/user/password/database " +
    "fields), read from the bare backend",
  SECRET_AUDIT_CHECKPOINT:
    "a file the chain heads are exported to on close, for `audit verify --checkpoint`",
  DATABASE_URL: "instead of a database secret, for local work and CI: the Postgres URL of the " +
    "audit trail, the rotation events, the rotation log, `secrets audit` and `db:migrate` (percent-encode " +
    "`/`, `?`, `#` and `%` in the password)",
  // --- the secrets endpoint
  KEYWARD_SERVER_HOST:
    "the address `deno task serve` binds; a non-loopback one is refused without both " +
    "TLS files",
  KEYWARD_SERVER_PORT: "the port (`0` picks a free one and prints it)",
  KEYWARD_SERVER_TLS_CERT_FILE:
    "the TLS certificate chain (PEM); set with `KEYWARD_SERVER_TLS_KEY_FILE`",
  KEYWARD_SERVER_TLS_KEY_FILE: "the TLS private key (PEM), a file the orchestrator mounts",
  KEYWARD_TOKENS_FILE:
    "the token file: SHA-256 hashes of the endpoint's tokens with their service, " +
    "prefixes, stages and roles (`deno task secrets token` create, list, revoke); re-read on " +
    "change",
  KEYWARD_SERVER_AUDIT_FILE:
    "the endpoint's JSON-lines audit, one event per request under the token's service " +
    "(HMAC-chained with `KEYWARD_AUDIT_KEY`)",
  KEYWARD_SERVER_RATE_PER_SECOND:
    "requests per second per token (a token's `ratePerSecond` overrides it); past it: 429 " +
    "with `Retry-After`",
  KEYWARD_CONSOLE:
    "`on`: the endpoint serves the operator console at `/console` (tokens with the " +
    "`operator` role sign in; it shows ages, rotations, reads and the audit chain, never a value)",
  KEYWARD_CONSOLE_SESSION_KEY:
    "the key (base64, 32 bytes or more) signing the console's session cookies; " +
    "unset: a random key per start (sessions end with a restart)",
  KEYWARD_SERVER_EVENTS:
    "`postgres`: the endpoint listens on `keyward_rotation` (one connection: " +
    "`SECRET_ROTATION_DATABASE_SECRET` or `DATABASE_URL`) and relays it on `GET /v1/events` " +
    "to tokens with the `events` role; `POST /v1/events` publishes",
  KEYWARD_SERVER_AUDIT_INGEST:
    "`postgres`: `POST /v1/audit` takes instances' audit batches (tokens with the " +
    "`audit-write` role) into `secret_access_log` (`SECRET_AUDIT_DATABASE_SECRET` or " +
    "`DATABASE_URL`), sealed under `KEYWARD_AUDIT_KEY`, each event once",
  KEYWARD_ENDPOINT_URL: "an instance's host endpoint, e.g. `http://127.0.0.1:8787`, for " +
    "`SECRET_ROTATION_EVENTS=endpoint` and `SECRET_AUDIT=endpoint`",
  KEYWARD_ENDPOINT_TOKEN:
    "the instance's bootstrap token for its endpoint (roles `events` and/or " +
    "`audit-write`; its service names the audit events)",
};

/**
 * Settings the docs describe before their code lands, by name: who
 * implements them (shown after the meaning).
 */
export const PENDING: Readonly<Partial<Record<SettingName, string>>> = {};
