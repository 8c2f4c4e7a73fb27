/**
 * Every setting keyward reads, in one typed table: its name, type, default,
 * the backend or feature that uses it, what it means, and whether its value
 * is a credential. The factory parses the environment against it once
 * ({@linkcode parseSettings} in `./parse.ts`); the README's settings table
 * and `.env.template`'s settings section are generated from it
 * (`deno task settings:generate`), and a test fails when they drift.
 *
 * Adding a setting is one entry here.
 *
 * The table is plain data (no I/O, no Deno or Node API), so the factory,
 * the CLI and the generator import it without pulling in any backend; it
 * is not part of `mod.ts`.
 *
 * @module
 */

import { DEFAULT_READ_DEADLINE_MS } from "../core/_backend_base.ts";
import {
  DEFAULT_CACHE_MAX_ENTRIES,
  DEFAULT_CACHE_STALE_MS,
  DEFAULT_CACHE_STALE_RETRY_MS,
  DEFAULT_CACHE_TTL_MS,
} from "../cache/cached_manager.ts";

/** The file store's path when `KEYWARD_FILE_PATH` is not set (relative to the working directory). */
export const DEFAULT_FILE_PATH = ".keyward/secrets.json";
/** Where Kubernetes mounts the service-account token (`VAULT_K8S_JWT_PATH`'s default). */
export const DEFAULT_K8S_JWT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/** The JSON-lines audit file when `SECRET_AUDIT_FILE` is not set. */
export const DEFAULT_AUDIT_FILE = ".keyward/audit.jsonl";
export { DEFAULT_READ_DEADLINE_MS } from "../core/_backend_base.ts";
/** The rotation log when `SECRET_ROTATION_LOG=file` and `SECRET_ROTATION_LOG_FILE` is not set. */
export const DEFAULT_ROTATION_LOG_FILE = ".keyward/rotation.jsonl";
/** Where rotation lock files live when `SECRET_ROTATION_LOCK_DIR` is not set. */
export const DEFAULT_ROTATION_LOCK_DIR = ".keyward/rotation-locks";
/** The rotation policy when `KEYWARD_ROTATION_POLICY` is not set (in the working directory). */
export const DEFAULT_ROTATION_POLICY = "keyward.rotation.json";

/** The token file when `KEYWARD_TOKENS_FILE` is not set (relative to the working directory). */
export const DEFAULT_TOKENS_FILE = ".keyward/tokens.json";
/** The endpoint's own JSON-lines audit when `KEYWARD_SERVER_AUDIT_FILE` is not set. */
export const DEFAULT_SERVER_AUDIT_FILE = ".keyward/server-audit.jsonl";
/** The endpoint's port when `KEYWARD_SERVER_PORT` is not set. */
export const DEFAULT_SERVER_PORT = 8787;
/** Requests per second per token when `KEYWARD_SERVER_RATE_PER_SECOND` is not set. */
export const DEFAULT_SERVER_RATE_PER_SECOND = 50;

/** The values `SECRET_BACKEND` accepts, in the order error messages list them. */
export const BACKEND_CHOICES = ["file", "env", "memory", "vault", "aws"] as const;

/** The backend or feature a setting belongs to (the table's grouping). */
export type SettingFeature =
  | "all"
  | "file"
  | "env"
  | "vault"
  | "aws"
  | "cache"
  | "rotation"
  | "rotate"
  | "audit"
  | "server";

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
 * What a setting's value is:
 * - `setting`: plain configuration, fine in a committed `.env.template`;
 * - `secret-name`: the NAME of a secret read from the backend (never the value);
 * - `credential`: a bootstrap credential (it reaches the store, or holds a
 *   password): injected by the orchestrator, never committed, never logged.
 */
export type SettingKind = "setting" | "secret-name" | "credential";

interface Common {
  /** The variable's name. */
  name: string;
  /** The backend or feature that reads it. */
  feature: SettingFeature;
  /** What it means, one or two sentences of Markdown. */
  meaning: string;
  /** See {@linkcode SettingKind}. */
  kind: SettingKind;
  /** The default as shown, when a backend (not the parse) applies it. */
  defaultNote?: string;
  /** Who implements it, when the table documents a setting before its code lands. */
  pending?: string;
}

/** A free-form text setting (trimmed; empty counts as unset). */
export interface TextSpec extends Common {
  /** `text`, or `path`/`url` (documentation only; parsed as text). */
  type: "text" | "path" | "url";
  /** The value when unset. */
  default?: string;
}

/** A whole number of at least `min` (and at most `max`). */
export interface IntegerSpec extends Common {
  /** `integer`. */
  type: "integer";
  /** The smallest accepted value. */
  min: number;
  /** The largest accepted value. */
  max?: number;
  /** The value when unset (an exported constant, never a retyped literal). */
  default?: number;
  /** The unit, for the docs (`ms`, `bytes`, ...). */
  unit?: string;
}

/** One of a fixed set of words. */
export interface ChoiceSpec extends Common {
  /** `choice`. */
  type: "choice";
  /** The accepted words. */
  choices: readonly string[];
  /** The value when unset. */
  default?: string;
  /**
   * What a bad value is not (`"a backend"`): the error then shows a value
   * that looks like a word and says "is not a backend; choose one of".
   */
  noun?: string;
}

/** A comma-separated list, blanks dropped, each entry matching `item`. */
export interface ListSpec extends Common {
  /** `list`. */
  type: "list";
  /** The pattern each entry matches. */
  item: RegExp;
  /** The rule the error states for a bad entry. */
  itemRule: string;
}

/** One row of the table. */
export type SettingSpec = TextSpec | IntegerSpec | ChoiceSpec | ListSpec;

/** Every setting keyward reads, grouped by feature (the order the docs show). */
export const SETTINGS = [
  // --- all backends
  {
    name: "SECRET_BACKEND",
    feature: "all",
    type: "choice",
    choices: BACKEND_CHOICES,
    noun: "a backend",
    kind: "setting",
    meaning: "**required**: which backend; keyward has no default",
  },
  {
    name: "SECRET_NAMESPACE",
    feature: "all",
    type: "text",
    kind: "setting",
    meaning: "prefixes every name (`prod` -> `prod/db/password`); listing never leaves it",
  },
  {
    name: "SECRET_FALLBACK",
    feature: "all",
    type: "choice",
    choices: ["env"],
    kind: "setting",
    meaning: "for a migration window: `env` serves a secret the backend does not hold " +
      "from the environment (and `.env`), with a warning and an audit event per read; " +
      "never on an access error or an outage (`deno task secrets check` lists them)",
  },
  {
    name: "SECRET_READ_DEADLINE_MS",
    feature: "all",
    type: "integer",
    min: 0,
    default: DEFAULT_READ_DEADLINE_MS,
    unit: "ms",
    kind: "setting",
    meaning: "one overall deadline per read, retries included, that the file, Vault and AWS " +
      "backends honour (0: none; the memory and env backends answer without I/O)",
  },
  // --- file
  {
    name: "KEYWARD_FILE_PATH",
    feature: "file",
    type: "path",
    default: DEFAULT_FILE_PATH,
    kind: "setting",
    meaning: "the store, **relative to the working directory**",
  },
  {
    name: "KEYWARD_FILE_KEY_FILE",
    feature: "file",
    type: "path",
    kind: "setting",
    meaning: "the key as a file outside any git repository, mode 0600 " +
      "(`deno task secrets keygen --out <path>`); preferred over `KEYWARD_FILE_KEY`",
  },
  {
    name: "KEYWARD_FILE_KEY",
    feature: "file",
    type: "text",
    kind: "credential",
    meaning: "instead of `KEYWARD_FILE_KEY_FILE`: the key, 32 bytes in base64 " +
      "(`deno task secrets keygen --stdout`), injected by the orchestrator",
  },
  // --- env
  {
    name: "KEYWARD_ENV_FILE",
    feature: "env",
    type: "path",
    kind: "setting",
    meaning: "a `.env` file read besides the environment (the environment wins); " +
      "unset: `./.env` when it exists; `none`: no file",
  },
  {
    name: "KEYWARD_ENV_PREFIXES",
    feature: "env",
    type: "list",
    item: /^[A-Za-z_][A-Za-z0-9_]*$/,
    itemRule:
      "each prefix is the start of a variable name (letters, digits and '_', e.g. ALPACA_,DB_)",
    kind: "setting",
    meaning: "comma-separated variable prefixes `list` covers (`ALPACA_,DB_`); " +
      "the rest of the environment is never listed",
  },
  // --- vault
  {
    name: "VAULT_ADDR",
    feature: "vault",
    type: "url",
    kind: "setting",
    meaning: "**required**: Vault's address, e.g. `https://vault.internal:8200`",
  },
  {
    name: "VAULT_TOKEN",
    feature: "vault",
    type: "text",
    kind: "credential",
    meaning:
      "token auth (dev, CI); exactly one way to authenticate: a token, AppRole or Kubernetes",
  },
  {
    name: "VAULT_ROLE_ID",
    feature: "vault",
    type: "text",
    kind: "setting",
    meaning: "AppRole auth instead, with `VAULT_SECRET_ID`",
  },
  {
    name: "VAULT_SECRET_ID",
    feature: "vault",
    type: "text",
    kind: "credential",
    meaning: "AppRole: the secret id",
  },
  {
    name: "VAULT_APPROLE_MOUNT",
    feature: "vault",
    type: "text",
    defaultNote: "`approle`",
    kind: "setting",
    meaning: "AppRole: the auth mount",
  },
  {
    name: "VAULT_K8S_ROLE",
    feature: "vault",
    type: "text",
    kind: "setting",
    meaning: "Kubernetes auth instead, with the pod's service-account token",
  },
  {
    name: "VAULT_K8S_MOUNT",
    feature: "vault",
    type: "text",
    defaultNote: "`kubernetes`",
    kind: "setting",
    meaning: "Kubernetes: the auth mount",
  },
  {
    name: "VAULT_K8S_JWT_PATH",
    feature: "vault",
    type: "path",
    default: DEFAULT_K8S_JWT_PATH,
    kind: "setting",
    meaning: "Kubernetes: the service-account token, read at each login",
  },
  {
    name: "VAULT_NAMESPACE",
    feature: "vault",
    type: "text",
    kind: "setting",
    meaning: "Vault Enterprise/HCP namespace, sent as `X-Vault-Namespace`",
  },
  {
    name: "VAULT_MOUNT",
    feature: "vault",
    type: "text",
    defaultNote: "`secret`",
    kind: "setting",
    meaning: "the KV v2 mount",
  },
  {
    name: "VAULT_TIMEOUT_MS",
    feature: "vault",
    type: "integer",
    min: 1,
    max: 999_999_999,
    unit: "ms",
    defaultNote: "5000",
    kind: "setting",
    meaning: "the timeout of each request",
  },
  // --- aws
  {
    name: "AWS_REGION",
    feature: "aws",
    type: "text",
    kind: "setting",
    meaning: "**required**: the Region, e.g. `eu-west-1`",
  },
  {
    name: "AWS_DEFAULT_REGION",
    feature: "aws",
    type: "text",
    kind: "setting",
    meaning: "read when `AWS_REGION` is not set",
  },
  {
    name: "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    feature: "aws",
    type: "url",
    kind: "setting",
    meaning: "an endpoint replacing AWS's: moto locally, or a VPC interface endpoint",
  },
  {
    name: "AWS_ENDPOINT_URL",
    feature: "aws",
    type: "url",
    kind: "setting",
    meaning: "read when `AWS_ENDPOINT_URL_SECRETS_MANAGER` is not set",
  },
  {
    name: "AWS_MAX_ATTEMPTS",
    feature: "aws",
    type: "integer",
    min: 1,
    max: 10,
    defaultNote: "3",
    kind: "setting",
    meaning: "attempts per call",
  },
  {
    name: "AWS_TIMEOUT_MS",
    feature: "aws",
    type: "integer",
    min: 1,
    max: 600_000,
    unit: "ms",
    defaultNote: "5000",
    kind: "setting",
    meaning: "how long one AWS call attempt may wait for an answer (the backend's default: 5000)",
  },
  // --- cache
  {
    name: "SECRET_CACHE_TTL_MS",
    feature: "cache",
    type: "integer",
    min: 0,
    default: DEFAULT_CACHE_TTL_MS,
    unit: "ms",
    kind: "setting",
    meaning: "vault, aws: how long a value is served without I/O; `0` turns the cache off",
  },
  {
    name: "SECRET_CACHE_STALE_MS",
    feature: "cache",
    type: "integer",
    min: 0,
    default: DEFAULT_CACHE_STALE_MS,
    unit: "ms",
    kind: "setting",
    meaning: "how long past its expiry the last good value is served while the backend is " +
      "unreachable, times out or throttles (with a warning log and a `stale` audit event); `0` " +
      "never serves a stale value. A missing secret, a denial or invalid input always surface",
  },
  {
    name: "SECRET_CACHE_STALE_RETRY_MS",
    feature: "cache",
    type: "integer",
    min: 0,
    default: DEFAULT_CACHE_STALE_RETRY_MS,
    unit: "ms",
    kind: "setting",
    meaning: "once a stale value has been served, how long further reads get it at once, " +
      "without waiting for the failing backend; then one read retries the backend while the " +
      "others keep getting the stale value. `0` makes every read wait for the backend",
  },
  {
    name: "SECRET_CACHE_MAX_ENTRIES",
    feature: "cache",
    type: "integer",
    min: 1,
    default: DEFAULT_CACHE_MAX_ENTRIES,
    kind: "setting",
    meaning: "the most cached reads (one per name, stage, version and field); least recently " +
      "used evicted first",
  },
  {
    name: "SECRET_CACHE_SNAPSHOT",
    feature: "cache",
    type: "path",
    kind: "setting",
    meaning: "path of the encrypted last-known-good snapshot file, so an instance that restarts " +
      "during an outage can still start (off when unset)",
  },
  {
    name: "KEYWARD_SNAPSHOT_KEY_FILE",
    feature: "cache",
    type: "path",
    kind: "setting",
    meaning: "with `SECRET_CACHE_SNAPSHOT`: a file the orchestrator mounts holding the base64 " +
      "snapshot key, never in the snapshot's directory",
  },
  {
    name: "KEYWARD_SNAPSHOT_KEY",
    feature: "cache",
    type: "text",
    kind: "credential",
    meaning: "instead of `KEYWARD_SNAPSHOT_KEY_FILE`: the snapshot key, 32 random bytes in " +
      "base64 (`openssl rand -base64 32`)",
  },
  // --- rotation events
  {
    name: "SECRET_ROTATION_EVENTS",
    feature: "rotation",
    type: "choice",
    choices: ["off", "postgres", "endpoint"],
    default: "off",
    kind: "setting",
    meaning: "`postgres`: the cache (vault, aws) listens on LISTEN/NOTIFY channel " +
      "`keyward_rotation` (names only) and publishes what is written through it, so a " +
      "promotion reaches every running instance; `endpoint`: the same through the host's " +
      "endpoint (`GET /v1/events`, `POST /v1/events`; `KEYWARD_ENDPOINT_URL`, " +
      "`KEYWARD_ENDPOINT_TOKEN`), no Postgres connection of the instance's own",
  },
  {
    name: "SECRET_ROTATION_DATABASE_SECRET",
    feature: "rotation",
    type: "text",
    kind: "secret-name",
    meaning: "the secret holding the connection (a URL or host/user/password/database fields), " +
      "read from the bare backend",
  },
  // --- rotation engine
  {
    name: "KEYWARD_ROTATION_POLICY",
    feature: "rotate",
    type: "path",
    defaultNote: "`keyward.rotation.json`",
    kind: "setting",
    meaning: "the rotation policy (JSON; `--policy` overrides it). Unset, a missing " +
      "`keyward.rotation.json` in the working directory is an empty policy; a file named here " +
      "must exist",
  },
  {
    name: "SECRET_ROTATION_LOG",
    feature: "rotate",
    type: "choice",
    choices: ["file", "postgres"],
    default: "file",
    kind: "setting",
    meaning: "where the rotation log and locks live: `file` (a JSON-lines file and lock files, " +
      "one host) or `postgres` (`secret_rotation_log` and advisory locks)",
  },
  {
    name: "SECRET_ROTATION_LOG_FILE",
    feature: "rotate",
    type: "path",
    default: DEFAULT_ROTATION_LOG_FILE,
    kind: "setting",
    meaning: "file: the rotation log, relative to the working directory",
  },
  {
    name: "SECRET_ROTATION_LOCK_DIR",
    feature: "rotate",
    type: "path",
    default: DEFAULT_ROTATION_LOCK_DIR,
    kind: "setting",
    meaning: "file: the directory of the lock files (pid, host and start time, so a later run " +
      "can prove a dead holder's lock stale)",
  },
  {
    name: "SECRET_ROTATION_LOG_DATABASE_SECRET",
    feature: "rotate",
    type: "text",
    kind: "secret-name",
    meaning: "postgres: the secret holding the log database's connection (a URL or " +
      "host/user/password/database fields), read through the manager; else `DATABASE_URL`",
  },
  // --- audit
  {
    name: "SECRET_AUDIT",
    feature: "audit",
    type: "choice",
    choices: ["off", "jsonl", "postgres", "endpoint"],
    default: "off",
    kind: "setting",
    meaning: "`jsonl` (a size-rotated JSON-lines file), `postgres` (`secret_access_log`) or " +
      "`endpoint` (batches to the host's endpoint, `POST /v1/audit`, which writes them to " +
      "`secret_access_log`; `KEYWARD_ENDPOINT_URL`, `KEYWARD_ENDPOINT_TOKEN`)",
  },
  {
    name: "SECRET_AUDIT_SERVICE",
    feature: "audit",
    type: "text",
    kind: "setting",
    meaning: "the service name on every event (required when audit is on)",
  },
  {
    name: "SECRET_AUDIT_ON_FAILURE",
    feature: "audit",
    type: "choice",
    choices: ["warn", "fail"],
    default: "warn",
    kind: "setting",
    meaning: "`fail` refuses to serve a value that cannot be audited (the CLI's default); " +
      "`warn` serves it and reports on standard error, in the log and in the stats " +
      "(the library's default)",
  },
  {
    name: "SECRET_AUDIT_FILE",
    feature: "audit",
    type: "path",
    default: DEFAULT_AUDIT_FILE,
    kind: "setting",
    meaning: "jsonl: the file, rotated by size",
  },
  {
    name: "SECRET_AUDIT_MAX_BYTES",
    feature: "audit",
    type: "integer",
    min: 1,
    unit: "bytes",
    defaultNote: "10485760 (10 MiB)",
    kind: "setting",
    meaning: "jsonl: the size at which the file is rotated",
  },
  {
    name: "SECRET_AUDIT_MAX_FILES",
    feature: "audit",
    type: "integer",
    min: 1,
    defaultNote: "5",
    kind: "setting",
    meaning: "jsonl: rotated files kept",
  },
  {
    name: "SECRET_AUDIT_KEY_SECRET",
    feature: "audit",
    type: "text",
    kind: "secret-name",
    meaning: "the secret holding the HMAC key that chains the events (base64, at least 32 " +
      "bytes), read from the bare backend; required for postgres unless `KEYWARD_AUDIT_KEY`",
  },
  {
    name: "KEYWARD_AUDIT_KEY",
    feature: "audit",
    type: "text",
    kind: "credential",
    meaning: "instead of `SECRET_AUDIT_KEY_SECRET`: the key itself, injected by the orchestrator",
  },
  {
    name: "SECRET_AUDIT_DATABASE_SECRET",
    feature: "audit",
    type: "text",
    kind: "secret-name",
    meaning: "postgres: the secret holding the connection (a URL or host/user/password/database " +
      "fields), read from the bare backend",
  },
  {
    name: "SECRET_AUDIT_CHECKPOINT",
    feature: "audit",
    type: "path",
    kind: "setting",
    meaning: "a file the chain heads are exported to on close, for `audit verify --checkpoint`",
  },
  {
    name: "DATABASE_URL",
    feature: "audit",
    type: "url",
    kind: "credential",
    meaning: "instead of a database secret, for local work and CI: the Postgres URL of the " +
      "audit trail, the rotation events, the rotation log, `secrets audit` and `db:migrate` (percent-encode " +
      "`/`, `?`, `#` and `%` in the password)",
  },
  // --- the secrets endpoint
  {
    name: "KEYWARD_SERVER_HOST",
    feature: "server",
    type: "text",
    default: "127.0.0.1",
    kind: "setting",
    meaning: "the address `deno task serve` binds; a non-loopback one is refused without both " +
      "TLS files",
  },
  {
    name: "KEYWARD_SERVER_PORT",
    feature: "server",
    type: "integer",
    min: 0,
    max: 65_535,
    default: DEFAULT_SERVER_PORT,
    kind: "setting",
    meaning: "the port (`0` picks a free one and prints it)",
  },
  {
    name: "KEYWARD_SERVER_TLS_CERT_FILE",
    feature: "server",
    type: "path",
    kind: "setting",
    meaning: "the TLS certificate chain (PEM); set with `KEYWARD_SERVER_TLS_KEY_FILE`",
  },
  {
    name: "KEYWARD_SERVER_TLS_KEY_FILE",
    feature: "server",
    type: "path",
    kind: "setting",
    meaning: "the TLS private key (PEM), a file the orchestrator mounts",
  },
  {
    name: "KEYWARD_TOKENS_FILE",
    feature: "server",
    type: "path",
    default: DEFAULT_TOKENS_FILE,
    kind: "setting",
    meaning: "the token file: SHA-256 hashes of the endpoint's tokens with their service, " +
      "prefixes, stages and roles (`deno task secrets token` create, list, revoke); re-read on " +
      "change",
  },
  {
    name: "KEYWARD_SERVER_AUDIT_FILE",
    feature: "server",
    type: "path",
    default: DEFAULT_SERVER_AUDIT_FILE,
    kind: "setting",
    meaning: "the endpoint's JSON-lines audit, one event per request under the token's service " +
      "(HMAC-chained with `KEYWARD_AUDIT_KEY`)",
  },
  {
    name: "KEYWARD_SERVER_RATE_PER_SECOND",
    feature: "server",
    type: "integer",
    min: 1,
    default: DEFAULT_SERVER_RATE_PER_SECOND,
    kind: "setting",
    meaning:
      "requests per second per token (a token's `ratePerSecond` overrides it); past it: 429 " +
      "with `Retry-After`",
  },
  {
    name: "KEYWARD_CONSOLE",
    feature: "server",
    type: "choice",
    choices: ["off", "on"],
    default: "off",
    kind: "setting",
    meaning: "`on`: the endpoint serves the operator console at `/console` (tokens with the " +
      "`operator` role sign in; it shows ages, rotations, reads and the audit chain, never a value)",
  },
  {
    name: "KEYWARD_CONSOLE_SESSION_KEY",
    feature: "server",
    type: "text",
    kind: "credential",
    meaning: "the key (base64, 32 bytes or more) signing the console's session cookies; " +
      "unset: a random key per start (sessions end with a restart)",
  },
  {
    name: "KEYWARD_SERVER_EVENTS",
    feature: "server",
    type: "choice",
    choices: ["off", "postgres"],
    default: "off",
    kind: "setting",
    meaning: "`postgres`: the endpoint listens on `keyward_rotation` (one connection: " +
      "`SECRET_ROTATION_DATABASE_SECRET` or `DATABASE_URL`) and relays it on `GET /v1/events` " +
      "to tokens with the `events` role; `POST /v1/events` publishes",
  },
  {
    name: "KEYWARD_SERVER_AUDIT_INGEST",
    feature: "server",
    type: "choice",
    choices: ["off", "postgres"],
    default: "off",
    kind: "setting",
    meaning: "`postgres`: `POST /v1/audit` takes instances' audit batches (tokens with the " +
      "`audit-write` role) into `secret_access_log` (`SECRET_AUDIT_DATABASE_SECRET` or " +
      "`DATABASE_URL`), sealed under `KEYWARD_AUDIT_KEY`, each event once",
  },
  {
    name: "KEYWARD_ENDPOINT_URL",
    feature: "server",
    type: "url",
    kind: "setting",
    meaning: "an instance's host endpoint, e.g. `http://127.0.0.1:8787`, for " +
      "`SECRET_ROTATION_EVENTS=endpoint` and `SECRET_AUDIT=endpoint`",
  },
  {
    name: "KEYWARD_ENDPOINT_TOKEN",
    feature: "server",
    type: "text",
    kind: "credential",
    meaning: "the instance's bootstrap token for its endpoint (roles `events` and/or " +
      "`audit-write`; its service names the audit events)",
  },
] as const satisfies readonly SettingSpec[];

/** The name of every setting in {@linkcode SETTINGS}. */
export type SettingName = (typeof SETTINGS)[number]["name"];
