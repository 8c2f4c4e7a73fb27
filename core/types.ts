/**
 * The contract every keyward backend and wrapper implements. Types only (the
 * constants live in `./names.ts`), so that no module loads this one at run
 * time: under Deno every module loaded at start-up costs time (issue 18).
 *
 * @module
 */

/**
 * A rotation stage. `current` is what readers get by default, `pending` is a
 * version written during a rotation and not yet promoted, `previous` is the
 * version that was current before the last promotion (the rollback target).
 *
 * @example A rotation, stage by stage
 * ```ts
 * import { MemorySecretManager } from "@keyward/secrets";
 *
 * const secrets = new MemorySecretManager({ initial: { "db/password": "pw-old-0123456" } });
 * const next = await secrets.setSecret("db/password", "pw-new-0123456", { stage: "pending" });
 * await secrets.promote("db/password", next.version);
 * if (await secrets.getSecret("db/password") !== "pw-new-0123456") throw new Error();
 * if (await secrets.getSecret("db/password", { stage: "previous" }) !== "pw-old-0123456") {
 *   throw new Error();
 * }
 * ```
 */
export type Stage = "current" | "pending" | "previous";

/**
 * A secret's value: a string, or a record of string fields for credentials
 * that must change together (a key id and its secret).
 *
 * @example A field secret read whole or one field at a time
 * ```ts
 * import { MemorySecretManager, type SecretValue } from "@keyward/secrets";
 *
 * const login: SecretValue = { user: "app", password: "pw-0123456789" };
 * const secrets = new MemorySecretManager();
 * await secrets.setSecret("db/login", login);
 * if (await secrets.getSecret("db/login", { field: "user" }) !== "app") throw new Error();
 * const whole = JSON.parse(await secrets.getSecret("db/login"));
 * if (whole.password !== "pw-0123456789") throw new Error();
 * ```
 */
export type SecretValue = string | Record<string, string>;

/**
 * Options of {@linkcode SecretManager.getSecret}.
 *
 * @example
 * ```ts
 * import { MemorySecretManager, type ReadOptions } from "@keyward/secrets";
 *
 * const login = { user: "app", password: "pw-0123456789" };
 * const secrets = new MemorySecretManager({ initial: { "db/login": login } });
 * const opts: ReadOptions = { field: "user", signal: AbortSignal.timeout(5_000) };
 * if (await secrets.getSecret("db/login", opts) !== "app") throw new Error();
 * ```
 */
export interface ReadOptions {
  /**
   * The stage to read.
   * @default {"current"}
   */
  stage?: Stage;
  /** A specific version id (opaque string); wins over `stage` when both are given and agree. */
  version?: string;
  /** Read one field of a field secret. */
  field?: string;
  /** Skip any cache in front of the backend for this call. */
  forceFetch?: boolean;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * Options of {@linkcode SecretManager.setSecret}.
 *
 * @example A write that loses to a concurrent writer is refused
 * ```ts
 * import { MemorySecretManager, SecretConflictError } from "@keyward/secrets";
 *
 * const secrets = new MemorySecretManager();
 * const v1 = await secrets.setSecret("api/token", "tok-0000000001");
 * await secrets.setSecret("api/token", "tok-0000000002"); // someone else wrote meanwhile
 * try {
 *   await secrets.setSecret("api/token", "tok-0000000003", { ifVersion: v1.version });
 *   throw new Error("a stale write was accepted");
 * } catch (err) {
 *   if (!(err instanceof SecretConflictError)) throw err;
 * }
 * ```
 */
export interface WriteOptions {
  /**
   * `current` writes a new current version; `pending` writes the version a
   * rotation will promote (the secret must exist).
   * @default {"current"}
   */
  stage?: "current" | "pending";
  /** Refuse the write with `SecretConflictError` unless `current` is this version. */
  ifVersion?: string;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * Options of {@linkcode SecretManager.deleteSecret}.
 *
 * @example `recoveryDays` is refused where deletion is immediate
 * ```ts
 * import { MemorySecretManager, UnsupportedOperationError } from "@keyward/secrets";
 *
 * const secrets = new MemorySecretManager({ initial: { "old/token": "tok-0123456789" } });
 * try {
 *   await secrets.deleteSecret("old/token", { recoveryDays: 7 }); // AWS only
 *   throw new Error("accepted");
 * } catch (err) {
 *   if (!(err instanceof UnsupportedOperationError)) throw err;
 * }
 * await secrets.deleteSecret("old/token", { signal: AbortSignal.timeout(5_000) });
 * if ((await secrets.listSecrets("old/")).length !== 0) throw new Error();
 * ```
 */
export interface DeleteOptions {
  /** Days before a scheduled deletion becomes final (AWS only: 7 to 30). */
  recoveryDays?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * Options that only carry a cancellation signal.
 *
 * @example A call cancelled before it starts
 * ```ts
 * import { MemorySecretManager } from "@keyward/secrets";
 *
 * const controller = new AbortController();
 * controller.abort();
 * const listed = await new MemorySecretManager().listSecrets("", { signal: controller.signal })
 *   .then(() => true, () => false);
 * if (listed) throw new Error("an aborted call went through");
 * ```
 */
export interface SignalOptions {
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * One version of a secret and the stages it holds.
 *
 * @example What a write returns
 * ```ts
 * import { MemorySecretManager } from "@keyward/secrets";
 *
 * const written = await new MemorySecretManager().setSecret("api/token", "tok-0123456789");
 * if (written.name !== "api/token" || written.stages.join() !== "current") throw new Error();
 * if (typeof written.version !== "string") throw new Error();
 * if (!(written.createdAt instanceof Date)) throw new Error();
 * ```
 */
export interface SecretVersion {
  /** The secret's name (without namespace). */
  name: string;
  /** Opaque version id. */
  version: string;
  /** The stages this version holds; may be empty for an old version. */
  stages: Stage[];
  /** When the version was written. */
  createdAt: Date;
  /** When the version was marked deprecated by {@linkcode SecretManager.deprecateVersion}. */
  deprecatedAt?: Date;
}

/**
 * What a version-aware read returns. `version` is the id a read of that
 * stage reports (on Vault, a promoted `pending:<n>` reads back as the KV
 * version number). `stage`: the stage asked for, or for a read by version
 * the stage that version holds now, if any.
 *
 * @example Learning the id of the version just promoted
 * ```ts
 * import { MemorySecretManager, type SecretRead } from "@keyward/secrets";
 *
 * const secrets = new MemorySecretManager({ initial: { "api/token": "tok-old-0123456" } });
 * const next = await secrets.setSecret("api/token", "tok-new-0123456", { stage: "pending" });
 * await secrets.promote("api/token", next.version);
 * const read: SecretRead = await secrets.readSecret("api/token");
 * if (read.value !== "tok-new-0123456" || read.stage !== "current") throw new Error();
 * const meta = await secrets.describeSecret("api/token");
 * const current = meta.versions.find((v) => v.stages.includes("current"));
 * if (current?.version !== read.version) throw new Error("the read reports the current id");
 * ```
 */
export interface SecretRead {
  /** The value (one field's value when `field` was asked for). */
  value: string;
  /** The id of the version read, as {@linkcode SecretManager.describeSecret} reports it. */
  version: string;
  /** The stage asked for, or the stage the version read holds now, if any. */
  stage?: Stage;
}

/**
 * What a backend knows about a secret, never its value.
 *
 * @example
 * ```ts
 * import { MemorySecretManager } from "@keyward/secrets";
 *
 * const secrets = new MemorySecretManager({ initial: { "db/password": "pw-0123456789" } });
 * await secrets.setSecret("db/password", "pw-9876543210");
 * const meta = await secrets.describeSecret("db/password");
 * if (meta.backend !== "memory" || meta.versions.length !== 2) throw new Error();
 * if (JSON.stringify(meta).includes("pw-")) throw new Error("metadata holds no value");
 * ```
 */
export interface SecretMetadata {
  /** The secret's name (without namespace). */
  name: string;
  /** The backend's short name (`memory`, `file`, `env`, `vault`, `aws`). */
  backend: string;
  /** Known versions, oldest first. */
  versions: SecretVersion[];
  /** When the secret was first written. */
  createdAt?: Date;
  /** When the secret last changed. */
  updatedAt?: Date;
  /** When the previous credential was deprecated by a rotation. */
  deprecatedAt?: Date;
  /** When a scheduled deletion becomes final. */
  deletionScheduledAt?: Date;
}

/**
 * One interface over every secrets backend.
 *
 * @example Reading a secret from the memory backend
 * ```ts
 * import { MemorySecretManager, type SecretManager } from "@keyward/secrets";
 *
 * const secrets: SecretManager = new MemorySecretManager();
 * await secrets.setSecret("alpaca/api_key_id", "PKTEST00000000000000");
 * const key = await secrets.getSecret("alpaca/api_key_id");
 * if (key !== "PKTEST00000000000000") throw new Error("unexpected");
 * await secrets.close();
 * ```
 *
 * @example Retiring the previous version after a rotation
 * ```ts
 * import { MemorySecretManager, SecretConflictError } from "@keyward/secrets";
 *
 * const secrets = new MemorySecretManager({ initial: { "api/token": "tok-old-0123456" } });
 * const old = await secrets.readSecret("api/token");
 * const next = await secrets.setSecret("api/token", "tok-new-0123456", { stage: "pending" });
 * await secrets.promote("api/token", next.version);
 * const current = await secrets.readSecret("api/token");
 * try {
 *   await secrets.deprecateVersion("api/token", current.version);
 *   throw new Error("the current version was deprecated");
 * } catch (err) {
 *   if (!(err instanceof SecretConflictError)) throw err;
 * }
 * await secrets.deprecateVersion("api/token", old.version); // after the grace period
 * const meta = await secrets.describeSecret("api/token");
 * if (!meta.versions.find((v) => v.version === old.version)?.deprecatedAt) throw new Error();
 * await secrets.destroyVersion("api/token", old.version); // days later
 * const gone = await secrets.getSecret("api/token", { version: old.version }).then(() => false, () => true);
 * if (!gone) throw new Error("a destroyed version was read");
 * ```
 */
export interface SecretManager {
  /** Reads a secret's value (the current stage unless told otherwise). */
  getSecret(name: string, opts?: ReadOptions): Promise<string>;
  /**
   * Reads a secret's value with the id of the version it came from (the
   * current stage unless told otherwise); the same checks and errors as
   * {@linkcode SecretManager.getSecret}.
   */
  readSecret(name: string, opts?: ReadOptions): Promise<SecretRead>;
  /** Lists secret names starting with `prefix`, sorted. */
  listSecrets(prefix?: string, opts?: SignalOptions): Promise<string[]>;
  /** Writes a new version. */
  setSecret(name: string, value: SecretValue, opts?: WriteOptions): Promise<SecretVersion>;
  /** Describes a secret's versions and dates, never its value. */
  describeSecret(name: string, opts?: SignalOptions): Promise<SecretMetadata>;
  /** Makes `version` current; the old current becomes previous. */
  promote(name: string, version: string, opts?: SignalOptions): Promise<SecretVersion>;
  /** Deletes a secret (scheduled where the backend supports recovery). */
  deleteSecret(name: string, opts?: DeleteOptions): Promise<void>;
  /**
   * Marks one version deprecated: {@linkcode SecretManager.describeSecret}
   * then reports `deprecatedAt` on that version. Marking it again keeps the
   * first date. The value stays readable by version until it is destroyed.
   * Refuses the version that is `current` with `SecretConflictError` (promote
   * another version first); an unknown version is `SecretNotFoundError`; the
   * env backend answers `UnsupportedOperationError`.
   */
  deprecateVersion(name: string, version: string, opts?: SignalOptions): Promise<void>;
  /**
   * Destroys one version's value for good: a later read of that version is
   * `SecretNotFoundError`. Refuses the version that is `current` with
   * `SecretConflictError`; the env backend answers `UnsupportedOperationError`.
   * On AWS the version loses every staging label and AWS removes it itself.
   */
  destroyVersion(name: string, version: string, opts?: SignalOptions): Promise<void>;
  /** Releases resources; later calls are refused. */
  close(): Promise<void>;
}

/**
 * How a caching wrapper served a read without the backend answering it.
 *
 * @example
 * ```ts
 * import type { ServeSource } from "@keyward/secrets";
 *
 * const label = (s: ServeSource): string => s === "stale" ? "stale (backend down)" : "cache hit";
 * if (label("stale") !== "stale (backend down)") throw new Error();
 * ```
 */
export type ServeSource = "cache" | "stale";

/**
 * Reported by a caching wrapper for every read it serves itself (`cache`: a
 * fresh hit; `stale`: the last good value served while the backend fails).
 * Reads the backend answers are seen by whatever wraps the backend.
 *
 * @example Counting cache hits per secret
 * ```ts
 * import { MemorySecretManager, type ServeEvent, withCache } from "@keyward/secrets";
 *
 * const served: ServeEvent[] = [];
 * const backend = new MemorySecretManager({ initial: { "db/password": "pw-0123456789" } });
 * const secrets = withCache(backend, { onServe: (event) => served.push(event) });
 * await secrets.getSecret("db/password"); // the backend answers
 * await secrets.getSecret("db/password"); // the cache answers
 * if (served.length !== 1 || served[0].name !== "db/password" || served[0].source !== "cache") {
 *   throw new Error();
 * }
 * await secrets.close();
 * ```
 */
export interface ServeEvent {
  /** The secret's name. */
  name: string;
  /** How it was served. */
  source: ServeSource;
  /** The stage asked for, if any. */
  stage?: Stage;
  /** The version asked for, if any. */
  version?: string;
  /** The field asked for, if any. */
  field?: string;
}

/**
 * Receives {@linkcode ServeEvent}s; called on the hot path, so it must not do I/O.
 *
 * @example A listener that only counts
 * ```ts
 * import type { ServeListener } from "@keyward/secrets";
 *
 * const counts = new Map<string, number>();
 * const onServe: ServeListener = ({ name }) => void counts.set(name, (counts.get(name) ?? 0) + 1);
 * onServe({ name: "db/password", source: "cache" });
 * if (counts.get("db/password") !== 1) throw new Error();
 * ```
 */
export type ServeListener = (event: ServeEvent) => void;
