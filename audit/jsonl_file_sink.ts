/**
 * The JSON-lines audit sink to a file that rotates by size and keeps a
 * bounded number of files, so the audit trail cannot fill a disk. Every
 * write appends whole lines or nothing (a short or failed write is cut back),
 * a line cut by a crash is removed when the file is opened (logged, and
 * recorded in the trail as a `dropped` event), and with `resume` the chain of
 * one writer identity continues across processes through a heads file
 * beside the trail (`<path>.heads.json`, in the checkpoint format).
 * Uses `node:fs/promises` (Deno and Node); exported from the `./file` entry.
 *
 * @module
 */

import { type FileHandle, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { keywardLogger } from "../core/log.ts";
import { droppedEvent } from "./_buffer.ts";
import {
  type AuditLineWriter,
  checkpointOf,
  JsonLinesAuditSink,
  type JsonLinesSinkOptions,
} from "./jsonl_sink.ts";
import type { AuditCheckpoint } from "./types.ts";

/**
 * One open file of an {@linkcode AuditFileSystem}, opened for appending.
 *
 * @example A file whose writes stop after a number of bytes, like a full disk
 * ```ts
 * import type { AuditFile } from "@keyward/secrets/file";
 *
 * function fullAfter(file: AuditFile, room: number): AuditFile {
 *   return {
 *     ...file,
 *     async write(bytes) {
 *       if (room <= 0) throw Object.assign(new Error("no space"), { code: "ENOSPC" });
 *       const n = await file.write(bytes.subarray(0, room));
 *       room -= n;
 *       return n;
 *     },
 *   };
 * }
 * if (typeof fullAfter !== "function") throw new Error();
 * ```
 */
export interface AuditFile {
  /** The file's size in bytes. */
  size(): Promise<number>;
  /** Reads `length` bytes at `position`. */
  read(position: number, length: number): Promise<Uint8Array>;
  /** Appends (some of) `bytes`; returns how many were written. */
  write(bytes: Uint8Array): Promise<number>;
  /** Cuts the file to `length` bytes. */
  truncate(length: number): Promise<void>;
  /** Closes it. */
  close(): Promise<void>;
}

/**
 * The file operations of the JSON-lines file sink (`node:fs/promises` by
 * default; tests inject failures through it).
 *
 * @example Failing every write, like a read-only file system
 * ```ts
 * import { type AuditFileSystem, nodeAuditFileSystem } from "@keyward/secrets/file";
 *
 * const readOnly: AuditFileSystem = {
 *   ...nodeAuditFileSystem,
 *   open: async (path) => ({
 *     ...(await nodeAuditFileSystem.open(path)),
 *     write: () => Promise.reject(Object.assign(new Error("read-only"), { code: "EROFS" })),
 *   }),
 * };
 * if (typeof readOnly.open !== "function") throw new Error();
 * ```
 */
export interface AuditFileSystem {
  /** Opens `path` for appending (created with mode 0600). */
  open(path: string): Promise<AuditFile>;
  /** Renames `from` to `to`; a missing `from` rejects with code `ENOENT`. */
  rename(from: string, to: string): Promise<void>;
  /** Removes `path`; a missing file is fine. */
  remove(path: string): Promise<void>;
}

function nodeFile(handle: FileHandle): AuditFile {
  return {
    size: async () => (await handle.stat()).size,
    async read(position, length) {
      const buf = new Uint8Array(length);
      const { bytesRead } = await handle.read(buf, 0, length, position);
      return buf.subarray(0, bytesRead);
    },
    write: async (bytes) => (await handle.write(bytes)).bytesWritten,
    truncate: (length) => handle.truncate(length),
    close: () => handle.close(),
  };
}

/**
 * The {@linkcode AuditFileSystem} over `node:fs/promises`.
 *
 * @example
 * ```ts
 * import { nodeAuditFileSystem } from "@keyward/secrets/file";
 *
 * const dir = await Deno.makeTempDir();
 * const file = await nodeAuditFileSystem.open(`${dir}/audit.jsonl`);
 * await file.write(new TextEncoder().encode("{}\n"));
 * if (await file.size() !== 3) throw new Error();
 * await file.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export const nodeAuditFileSystem: AuditFileSystem = {
  open: async (path) => nodeFile(await open(path, "a+", 0o600)),
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { force: true }),
};

const NEWLINE = 10;
const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 5_000;

/** What {@linkcode rotatingFileWriter} found and removed when it opened a file cut mid-line. */
interface TornLine {
  /** The file. */
  path: string;
  /** Bytes removed (the cut line). */
  removedBytes: number;
}

/**
 * An {@linkcode AuditLineWriter} over `path` that rotates like
 * {@linkcode rotatingFileStream}, writes whole chunks or nothing, repairs a
 * torn last line on open, and stores chain heads in `<path>.heads.json`.
 */
function rotatingFileWriter(
  path: string,
  options: {
    maxBytes?: number;
    maxFiles?: number;
    fs?: AuditFileSystem;
    onTornLine?: (torn: TornLine) => void;
  } = {},
): AuditLineWriter {
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const maxFiles = options.maxFiles ?? 5;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError("option maxBytes must be a positive integer");
  }
  if (!Number.isInteger(maxFiles) || maxFiles < 1) {
    throw new RangeError("option maxFiles must be a positive integer");
  }
  const fs = options.fs ?? nodeAuditFileSystem;
  const log = keywardLogger("audit", "jsonl");
  let file: AuditFile | null = null;
  let size = 0;
  /** The length to cut back to before the next write (a failed write whose cut failed too). */
  let cutTo: number | null = null;

  const repair = async (f: AuditFile) => {
    if (size === 0) return;
    const [last] = await f.read(size - 1, 1);
    if (last === NEWLINE) return;
    let end = size;
    let keep = 0;
    while (end > 0) {
      const start = Math.max(0, end - 65_536);
      const chunk = await f.read(start, end - start);
      const i = chunk.lastIndexOf(NEWLINE);
      if (i !== -1) {
        keep = start + i + 1;
        break;
      }
      end = start;
    }
    await f.truncate(keep);
    const removedBytes = size - keep;
    size = keep;
    log.warn("The audit file {path} ended in a cut line ({bytes} bytes); it was removed", {
      path,
      bytes: removedBytes,
    });
    options.onTornLine?.({ path, removedBytes });
  };
  const openCurrent = async () => {
    const f = await fs.open(path);
    try {
      size = await f.size();
      await repair(f);
    } catch (err) {
      await f.close().catch(() => {});
      throw err;
    }
    file = f;
  };
  const rotate = async () => {
    const f = file;
    file = null;
    await f?.close();
    await fs.remove(`${path}.${maxFiles - 1}`);
    for (let i = maxFiles - 2; i >= 1; i--) {
      await fs.rename(`${path}.${i}`, `${path}.${i + 1}`).catch((err) => {
        if ((err as { code?: string }).code !== "ENOENT") throw err;
      });
    }
    if (maxFiles > 1) await fs.rename(path, `${path}.1`);
    else await fs.remove(path);
    await openCurrent();
  };
  const ready = async () => {
    if (!file) await openCurrent();
  };
  const write = async (chunk: Uint8Array) => {
    await ready();
    if (cutTo !== null) {
      await file!.truncate(cutTo);
      size = cutTo;
      cutTo = null;
    }
    if (size > 0 && size + chunk.length > maxBytes) await rotate();
    const f = file!;
    const before = size;
    let done = 0;
    try {
      while (done < chunk.length) {
        const n = await f.write(chunk.subarray(done));
        if (!(n > 0)) throw Object.assign(new Error("the write made no progress"), { code: "EIO" });
        done += n;
      }
    } catch (err) {
      // Whole lines or nothing: cut back what this write appended.
      if (done > 0) {
        try {
          await f.truncate(before);
        } catch {
          cutTo = before; // cut before the next write (or repaired on the next open)
        }
      }
      throw err;
    }
    size += chunk.length;
  };
  const headsPath = `${path}.heads.json`;
  const lockPath = `${path}.lock`;
  return {
    ready,
    write,
    async close() {
      const f = file;
      file = null;
      await f?.close();
    },
    async appendChained(chainId, build) {
      await ready();
      await withLock(lockPath, async () => {
        const heads = await readHeads(headsPath);
        const stored = heads.chains[chainId];
        const { chunk, head } = build(stored ? { chainId, ...stored } : null);
        await write(chunk);
        if (head) {
          heads.chains[chainId] = { seq: head.seq, mac: head.mac };
          try {
            await writeHeads(headsPath, { ...heads, createdAt: new Date().toISOString() });
          } catch (err) {
            log.error("The audit chain head could not be stored in {path} ({error})", {
              path: headsPath,
              error: (err as { code?: string }).code ?? "unknown",
            });
          }
        }
      });
    },
  };
}

async function readHeads(path: string): Promise<AuditCheckpoint> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return checkpointOf([]);
    throw err;
  }
  const cp = JSON.parse(text) as AuditCheckpoint;
  if (cp?.version !== 1 || typeof cp.chains !== "object" || cp.chains === null) {
    throw Object.assign(new Error("the heads file is not a checkpoint"), { code: "EBADHEADS" });
  }
  return cp;
}

async function writeHeads(path: string, heads: AuditCheckpoint): Promise<void> {
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await writeFile(tmp, JSON.stringify(heads, null, 2) + "\n", { mode: 0o600 });
  await rename(tmp, path);
}

/** Runs `fn` holding `lockPath` (created exclusively; a lock older than 10 s is broken). */
async function withLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (let wait = 5;; wait = Math.min(wait * 2, 100)) {
    try {
      const h = await open(lockPath, "wx", 0o600);
      await h.close();
      break;
    } catch (err) {
      if ((err as { code?: string }).code !== "EEXIST") throw err;
      const age = await stat(lockPath).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > LOCK_STALE_MS) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() - started > LOCK_WAIT_MS) {
        throw Object.assign(new Error("the audit lock is held"), { code: "ELOCKED" });
      }
      await new Promise((r) => setTimeout(r, wait));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

/**
 * Options of {@linkcode jsonLinesFileSink}.
 *
 * @example Two files at most: the oldest lines are deleted, never the disk filled
 * ```ts
 * import { MemorySecretManager, withAudit } from "@keyward/secrets";
 * import { jsonLinesFileSink, type JsonLinesFileSinkOptions } from "@keyward/secrets/file";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/audit.jsonl`;
 * // Tiny, so every write after the first rotates; use megabytes in production.
 * const options: JsonLinesFileSinkOptions = { maxBytes: 1, maxFiles: 2 };
 * const audited = withAudit(new MemorySecretManager(), jsonLinesFileSink(path, options), {
 *   service: "api",
 * });
 * for (const prefix of ["a/", "b/", "c/"]) {
 *   await audited.listSecrets(prefix);
 *   await audited.flush(); // one write per flush
 * }
 * await audited.close();
 * const newest = JSON.parse(await Deno.readTextFile(path));
 * const older = JSON.parse(await Deno.readTextFile(`${path}.1`));
 * if (newest.secret_name !== "c/" || older.secret_name !== "b/") throw new Error();
 * if ((await Array.fromAsync(Deno.readDir(dir))).length !== 2) throw new Error("a/ was deleted");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface JsonLinesFileSinkOptions extends JsonLinesSinkOptions {
  /**
   * The size at which the file is rotated, in bytes.
   * @default {10485760}
   */
  maxBytes?: number;
  /**
   * Files kept in all: `path`, `path.1`, ..., `path.<maxFiles - 1>` (oldest);
   * older ones are deleted.
   * @default {5}
   */
  maxFiles?: number;
  /**
   * The file operations (for tests that make writes fail).
   * @default {node:fs/promises}
   */
  fs?: AuditFileSystem;
}

/**
 * A `WritableStream` over `path` that rotates to `path.1`, `path.2`, ...
 * when the next chunk would pass `maxBytes`. Chunks are never split, so a
 * JSON line never straddles two files, and each is written whole or not at
 * all (a failed write is cut back).
 *
 * @example
 * ```ts
 * import { rotatingFileStream } from "@keyward/secrets/file";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/audit.jsonl`;
 * const writer = rotatingFileStream(path, { maxBytes: 10, maxFiles: 2 }).getWriter();
 * const line = (s: string) => new TextEncoder().encode(`${s}\n`);
 * await writer.write(line("first"));
 * await writer.write(line("second")); // 6 + 7 bytes would pass 10: "first" moves to path.1
 * await writer.write(line("third")); // rotates again: "second" to path.1, "first" is deleted
 * await writer.close();
 * if (await Deno.readTextFile(path) !== "third\n") throw new Error();
 * if (await Deno.readTextFile(`${path}.1`) !== "second\n") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function rotatingFileStream(
  path: string,
  options: { maxBytes?: number; maxFiles?: number } = {},
): WritableStream<Uint8Array> {
  const writer = rotatingFileWriter(path, options);
  return new WritableStream<Uint8Array>({
    start: () => writer.ready!(),
    write: (chunk) => writer.write(chunk),
    close: () => writer.close(),
    abort: () => writer.close(),
  });
}

/**
 * A {@linkcode JsonLinesAuditSink} that appends to `path` and rotates it by
 * size, keeping at most `maxFiles` files. Writes are whole lines or nothing;
 * a torn last line is removed on open (logged, and recorded as a `dropped`
 * event with error code `torn_line`). With `resume` (and a `key` and a
 * `chainId`), the chain continues from the head stored in
 * `<path>.heads.json` (which is also a checkpoint for `verify`), under a lock
 * file `<path>.lock`. Without a `key` it logs a warning: unsealed lines can
 * be changed without a trace.
 *
 * @example
 * ```ts
 * import { MemorySecretManager, withAudit } from "@keyward/secrets";
 * import { jsonLinesFileSink } from "@keyward/secrets/file";
 *
 * const dir = await Deno.makeTempDir();
 * const sink = jsonLinesFileSink(`${dir}/audit.jsonl`, { maxBytes: 1_000_000, maxFiles: 3 });
 * const secrets = withAudit(new MemorySecretManager(), sink, { service: "api" });
 * await secrets.listSecrets();
 * await secrets.close();
 * if (!(await Deno.readTextFile(`${dir}/audit.jsonl`)).includes('"action":"list"')) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function jsonLinesFileSink(
  path: string,
  options: JsonLinesFileSinkOptions = {},
): JsonLinesAuditSink {
  const late: { sink?: JsonLinesAuditSink } = {};
  const writer = rotatingFileWriter(path, {
    ...options,
    // Said in the log (above) and in the trail: a line was lost to a crash or a full disk.
    onTornLine: () => late.sink?.record(droppedEvent(1, "keyward", Date.now(), "torn_line")),
  });
  const sink = new JsonLinesAuditSink(writer, options);
  late.sink = sink;
  if (!options.key) {
    keywardLogger("audit", "jsonl").warn(
      "The audit trail {path} is written without a key: its lines carry no MAC, so a changed, " +
        "deleted or inserted line cannot be detected (set KEYWARD_AUDIT_KEY)",
      { path },
    );
  }
  return sink;
}
