/**
 * The last-known-good snapshot: {@linkcode encryptedSnapshot} builds what
 * `withCache({ snapshot })` takes, and a {@linkcode SnapshotStore} is where
 * its encrypted bytes live. It encrypts before it writes and decrypts after
 * it reads, so a store only ever sees ciphertext. Only an application that
 * keeps a snapshot imports `encryptedSnapshot`, so an edge bundle without one
 * carries none of the snapshot code.
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";
import { keywardLogger } from "../core/log.ts";
import type { Stage } from "../core/types.ts";
import {
  checkSnapshotKey,
  importSnapshotKey,
  openSnapshot,
  sealSnapshot,
} from "./_snapshot_codec.ts";

/**
 * Holds one encrypted snapshot. `read()` resolves to `null` when there is
 * none yet. A store sees ciphertext only.
 *
 * @example A store of your own (here a `Map`; a KV namespace or an object store in practice)
 * ```ts
 * import { encryptedSnapshot, MemorySecretManager, type SnapshotStore, withCache } from "@keyward/secrets";
 *
 * const kv = new Map<string, Uint8Array>();
 * const store: SnapshotStore = {
 *   read: () => Promise.resolve(kv.get("snapshot") ?? null),
 *   write: (data) => Promise.resolve(void kv.set("snapshot", data.slice())),
 * };
 * const key = crypto.getRandomValues(new Uint8Array(32));
 * const secrets = withCache(new MemorySecretManager({ initial: { "db/password": "pw-0001" } }), {
 *   snapshot: encryptedSnapshot({ store, key }),
 * });
 * await secrets.getSecret("db/password");
 * await secrets.close();
 * const bytes = kv.get("snapshot");
 * if (bytes === undefined || new TextDecoder().decode(bytes).includes("pw-0001")) throw new Error();
 * ```
 */
export interface SnapshotStore {
  /** The last snapshot written, or `null`. */
  read(): Promise<Uint8Array | null>;
  /** Replaces the snapshot (atomically where the medium allows). */
  write(data: Uint8Array): Promise<void>;
}

/**
 * Options of {@linkcode encryptedSnapshot}.
 *
 * @example A restarted instance rides out an outage with the snapshot
 * ```ts
 * import { encryptedSnapshot, MemorySecretManager, MemorySnapshotStore, withCache } from "@keyward/secrets";
 * import { FaultyManager } from "@keyward/secrets/testing";
 *
 * const store = new MemorySnapshotStore();
 * const key = crypto.getRandomValues(new Uint8Array(32)); // from KEYWARD_SNAPSHOT_KEY in production
 * const backend = new FaultyManager(new MemorySecretManager({ initial: { "db/password": "pw-0001" } }));
 *
 * const first = withCache(backend, { snapshot: encryptedSnapshot({ store, key }) });
 * await first.getSecret("db/password");
 * await first.close(); // the snapshot is written
 *
 * backend.fault = "down";
 * const restarted = withCache(backend, { snapshot: encryptedSnapshot({ store, key }) });
 * if (await restarted.getSecret("db/password") !== "pw-0001") throw new Error();
 * await restarted.close();
 * ```
 */
export interface SnapshotOptions {
  /** Where the encrypted snapshot lives. */
  store: SnapshotStore;
  /**
   * The 32-byte AES-256-GCM key (`KEYWARD_SNAPSHOT_KEY`, base64). It must come
   * from the environment or a file the orchestrator mounts, never from a place
   * beside the snapshot: a snapshot whose bytes hold its own key is refused.
   */
  key: Uint8Array;
}

/**
 * A {@linkcode SnapshotStore} in memory: for tests and for runtimes with no
 * file system (it survives a cache instance, not a process).
 *
 * @example
 * ```ts
 * import { MemorySnapshotStore } from "@keyward/secrets";
 *
 * const store = new MemorySnapshotStore();
 * if (await store.read() !== null) throw new Error();
 * await store.write(new Uint8Array([1, 2, 3]));
 * if ((await store.read())?.length !== 3) throw new Error();
 * ```
 */
export class MemorySnapshotStore implements SnapshotStore {
  #data: Uint8Array | null = null;
  /** How many times the snapshot was written. */
  writes = 0;

  /** {@inheritDoc SnapshotStore.read} */
  read(): Promise<Uint8Array | null> {
    return Promise.resolve(this.#data === null ? null : this.#data.slice());
  }

  /** {@inheritDoc SnapshotStore.write} */
  write(data: Uint8Array): Promise<void> {
    this.#data = data.slice();
    this.writes += 1;
    return Promise.resolve();
  }
}

/**
 * One cached read as a snapshot keeps it.
 *
 * @example The entries a cache offers its snapshot
 * ```ts
 * import { type CacheSnapshot, MemorySecretManager, type SnapshotEntry, withCache } from "@keyward/secrets";
 *
 * let offered: SnapshotEntry[] = [];
 * const recording: CacheSnapshot = { // a test double: keeps nothing, records what it is offered
 *   attach: (host) => ({
 *     changed: () => void (offered = host.entries()),
 *     restore: () => Promise.resolve(),
 *     saving: () => undefined,
 *   }),
 * };
 * const backend = new MemorySecretManager({ initial: { "db/login": { user: "app", password: "pw-0001" } } });
 * const secrets = withCache(backend, { snapshot: recording, now: () => 0, ttlMs: 60_000 });
 * await secrets.getSecret("db/login", { field: "user" });
 * const [entry] = offered;
 * if (entry.name !== "db/login" || entry.field !== "user" || entry.expiresAt !== 60_000) throw new Error();
 * await secrets.close();
 * ```
 */
export interface SnapshotEntry {
  /** The secret's name. */
  name: string;
  /** The stage asked for, if any. */
  stage?: Stage;
  /** The version asked for, if any. */
  version?: string;
  /** The field asked for, if any. */
  field?: string;
  /** The value. */
  value: string;
  /** When the entry expired or expires, epoch milliseconds. */
  expiresAt: number;
  /**
   * The version (and stage) the backend reported for this read, so a
   * restored entry answers `readSecret` and not only `getSecret`. Absent in
   * snapshots written before it was kept.
   */
  served?: { version: string; stage?: Stage };
}

/**
 * What a cache lets the snapshot bound to it see and do (see {@linkcode CacheSnapshot}).
 *
 * @example Seeding a cache through its host while the backend is down
 * ```ts
 * import { type CacheSnapshot, MemorySecretManager, withCache } from "@keyward/secrets";
 * import { FaultyManager } from "@keyward/secrets/testing";
 *
 * const seeding: CacheSnapshot = { // a test double standing in for encryptedSnapshot()
 *   attach: (host) => ({
 *     changed: () => {},
 *     restore: () => {
 *       host.seed([{ name: "db/password", value: "pw-0001", expiresAt: host.now() }]);
 *       return Promise.resolve();
 *     },
 *     saving: () => undefined,
 *   }),
 * };
 * const backend = new FaultyManager(new MemorySecretManager());
 * backend.fault = "down";
 * const secrets = withCache(backend, { snapshot: seeding });
 * if (await secrets.getSecret("db/password") !== "pw-0001") throw new Error();
 * if (secrets.stats().staleServes !== 1) throw new Error();
 * await secrets.close();
 * ```
 */
export interface SnapshotHost {
  /** The cache's clock, epoch milliseconds. */
  now(): number;
  /** The cached reads still within their stale window: what a snapshot keeps. */
  entries(): SnapshotEntry[];
  /**
   * Adds entries read from a snapshot that the cache does not hold, each only
   * within its stale window and never served fresh; returns how many it took.
   */
  seed(entries: SnapshotEntry[]): number;
}

/**
 * A snapshot bound to one cache by {@linkcode CacheSnapshot.attach}.
 *
 * @example When the cache calls each method
 * ```ts
 * import { type CacheSnapshot, MemorySecretManager, withCache } from "@keyward/secrets";
 * import { FaultyManager } from "@keyward/secrets/testing";
 *
 * const calls: string[] = [];
 * const spy: CacheSnapshot = {
 *   attach: () => ({
 *     changed: () => void calls.push("changed"),
 *     restore: (reason) => Promise.resolve(void calls.push(`restore:${reason}`)),
 *     saving: () => undefined,
 *   }),
 * };
 * const backend = new FaultyManager(new MemorySecretManager({ initial: { "a/b": "value-0001" } }));
 * backend.fault = "down";
 * const secrets = withCache(backend, { snapshot: spy });
 * await secrets.getSecret("a/b").catch(() => {}); // down at start-up, nothing to restore
 * backend.fault = "none";
 * await secrets.getSecret("a/b"); // fetched: the snapshot should save
 * await secrets.getSecret("a/b"); // a hit: no save
 * if (calls.join() !== "restore:unreachable,changed") throw new Error(calls.join());
 * await secrets.close();
 * ```
 */
export interface AttachedSnapshot {
  /** The cache changed: save soon (coalesced: at most one save runs, changes meanwhile make one more). */
  changed(): void;
  /**
   * The backend is unreachable at start-up: seed the cache from the snapshot.
   * Reads it once; later calls share the first. Never rejects (a failure is logged).
   */
  restore(reason: string): Promise<void>;
  /** The save in progress, or `undefined` when none is. */
  saving(): Promise<void> | undefined;
}

/**
 * The last-known-good snapshot as `withCache({ snapshot })` takes it; build it
 * with {@linkcode encryptedSnapshot}. The cache calls `attach()` once with
 * itself as the host; the snapshot then saves after successful fetches
 * (coalesced, never on a hit) and is read at most once, at start-up while the
 * backend is unreachable. A failure of either is logged and never fails a read.
 *
 * @example
 * ```ts
 * import { type CacheSnapshot, encryptedSnapshot, MemorySnapshotStore } from "@keyward/secrets";
 *
 * const snapshot: CacheSnapshot = encryptedSnapshot({
 *   store: new MemorySnapshotStore(),
 *   key: crypto.getRandomValues(new Uint8Array(32)),
 * });
 * const attached = snapshot.attach({ now: () => 0, entries: () => [], seed: () => 0 });
 * await attached.restore("unreachable"); // nothing stored yet: seeds nothing, never rejects
 * if (attached.saving() !== undefined) throw new Error();
 * ```
 */
export interface CacheSnapshot {
  /** Binds the snapshot to one cache. */
  attach(host: SnapshotHost): AttachedSnapshot;
}

/**
 * The encrypted last-known-good snapshot for `withCache({ snapshot })`:
 * AES-256-GCM under `key` with a fresh nonce per write, kept in `store`.
 * Throws {@linkcode ConfigError} at once unless `store` has `read()` and
 * `write()` and `key` is 32 random bytes. A snapshot under another key, an
 * altered one, and one that holds its own key are not used (the error is
 * logged). One snapshot may serve several caches in turn (a restarted one).
 *
 * @example
 * ```ts
 * import { encryptedSnapshot, MemorySecretManager, MemorySnapshotStore, withCache } from "@keyward/secrets";
 *
 * const store = new MemorySnapshotStore();
 * const key = crypto.getRandomValues(new Uint8Array(32)); // from KEYWARD_SNAPSHOT_KEY in production
 * const secrets = withCache(new MemorySecretManager({ initial: { "db/password": "pw-0001" } }), {
 *   snapshot: encryptedSnapshot({ store, key }),
 * });
 * await secrets.getSecret("db/password");
 * await secrets.close(); // writes the pending snapshot
 * if (store.writes !== 1) throw new Error();
 * ```
 */
export function encryptedSnapshot(options: SnapshotOptions): CacheSnapshot {
  const { store, key } = options ?? {};
  if (typeof store?.read !== "function" || typeof store?.write !== "function") {
    throw new ConfigError("option snapshot.store must have read() and write()");
  }
  checkSnapshotKey(key);
  const raw = key.slice();
  let cryptoKey: Promise<CryptoKey> | undefined;
  const imported = (): Promise<CryptoKey> => cryptoKey ??= importSnapshotKey(raw);
  return {
    attach(host: SnapshotHost): AttachedSnapshot {
      const log = keywardLogger("cache");
      let restoring: Promise<void> | undefined;
      let dirty = false;
      let saving: Promise<void> | undefined;

      const restore = async (reason: string): Promise<void> => {
        try {
          const data = await store.read();
          if (data === null) return;
          const { entries } = await openSnapshot(await imported(), raw, data);
          const count = host.seed(entries);
          log.warn(
            "The backend is unreachable at start-up ({reason}); loaded {count} last-known-good " +
              "entries from the snapshot",
            { reason, count },
          );
        } catch (err) {
          log.error("The last-known-good snapshot cannot be used: {error}", { error: err });
        }
      };

      const save = async (): Promise<void> => {
        const now = host.now();
        try {
          await store.write(await sealSnapshot(await imported(), host.entries(), now));
        } catch (err) {
          log.warn("The last-known-good snapshot could not be written: {error}", { error: err });
        }
      };

      const saveLoop = async (): Promise<void> => {
        try {
          // Let the current burst of fetches land first.
          await Promise.resolve();
          while (dirty) {
            dirty = false;
            await save();
          }
        } finally {
          saving = undefined;
        }
      };

      return {
        changed(): void {
          dirty = true;
          saving ??= saveLoop();
        },
        restore(reason: string): Promise<void> {
          return restoring ??= restore(reason);
        },
        saving(): Promise<void> | undefined {
          return saving;
        },
      };
    },
  };
}
