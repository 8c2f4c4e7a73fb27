/**
 * The factory's cache step: remote backends (Vault, AWS) are wrapped in
 * `withCache` by default, tuned by settings, with the optional encrypted
 * last-known-good snapshot in a file.
 *
 * | setting | meaning |
 * |---|---|
 * | `SECRET_CACHE_TTL_MS` | how long a value is served without I/O (default 3600000; `0` turns the cache off) |
 * | `SECRET_CACHE_STALE_MS` | how long past expiry the last good value rides out an outage (default 3600000; `0`: never) |
 * | `SECRET_CACHE_MAX_ENTRIES` | the most cached reads, least recently used evicted first (default 1000) |
 * | `SECRET_CACHE_SNAPSHOT` | path of the encrypted snapshot file (off when unset) |
 * | `KEYWARD_SNAPSHOT_KEY` | the snapshot key: 32 random bytes in base64 (required with `SECRET_CACHE_SNAPSHOT`) |
 * | `KEYWARD_SNAPSHOT_KEY_FILE` | instead of `KEYWARD_SNAPSHOT_KEY`: a key file outside the snapshot's directory and any repository, owner-only (0600/0400), read as `readKeyFile()` reads the file store's key |
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { type CachedSecretManager, type CacheOptions, withCache } from "../cache/cached_manager.ts";
import { decodeKey } from "../core/_key.ts";
import { ConfigError } from "../core/errors.ts";
import type { SecretManager } from "../core/types.ts";
import { setting } from "./_settings.ts";
import type { BackendSettings } from "./_types.ts";

/** What the caller may add to the settings: a clock, an audit hook, rotation events. */
export type WrapWithCacheOptions = Pick<CacheOptions, "now" | "onServe" | "rotationEvents">;

/** The cache settings, parsed. */
export interface CacheSettings {
  /** `SECRET_CACHE_TTL_MS`; `0` means no cache. */
  ttlMs: number;
  /** `SECRET_CACHE_STALE_MS`. */
  staleIfErrorMs: number;
  /** `SECRET_CACHE_MAX_ENTRIES`. */
  maxEntries: number;
  /** `SECRET_CACHE_STALE_RETRY_MS`. */
  staleRetryMs: number;
  /** `SECRET_CACHE_SNAPSHOT`, resolved. */
  snapshotPath?: string;
}

/** Parses the cache settings; a bad one is a `ConfigError` naming it (never its value). */
export function parseCacheSettings(env: Record<string, string | undefined>): CacheSettings {
  const parsed: CacheSettings = {
    ttlMs: integerSetting(env, "SECRET_CACHE_TTL_MS", 3_600_000, 0),
    staleIfErrorMs: integerSetting(env, "SECRET_CACHE_STALE_MS", 3_600_000, 0),
    maxEntries: integerSetting(env, "SECRET_CACHE_MAX_ENTRIES", 1000, 1),
    staleRetryMs: integerSetting(env, "SECRET_CACHE_STALE_RETRY_MS", 5_000, 0),
  };
  const snapshot = setting(env, "SECRET_CACHE_SNAPSHOT");
  if (snapshot !== undefined) parsed.snapshotPath = resolve(snapshot);
  return parsed;
}

/**
 * Wraps `manager` in the cache the settings describe (or returns it as it is
 * when `SECRET_CACHE_TTL_MS=0`). With `SECRET_CACHE_SNAPSHOT`, the key comes
 * from `KEYWARD_SNAPSHOT_KEY` or `KEYWARD_SNAPSHOT_KEY_FILE`; a key file at
 * the snapshot's path or in its directory is refused.
 */
export async function wrapWithCache(
  manager: SecretManager,
  settings: BackendSettings,
  opts: WrapWithCacheOptions = {},
): Promise<SecretManager | CachedSecretManager> {
  const parsed = parseCacheSettings(settings.env);
  if (parsed.ttlMs === 0) return manager;
  const options: CacheOptions = {
    ttlMs: parsed.ttlMs,
    staleIfErrorMs: parsed.staleIfErrorMs,
    maxEntries: parsed.maxEntries,
    staleRetryMs: parsed.staleRetryMs,
    ...opts,
  };
  if (parsed.snapshotPath !== undefined) {
    const key = await snapshotKey(settings, parsed.snapshotPath);
    const [{ FileSnapshotStore }, { encryptedSnapshot }] = await Promise.all([
      import("../cache/file_snapshot_store.ts"),
      import("../cache/snapshot.ts"),
    ]);
    const store = new FileSnapshotStore(parsed.snapshotPath);
    options.snapshot = encryptedSnapshot({ store, key });
  }
  return withCache(manager, options);
}

async function snapshotKey(settings: BackendSettings, snapshotPath: string): Promise<Uint8Array> {
  const inline = setting(settings.env, "KEYWARD_SNAPSHOT_KEY");
  const file = setting(settings.env, "KEYWARD_SNAPSHOT_KEY_FILE");
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError("set KEYWARD_SNAPSHOT_KEY or KEYWARD_SNAPSHOT_KEY_FILE, not both");
  }
  if (inline === undefined && file === undefined) {
    throw new ConfigError(
      "SECRET_CACHE_SNAPSHOT is set but KEYWARD_SNAPSHOT_KEY is not; give the snapshot key " +
        "(32 random bytes, base64) from the environment or KEYWARD_SNAPSHOT_KEY_FILE",
    );
  }
  if (inline !== undefined) {
    if (resolve(inline) === snapshotPath) {
      throw new ConfigError(
        "KEYWARD_SNAPSHOT_KEY names the snapshot file itself; it must be the key (base64)",
      );
    }
    return decodeKey(inline, { source: "KEYWARD_SNAPSHOT_KEY" });
  }
  // The one key-file reader: symlinks resolved, owner-only mode, outside any
  // repository. "Beside" is checked on the given and on the resolved paths.
  const { readKeyFrom, resolveExisting } = await import("../backends/_key_file.ts");
  const keyPath = resolve(file!);
  const beside = (key: string, snap: string) => key === snap || dirname(key) === dirname(snap);
  if (
    beside(keyPath, snapshotPath) ||
    beside(await resolveExisting(keyPath), await resolveExisting(snapshotPath))
  ) {
    throw new ConfigError(
      "KEYWARD_SNAPSHOT_KEY_FILE lies beside SECRET_CACHE_SNAPSHOT; a snapshot must never be " +
        "keyed by a key stored beside it (mount the key elsewhere)",
    );
  }
  try {
    return await readKeyFrom(keyPath);
  } catch (err) {
    const why = err instanceof ConfigError ? err.message : "it cannot be read";
    throw new ConfigError(`KEYWARD_SNAPSHOT_KEY_FILE: ${why}`, { cause: err });
  }
}

function integerSetting(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
): number {
  const value = setting(env, name);
  if (value === undefined) return fallback;
  const n = /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new ConfigError(`${name} must be an integer of at least ${min}`);
  }
  return n;
}
