/**
 * The contract every keyward backend and wrapper implements.
 *
 * @module
 */

/**
 * A rotation stage. `current` is what readers get by default, `pending` is a
 * version written during a rotation and not yet promoted, `previous` is the
 * version that was current before the last promotion (the rollback target).
 */
export type Stage = "current" | "pending" | "previous";

/**
 * Every stage, in the order they are usually shown.
 *
 * @example Showing which stages a secret has
 * ```ts
 * import { MemorySecretManager, STAGES } from "@keyward/secrets";
 *
 * const secrets = new MemorySecretManager({ initial: { "db/password": "pw-0123456789" } });
 * await secrets.setSecret("db/password", "pw-9876543210", { stage: "pending" });
 * const meta = await secrets.describeSecret("db/password");
 * const held = STAGES.filter((stage) => meta.versions.some((v) => v.stages.includes(stage)));
 * if (held.join(",") !== "current,pending") throw new Error(held.join(","));
 * ```
 */
export const STAGES: readonly Stage[] = ["current", "pending", "previous"];

/**
 * A secret's value: a string, or a record of string fields for credentials
 * that must change together (a key id and its secret).
 */
export type SecretValue = string | Record<string, string>;

/** Options of {@linkcode SecretManager.getSecret}. */
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

/** Options of {@linkcode SecretManager.setSecret}. */
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

/** Options of {@linkcode SecretManager.deleteSecret}. */
export interface DeleteOptions {
  /** Days before a scheduled deletion becomes final (AWS only: 7 to 30). */
  recoveryDays?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** Options that only carry a cancellation signal. */
export interface SignalOptions {
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** One version of a secret and the stages it holds. */
export interface SecretVersion {
  /** The secret's name (without namespace). */
  name: string;
  /** Opaque version id. */
  version: string;
  /** The stages this version holds; may be empty for an old version. */
  stages: Stage[];
  /** When the version was written. */
  createdAt: Date;
}

/** What a backend knows about a secret, never its value. */
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
 */
export interface SecretManager {
  /** Reads a secret's value (the current stage unless told otherwise). */
  getSecret(name: string, opts?: ReadOptions): Promise<string>;
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
  /** Releases resources; later calls are refused. */
  close(): Promise<void>;
}

/** How a caching wrapper served a read without the backend answering it. */
export type ServeSource = "cache" | "stale";

/**
 * Reported by a caching wrapper for every read it serves itself (`cache`: a
 * fresh hit; `stale`: the last good value served while the backend fails).
 * Reads the backend answers are seen by whatever wraps the backend.
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

/** Receives {@linkcode ServeEvent}s; called on the hot path, so it must not do I/O. */
export type ServeListener = (event: ServeEvent) => void;
