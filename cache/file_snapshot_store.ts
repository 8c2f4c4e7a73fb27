/**
 * A {@linkcode SnapshotStore} in a file, on `node:fs/promises` (Deno and
 * Node). Exported from the `./file` entry, never from `mod.ts`.
 *
 * @module
 */

import { mkdir, open, readFile, readlink, realpath, rename, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { SnapshotStore } from "./snapshot.ts";

/**
 * Keeps the cache's encrypted last-known-good snapshot in one file, written
 * atomically (a temp file beside it, fsynced, renamed over it) with mode
 * `0600`. The file holds ciphertext only; keep its key
 * (`KEYWARD_SNAPSHOT_KEY`) in the environment or a mounted secret, never in
 * the same directory.
 *
 * @example
 * ```ts
 * import { FileSnapshotStore } from "@keyward/secrets/file";
 * import { encryptedSnapshot, MemorySecretManager, withCache } from "@keyward/secrets";
 *
 * const dir = await Deno.makeTempDir();
 * const key = crypto.getRandomValues(new Uint8Array(32)); // from KEYWARD_SNAPSHOT_KEY in production
 * const store = new FileSnapshotStore(`${dir}/keyward.snapshot`);
 * const secrets = withCache(new MemorySecretManager({ initial: { "db/password": "pw-0001" } }), {
 *   snapshot: encryptedSnapshot({ store, key }),
 * });
 * await secrets.getSecret("db/password");
 * await secrets.close(); // writes the pending snapshot
 * if ((await store.read()) === null) throw new Error("no snapshot");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileSnapshotStore implements SnapshotStore {
  /** The snapshot file's absolute path. */
  readonly path: string;

  /** Uses the file at `path` (created on the first write, with its directory). */
  constructor(path: string) {
    if (typeof path !== "string" || path.length === 0) {
      throw new TypeError("FileSnapshotStore needs the snapshot file's path");
    }
    this.path = resolve(path);
  }

  /** {@inheritDoc SnapshotStore.read} */
  async read(): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.path));
    } catch (err) {
      if ((err as { code?: unknown }).code === "ENOENT") return null;
      throw err;
    }
  }

  /**
   * {@inheritDoc SnapshotStore.write}
   *
   * When the snapshot path is a symbolic link, the file it points to is
   * replaced and the link stays a link (as the file store does).
   */
  async write(data: Uint8Array): Promise<void> {
    const target = await linkTarget(this.path);
    const dir = dirname(target);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${target}.${crypto.randomUUID()}.tmp`;
    const fh = await open(tmp, "wx", 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => {});
      await rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    try {
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    // Make the rename durable where the platform lets a directory be fsynced.
    try {
      const d = await open(dir, "r");
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    } catch {
      // Not supported here (Windows); the rename itself is still atomic.
    }
  }
}

/** `path` with its links followed, including a last link whose target does not exist yet. */
async function linkTarget(path: string): Promise<string> {
  for (let hops = 0; hops < 40; hops++) {
    try {
      return await realpath(path);
    } catch {
      // missing (or a dangling link): follow the link by hand, if it is one
    }
    let link: string;
    try {
      link = await readlink(path);
    } catch {
      return path;
    }
    path = resolve(dirname(path), link);
  }
  return path;
}
