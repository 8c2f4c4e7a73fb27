/**
 * Every setting keyward reads, in one typed table: its name, type, default,
 * the backend or feature that uses it, and whether its value is a
 * credential: what parsing needs, and nothing else. The factory parses the
 * environment against it once ({@linkcode parseSettings} in `./parse.ts`).
 * What each setting means lives apart, in `./meanings.ts`, which only the
 * docs generator imports: the prose never ships in the factory's start-up
 * code. The README's settings table and `.env.template`'s settings section
 * are generated from both (`deno task settings:generate`), and a test fails
 * when they drift.
 *
 * Adding a setting is two entries: its row here and its meaning in
 * `./meanings.ts` (tests/settings/settings_test.ts names a setting that
 * lacks either).
 *
 * The table is plain data (no I/O, no Deno or Node API), so the factory,
 * the CLI and the generator import it without pulling in any backend; it
 * is not part of `mod.ts`.
 *
 * @module
 */

// The cache's and the read deadline's defaults, as numbers here rather than
// imported: importing them from cache/cached_manager.ts and
// core/_backend_base.ts would load those modules (and theirs) at `import
// ./factory`, which only needs them once a remote backend is chosen (issue 18).
// tests/settings/settings_test.ts fails when these differ from the constants
// the library exports (DEFAULT_CACHE_*, DEFAULT_READ_DEADLINE_MS).
const DEFAULT_READ_DEADLINE_MS = 10_000;
const DEFAULT_CACHE_TTL_MS = 3_600_000;
const DEFAULT_CACHE_STALE_MS = 3_600_000;
const DEFAULT_CACHE_STALE_RETRY_MS = 5_000;
const DEFAULT_CACHE_MAX_ENTRIES = 1000;

/** The file store's path when `KEYWARD_FILE_PATH` is not set (relative to the working directory). */
export const DEFAULT_FILE_PATH = ".keyward/secrets.json";
/** Where Kubernetes mounts the service-account token (`VAULT_K8S_JWT_PATH`'s default). */
export const DEFAULT_K8S_JWT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/** The JSON-lines audit file when `SECRET_AUDIT_FILE` is not set. */
export const DEFAULT_AUDIT_FILE = ".keyward/audit.jsonl";
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
  /** See {@linkcode SettingKind}. */
  kind: SettingKind;
  /** The default as shown, when a backend (not the parse) applies it. */
  defaultNote?: string;
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
  },
  {
    name: "SECRET_NAMESPACE",
    feature: "all",
    type: "text",
    kind: "setting",
  },
  {
    name: "SECRET_FALLBACK",
    feature: "all",
    type: "choice",
    choices: ["env"],
    kind: "setting",
  },
  {
    name: "SECRET_READ_DEADLINE_MS",
    feature: "all",
    type: "integer",
    min: 0,
    default: DEFAULT_READ_DEADLINE_MS,
    unit: "ms",
    kind: "setting",
  },
  // --- file
  {
    name: "KEYWARD_FILE_PATH",
    feature: "file",
    type: "path",
    default: DEFAULT_FILE_PATH,
    kind: "setting",
  },
  {
    name: "KEYWARD_FILE_KEY_FILE",
    feature: "file",
    type: "path",
    kind: "setting",
  },
  {
    name: "KEYWARD_FILE_KEY",
    feature: "file",
    type: "text",
    kind: "credential",
  },
  // --- env
  {
    name: "KEYWARD_ENV_FILE",
    feature: "env",
    type: "path",
    kind: "setting",
  },
  {
    name: "KEYWARD_ENV_PREFIXES",
    feature: "env",
    type: "list",
    item: /^[A-Za-z_][A-Za-z0-9_]*$/,
    itemRule:
      "each prefix is the start of a variable name (letters, digits and '_', e.g. ALPACA_,DB_)",
    kind: "setting",
  },
  // --- vault
  {
    name: "VAULT_ADDR",
    feature: "vault",
    type: "url",
    kind: "setting",
  },
  {
    name: "VAULT_TOKEN",
    feature: "vault",
    type: "text",
    kind: "credential",
  },
  {
    name: "VAULT_ROLE_ID",
    feature: "vault",
    type: "text",
    kind: "setting",
  },
  {
    name: "VAULT_SECRET_ID",
    feature: "vault",
    type: "text",
    kind: "credential",
  },
  {
    name: "VAULT_APPROLE_MOUNT",
    feature: "vault",
    type: "text",
    defaultNote: "`approle`",
    kind: "setting",
  },
  {
    name: "VAULT_K8S_ROLE",
    feature: "vault",
    type: "text",
    kind: "setting",
  },
  {
    name: "VAULT_K8S_MOUNT",
    feature: "vault",
    type: "text",
    defaultNote: "`kubernetes`",
    kind: "setting",
  },
  {
    name: "VAULT_K8S_JWT_PATH",
    feature: "vault",
    type: "path",
    default: DEFAULT_K8S_JWT_PATH,
    kind: "setting",
  },
  {
    name: "VAULT_NAMESPACE",
    feature: "vault",
    type: "text",
    kind: "setting",
  },
  {
    name: "VAULT_MOUNT",
    feature: "vault",
    type: "text",
    defaultNote: "`secret`",
    kind: "setting",
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
  },
  // --- aws
  {
    name: "AWS_REGION",
    feature: "aws",
    type: "text",
    kind: "setting",
  },
  {
    name: "AWS_DEFAULT_REGION",
    feature: "aws",
    type: "text",
    kind: "setting",
  },
  {
    name: "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    feature: "aws",
    type: "url",
    kind: "setting",
  },
  {
    name: "AWS_ENDPOINT_URL",
    feature: "aws",
    type: "url",
    kind: "setting",
  },
  {
    name: "AWS_MAX_ATTEMPTS",
    feature: "aws",
    type: "integer",
    min: 1,
    max: 10,
    defaultNote: "3",
    kind: "setting",
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
  },
  {
    name: "SECRET_CACHE_STALE_MS",
    feature: "cache",
    type: "integer",
    min: 0,
    default: DEFAULT_CACHE_STALE_MS,
    unit: "ms",
    kind: "setting",
  },
  {
    name: "SECRET_CACHE_STALE_RETRY_MS",
    feature: "cache",
    type: "integer",
    min: 0,
    default: DEFAULT_CACHE_STALE_RETRY_MS,
    unit: "ms",
    kind: "setting",
  },
  {
    name: "SECRET_CACHE_MAX_ENTRIES",
    feature: "cache",
    type: "integer",
    min: 1,
    default: DEFAULT_CACHE_MAX_ENTRIES,
    kind: "setting",
  },
  {
    name: "SECRET_CACHE_SNAPSHOT",
    feature: "cache",
    type: "path",
    kind: "setting",
  },
  {
    name: "KEYWARD_SNAPSHOT_KEY_FILE",
    feature: "cache",
    type: "path",
    kind: "setting",
  },
  {
    name: "KEYWARD_SNAPSHOT_KEY",
    feature: "cache",
    type: "text",
    kind: "credential",
  },
  // --- rotation events
  {
    name: "SECRET_ROTATION_EVENTS",
    feature: "rotation",
    type: "choice",
    choices: ["off", "postgres", "endpoint"],
    default: "off",
    kind: "setting",
  },
  {
    name: "SECRET_ROTATION_DATABASE_SECRET",
    feature: "rotation",
    type: "text",
    kind: "secret-name",
  },
  // --- rotation engine
  {
    name: "KEYWARD_ROTATION_POLICY",
    feature: "rotate",
    type: "path",
    defaultNote: "`keyward.rotation.json`",
    kind: "setting",
  },
  {
    name: "SECRET_ROTATION_LOG",
    feature: "rotate",
    type: "choice",
    choices: ["file", "postgres"],
    default: "file",
    kind: "setting",
  },
  {
    name: "SECRET_ROTATION_LOG_FILE",
    feature: "rotate",
    type: "path",
    default: DEFAULT_ROTATION_LOG_FILE,
    kind: "setting",
  },
  {
    name: "SECRET_ROTATION_LOCK_DIR",
    feature: "rotate",
    type: "path",
    default: DEFAULT_ROTATION_LOCK_DIR,
    kind: "setting",
  },
  {
    name: "SECRET_ROTATION_LOG_DATABASE_SECRET",
    feature: "rotate",
    type: "text",
    kind: "secret-name",
  },
  // --- audit
  {
    name: "SECRET_AUDIT",
    feature: "audit",
    type: "choice",
    choices: ["off", "jsonl", "postgres", "endpoint"],
    default: "off",
    kind: "setting",
  },
  {
    name: "SECRET_AUDIT_SERVICE",
    feature: "audit",
    type: "text",
    kind: "setting",
  },
  {
    name: "SECRET_AUDIT_ON_FAILURE",
    feature: "audit",
    type: "choice",
    choices: ["warn", "fail"],
    default: "warn",
    kind: "setting",
  },
  {
    name: "SECRET_AUDIT_FILE",
    feature: "audit",
    type: "path",
    default: DEFAULT_AUDIT_FILE,
    kind: "setting",
  },
  {
    name: "SECRET_AUDIT_MAX_BYTES",
    feature: "audit",
    type: "integer",
    min: 1,
    unit: "bytes",
    defaultNote: "10485760 (10 MiB)",
    kind: "setting",
  },
  {
    name: "SECRET_AUDIT_MAX_FILES",
    feature: "audit",
    type: "integer",
    min: 1,
    defaultNote: "5",
    kind: "setting",
  },
  {
    name: "SECRET_AUDIT_KEY_SECRET",
    feature: "audit",
    type: "text",
    kind: "secret-name",
  },
  {
    name: "KEYWARD_AUDIT_KEY",
    feature: "audit",
    type: "text",
    kind: "credential",
  },
  {
    name: "SECRET_AUDIT_DATABASE_SECRET",
    feature: "audit",
    type: "text",
    kind: "secret-name",
  },
  {
    name: "SECRET_AUDIT_CHECKPOINT",
    feature: "audit",
    type: "path",
    kind: "setting",
  },
  {
    name: "DATABASE_URL",
    feature: "audit",
    type: "url",
    kind: "credential",
  },
  // --- the secrets endpoint
  {
    name: "KEYWARD_SERVER_HOST",
    feature: "server",
    type: "text",
    default: "127.0.0.1",
    kind: "setting",
  },
  {
    name: "KEYWARD_SERVER_PORT",
    feature: "server",
    type: "integer",
    min: 0,
    max: 65_535,
    default: DEFAULT_SERVER_PORT,
    kind: "setting",
  },
  {
    name: "KEYWARD_SERVER_TLS_CERT_FILE",
    feature: "server",
    type: "path",
    kind: "setting",
  },
  {
    name: "KEYWARD_SERVER_TLS_KEY_FILE",
    feature: "server",
    type: "path",
    kind: "setting",
  },
  {
    name: "KEYWARD_TOKENS_FILE",
    feature: "server",
    type: "path",
    default: DEFAULT_TOKENS_FILE,
    kind: "setting",
  },
  {
    name: "KEYWARD_SERVER_AUDIT_FILE",
    feature: "server",
    type: "path",
    default: DEFAULT_SERVER_AUDIT_FILE,
    kind: "setting",
  },
  {
    name: "KEYWARD_SERVER_RATE_PER_SECOND",
    feature: "server",
    type: "integer",
    min: 1,
    default: DEFAULT_SERVER_RATE_PER_SECOND,
    kind: "setting",
  },
  {
    name: "KEYWARD_CONSOLE",
    feature: "server",
    type: "choice",
    choices: ["off", "on"],
    default: "off",
    kind: "setting",
  },
  {
    name: "KEYWARD_CONSOLE_SESSION_KEY",
    feature: "server",
    type: "text",
    kind: "credential",
  },
  {
    name: "KEYWARD_SERVER_EVENTS",
    feature: "server",
    type: "choice",
    choices: ["off", "postgres"],
    default: "off",
    kind: "setting",
  },
  {
    name: "KEYWARD_SERVER_AUDIT_INGEST",
    feature: "server",
    type: "choice",
    choices: ["off", "postgres"],
    default: "off",
    kind: "setting",
  },
  {
    name: "KEYWARD_ENDPOINT_URL",
    feature: "server",
    type: "url",
    kind: "setting",
  },
  {
    name: "KEYWARD_ENDPOINT_TOKEN",
    feature: "server",
    type: "text",
    kind: "credential",
  },
] as const satisfies readonly SettingSpec[];

/** The name of every setting in {@linkcode SETTINGS}. */
export type SettingName = (typeof SETTINGS)[number]["name"];
