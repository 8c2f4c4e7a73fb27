/**
 * The file-system port of the file backend: the few operations it needs,
 * implemented on `node:fs/promises` (which Deno and Node both provide).
 * Tests wrap it to count or fail operations.
 *
 * @module
 */

import * as fs from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

/**
 * What `stat` reports.
 *
 * @example What the port reports for a lock left by a crashed writer, which the backend then breaks
 * ```ts
 * import { FileSecretManager, type FsStat, generateFileKey } from "@keyward/secrets/file";
 *
 * const dir = await Deno.makeTempDir();
 * const lockPath = `${dir}/store.json.lock`;
 * const anHourAgo = new Date(Date.now() - 3_600_000);
 * await Deno.writeTextFile(lockPath, "crashed-writer");
 * await Deno.utime(lockPath, anHourAgo, anHourAgo);
 * const info = await Deno.stat(lockPath);
 * const st: FsStat = { mode: info.mode ?? 0, mtimeMs: info.mtime!.getTime(), isDirectory: info.isDirectory };
 * if (Date.now() - st.mtimeMs <= 30_000 || st.isDirectory) throw new Error();
 *
 * const secrets = new FileSecretManager({ path: `${dir}/store.json`, key: generateFileKey(), staleLockMs: 30_000 });
 * await secrets.setSecret("db/password", "pw-0001"); // breaks the stale lock instead of waiting
 * await Deno.stat(lockPath).then(() => { throw new Error("lock left"); }, () => {});
 * await secrets.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface FsStat {
  /** The permission bits and file type, as `stat(2)` reports them. */
  mode: number;
  /** Last modification, epoch milliseconds. */
  mtimeMs: number;
  /** Whether it is a directory. */
  isDirectory: boolean;
}

/**
 * The file operations the file backend uses. Errors carry a Node-style `code` (`ENOENT`, ...).
 *
 * @example The file backend on an in-memory file system
 * ```ts
 * import { FileSecretManager, type FsPort, type FsStat, generateFileKey } from "@keyward/secrets/file";
 *
 * const files = new Map<string, { data: Uint8Array; mtimeMs: number }>();
 * const put = (path: string, data: Uint8Array) => void files.set(path, { data, mtimeMs: Date.now() });
 * const memoryFs: FsPort = {
 *   readFile: (path) => Promise.resolve(files.get(path)?.data),
 *   writeFileAtomic: (path, data) => Promise.resolve(put(path, data)),
 *   createExclusive: (path, data) => Promise.resolve(!files.has(path) && (put(path, data), true)),
 *   stat: (path) => {
 *     const file = files.get(path);
 *     const st: FsStat | undefined = file && { mode: 0o100600, mtimeMs: file.mtimeMs, isDirectory: false };
 *     return Promise.resolve(st);
 *   },
 *   rename: (from, to) => {
 *     const file = files.get(from);
 *     if (file) (files.delete(from), files.set(to, file));
 *     return Promise.resolve(file !== undefined);
 *   },
 *   link: (from, to) => {
 *     const file = files.get(from);
 *     const linked = file !== undefined && !files.has(to);
 *     if (linked) files.set(to, file);
 *     return Promise.resolve(linked);
 *   },
 *   remove: (path) => Promise.resolve(void files.delete(path)),
 *   mkdir: () => Promise.resolve(),
 * };
 * const secrets = new FileSecretManager({ path: "/virtual/store.json", key: generateFileKey(), fsPort: memoryFs });
 * await secrets.setSecret("db/password", "pw-0001");
 * if (await secrets.getSecret("db/password") !== "pw-0001") throw new Error();
 * if ([...files.keys()].join() !== "/virtual/store.json") throw new Error([...files.keys()].join());
 * await secrets.close();
 * ```
 */
export interface FsPort {
  /** The file's bytes, or `undefined` when it does not exist. */
  readFile(path: string): Promise<Uint8Array | undefined>;
  /**
   * Replaces `path` atomically: a temp file in the same directory, written
   * and fsynced, renamed over `path`, then the directory fsynced where possible.
   * `beforeRename` (the backend's commit fence) runs after the temp file is
   * synced and just before the rename; when it throws, the temp file is
   * removed, `path` is left as it is, and its error is rethrown.
   */
  writeFileAtomic(
    path: string,
    data: Uint8Array,
    mode: number,
    beforeRename?: () => Promise<void>,
  ): Promise<void>;
  /** Creates `path` holding `data`; `false` when it already exists (O_EXCL). */
  createExclusive(path: string, data: Uint8Array, mode: number): Promise<boolean>;
  /** Stats `path`, or `undefined` when it does not exist. */
  stat(path: string): Promise<FsStat | undefined>;
  /** Renames `from` to `to`; `false` when `from` does not exist. */
  rename(from: string, to: string): Promise<boolean>;
  /** Hard-links `to` to `from`; `false` when `to` already exists. */
  link(from: string, to: string): Promise<boolean>;
  /** Removes a file; a missing file is fine. */
  remove(path: string): Promise<void>;
  /** Creates a directory and its parents. */
  mkdir(path: string, mode: number): Promise<void>;
  /**
   * Optional: `path` with every symbolic link followed, including a last
   * link whose target does not exist yet (the path it would create). The
   * file backend writes to this resolved path, so a store path that is a
   * link stays a link and its target is the file that changes. Without it,
   * the path is used as it is.
   */
  resolvePath?(path: string): Promise<string>;
  /**
   * Optional: takes an exclusive OS advisory lock (`flock`) on the existing
   * file `path` without waiting; `undefined` when another open file holds
   * it. The kernel drops the lock when its process dies, so a writer that is
   * alive (even stopped) keeps its lock file from being broken as stale.
   * The default port has it where the runtime offers such a lock (Deno);
   * without it (Node) a stale lock is judged by age alone and the commit
   * fence keeps a broken writer from committing.
   */
  tryOsLock?(path: string): Promise<FsOsLock | undefined>;
}

/**
 * An OS lock held through {@linkcode FsPort.tryOsLock}.
 *
 * @example A port's lock that is released once
 * ```ts
 * import type { FsOsLock } from "@keyward/secrets/file";
 * let held = true;
 * const lock: FsOsLock = { release: () => Promise.resolve(void (held = false)) };
 * await lock.release();
 * if (held) throw new Error();
 * ```
 */
export interface FsOsLock {
  /** Releases the lock and closes its file. */
  release(): Promise<void>;
}

/** The parts of a runtime with file locks (Deno's `FsFile.tryLock`), found by feature detection. */
interface LockingFile {
  tryLock(exclusive?: boolean): Promise<boolean>;
  close(): void;
}
interface LockingRuntime {
  open(path: string, options: { read: boolean }): Promise<LockingFile>;
}

function lockingRuntime(): LockingRuntime | undefined {
  const runtime = (globalThis as {
    Deno?: Partial<LockingRuntime> & { FsFile?: unknown; build?: { os?: string } };
  }).Deno;
  const proto = (runtime?.FsFile as { prototype?: Partial<LockingFile> } | undefined)?.prototype;
  if (typeof runtime?.open !== "function" || typeof proto?.tryLock !== "function") return undefined;
  // On Windows the lock is mandatory (LockFileEx): the holder could no longer
  // read its own lock file through another handle. There, the fence guards alone.
  if (runtime.build?.os === "windows") return undefined;
  return runtime as LockingRuntime;
}

function osLockOn(runtime: LockingRuntime): (path: string) => Promise<FsOsLock | undefined> {
  return async (path) => {
    const file = await runtime.open(path, { read: true });
    let locked = false;
    try {
      locked = await file.tryLock(true);
    } finally {
      if (!locked) file.close();
    }
    if (!locked) return undefined;
    let open = true;
    return {
      release() {
        if (open) {
          open = false;
          file.close(); // closing the last descriptor drops the lock
        }
        return Promise.resolve();
      },
    };
  };
}

function codeOf(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

const runtime = lockingRuntime();

/** The port on `node:fs/promises`, with the runtime's OS file lock where it has one. */
export const nodeFsPort: FsPort = {
  ...(runtime === undefined ? {} : { tryOsLock: osLockOn(runtime) }),

  async readFile(path) {
    try {
      return new Uint8Array(await fs.readFile(path));
    } catch (err) {
      if (codeOf(err) === "ENOENT") return undefined;
      throw err;
    }
  },

  async writeFileAtomic(path, data, mode, beforeRename) {
    const dir = dirname(path);
    const temp = join(dir, `.${basename(path)}.${crypto.randomUUID()}.tmp`);
    const handle = await fs.open(temp, "wx", mode);
    try {
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.chmod(temp, mode);
      if (beforeRename) await beforeRename();
      await fs.rename(temp, path);
    } catch (err) {
      await fs.rm(temp, { force: true }).catch(() => {});
      throw err;
    }
    try {
      const dirHandle = await fs.open(dir, "r");
      try {
        await dirHandle.sync();
      } finally {
        await dirHandle.close();
      }
    } catch {
      // Not every platform can fsync a directory (Windows); the rename is done.
    }
  },

  async createExclusive(path, data, mode) {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(path, "wx", mode);
    } catch (err) {
      if (codeOf(err) === "EEXIST") return false;
      throw err;
    }
    try {
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
    return true;
  },

  async stat(path) {
    try {
      const st = await fs.stat(path);
      return { mode: st.mode, mtimeMs: st.mtimeMs, isDirectory: st.isDirectory() };
    } catch (err) {
      if (codeOf(err) === "ENOENT" || codeOf(err) === "ENOTDIR") return undefined;
      throw err;
    }
  },

  async rename(from, to) {
    try {
      await fs.rename(from, to);
      return true;
    } catch (err) {
      if (codeOf(err) === "ENOENT") return false;
      throw err;
    }
  },

  async link(from, to) {
    try {
      await fs.link(from, to);
      return true;
    } catch (err) {
      if (codeOf(err) === "EEXIST") return false;
      throw err;
    }
  },

  async remove(path) {
    await fs.rm(path, { force: true });
  },

  async mkdir(path, mode) {
    await fs.mkdir(path, { recursive: true, mode });
  },

  resolvePath(path) {
    return resolveLinks(resolve(path), 0);
  },
};

const MAX_LINKS = 40;

async function resolveLinks(path: string, hops: number): Promise<string> {
  try {
    return await fs.realpath(path);
  } catch (err) {
    if (codeOf(err) !== "ENOENT" && codeOf(err) !== "ENOTDIR") throw err;
  }
  let link: string | undefined;
  try {
    link = await fs.readlink(path);
  } catch {
    link = undefined; // not a link, or missing: resolve its directory instead
  }
  if (link === undefined) {
    const parent = dirname(path);
    if (parent === path) return path;
    return join(await resolveLinks(parent, hops), basename(path));
  }
  if (hops >= MAX_LINKS) {
    throw Object.assign(new Error(`too many levels of symbolic links: ${path}`), {
      code: "ELOOP",
    });
  }
  return await resolveLinks(resolve(dirname(path), link), hops + 1);
}
