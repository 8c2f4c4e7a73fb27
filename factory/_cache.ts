/**
 * The factory's cache step: remote backends (Vault, AWS) are wrapped in
 * `withCache` by default, tuned by settings, with the optional encrypted
 * last-known-good snapshot in a file.
 *
 * Its settings (names, types, defaults) are rows of the one settings table,
 * `settings/table.ts` (what each means: `settings/meanings.ts`); the step
 * reads them parsed (`settingsOf`).
 *
 * @module
 */

import type { CachedSecretManager, CacheOptions } from "../cache/cached_manager.ts";
import { ConfigError } from "../core/errors.ts";
import type { SecretManager } from "../core/types.ts";
import type { Settings } from "../settings/parse.ts";
import { setting, settingsOf } from "./_settings.ts";
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
  /** `SECRET_CACHE_SNAPSHOT`, as given (`wrapWithCache` resolves it). */
  snapshotPath?: string;
}

/** The cache settings, from the parsed settings; a bad one is a `ConfigError` naming it (never its value). */
export function parseCacheSettings(settings: Settings): CacheSettings {
  const parsed: CacheSettings = {
    ttlMs: settings.SECRET_CACHE_TTL_MS,
    staleIfErrorMs: settings.SECRET_CACHE_STALE_MS,
    maxEntries: settings.SECRET_CACHE_MAX_ENTRIES,
    staleRetryMs: settings.SECRET_CACHE_STALE_RETRY_MS,
  };
  const snapshot = settings.SECRET_CACHE_SNAPSHOT;
  if (snapshot !== undefined) parsed.snapshotPath = snapshot;
  return parsed;
}

/**
 * Wraps `manager` in the cache the settings describe, or returns `undefined`
 * when `SECRET_CACHE_TTL_MS=0` turns the cache off. With `SECRET_CACHE_SNAPSHOT`, the key comes
 * from `KEYWARD_SNAPSHOT_KEY` or `KEYWARD_SNAPSHOT_KEY_FILE`; a key file at
 * the snapshot's path or in its directory is refused.
 */
export async function wrapWithCache(
  manager: SecretManager,
  settings: BackendSettings,
  opts: WrapWithCacheOptions = {},
): Promise<CachedSecretManager | undefined> {
  const parsed = parseCacheSettings(settingsOf(settings));
  if (parsed.ttlMs === 0) return undefined;
  // Loaded here, not at import: only remote backends are cached (issue 18).
  const { withCache } = await import("../cache/cached_manager.ts");
  const options: CacheOptions = {
    ttlMs: parsed.ttlMs,
    staleIfErrorMs: parsed.staleIfErrorMs,
    maxEntries: parsed.maxEntries,
    staleRetryMs: parsed.staleRetryMs,
    ...opts,
  };
  if (parsed.snapshotPath !== undefined) {
    // node:path loads here, not at import: a static node: import costs every
    // ./factory user several ms of start-up under Deno (issue 18).
    const path = await import("node:path");
    const snapshotPath = path.resolve(parsed.snapshotPath);
    const key = await snapshotKey(settings, snapshotPath, path);
    const [{ FileSnapshotStore }, { encryptedSnapshot }] = await Promise.all([
      import("../cache/file_snapshot_store.ts"),
      import("../cache/snapshot.ts"),
    ]);
    const store = new FileSnapshotStore(snapshotPath);
    options.snapshot = encryptedSnapshot({ store, key });
  }
  return withCache(manager, options);
}

async function snapshotKey(
  settings: BackendSettings,
  snapshotPath: string,
  { dirname, resolve }: typeof import("node:path"),
): Promise<Uint8Array> {
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
    // Loaded here, not at import: two modules fewer at `import ./factory` (issue 18).
    const { decodeKey } = await import("../core/_key.ts");
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
