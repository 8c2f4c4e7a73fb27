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
 */
export interface SnapshotStore {
  /** The last snapshot written, or `null`. */
  read(): Promise<Uint8Array | null>;
  /** Replaces the snapshot (atomically where the medium allows). */
  write(data: Uint8Array): Promise<void>;
}

/** Options of {@linkcode encryptedSnapshot}. */
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

/** One cached read as a snapshot keeps it. */
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
}

/**
 * The last-known-good snapshot as `withCache({ snapshot })` uses it; build
 * it with {@linkcode encryptedSnapshot}. The cache calls `save()` after
 * successful fetches (coalesced: one call at a time, never on a hit) and
 * `load()` at most once, at start-up while the backend is unreachable; a
 * failure of either is logged and never fails a read.
 */
export interface CacheSnapshot {
  /** The entries saved last, or `null` when there is no snapshot yet. */
  load(): Promise<SnapshotEntry[] | null>;
  /** Replaces the snapshot with `entries`, saved at `savedAt` (epoch milliseconds). */
  save(entries: SnapshotEntry[], savedAt: number): Promise<void>;
}

/**
 * The encrypted last-known-good snapshot for `withCache({ snapshot })`:
 * AES-256-GCM under `key` with a fresh nonce per write, kept in `store`.
 * Throws {@linkcode ConfigError} at once unless `store` has `read()` and
 * `write()` and `key` is 32 random bytes. `load()` rejects a snapshot under
 * another key, an altered one, and one that holds its own key
 * (`SecretAccessError`, reason `key` or `damaged`).
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
    async load(): Promise<SnapshotEntry[] | null> {
      const data = await store.read();
      return data === null ? null : (await openSnapshot(await imported(), raw, data)).entries;
    },
    async save(entries: SnapshotEntry[], savedAt: number): Promise<void> {
      await store.write(await sealSnapshot(await imported(), entries, savedAt));
    },
  };
}
