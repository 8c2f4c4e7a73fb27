/**
 * The file-system port of the file backend: the few operations it needs,
 * implemented on `node:fs/promises` (which Deno and Node both provide).
 * Tests wrap it to count or fail operations.
 *
 * @module
 */

import * as fs from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** What `stat` reports. */
export interface FsStat {
  /** The permission bits and file type, as `stat(2)` reports them. */
  mode: number;
  /** Last modification, epoch milliseconds. */
  mtimeMs: number;
  /** Whether it is a directory. */
  isDirectory: boolean;
}

/** The file operations the file backend uses. Errors carry a Node-style `code` (`ENOENT`, ...). */
export interface FsPort {
  /** The file's bytes, or `undefined` when it does not exist. */
  readFile(path: string): Promise<Uint8Array | undefined>;
  /**
   * Replaces `path` atomically: a temp file in the same directory, written
   * and fsynced, renamed over `path`, then the directory fsynced where possible.
   */
  writeFileAtomic(path: string, data: Uint8Array, mode: number): Promise<void>;
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
}

function codeOf(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}

/** The port on `node:fs/promises`. */
export const nodeFsPort: FsPort = {
  async readFile(path) {
    try {
      return new Uint8Array(await fs.readFile(path));
    } catch (err) {
      if (codeOf(err) === "ENOENT") return undefined;
      throw err;
    }
  },

  async writeFileAtomic(path, data, mode) {
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
};
