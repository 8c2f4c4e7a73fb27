/**
 * The last-known-good snapshot's port: where the encrypted snapshot bytes
 * live. The cache encrypts before it writes and decrypts after it reads, so a
 * store only ever sees ciphertext.
 *
 * @module
 */

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

/** The snapshot option of `withCache`. */
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
