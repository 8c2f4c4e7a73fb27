/**
 * The JSON-lines audit sink to a file that rotates by size and keeps a
 * bounded number of files, so the audit trail cannot fill a disk. Uses
 * `node:fs/promises` (Deno and Node); exported from the `./file` entry.
 *
 * @module
 */

import { type FileHandle, open, rename, rm, stat } from "node:fs/promises";
import { JsonLinesAuditSink, type JsonLinesSinkOptions } from "./jsonl_sink.ts";

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
}

/**
 * A `WritableStream` over `path` that rotates to `path.1`, `path.2`, ...
 * when the next chunk would pass `maxBytes`. Chunks are never split, so a
 * JSON line never straddles two files.
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
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const maxFiles = options.maxFiles ?? 5;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) {
    throw new RangeError("option maxBytes must be a positive integer");
  }
  if (!Number.isInteger(maxFiles) || maxFiles < 1) {
    throw new RangeError("option maxFiles must be a positive integer");
  }
  let handle: FileHandle | null = null;
  let size = 0;
  const openCurrent = async () => {
    handle = await open(path, "a", 0o600);
    size = (await stat(path)).size;
  };
  const rotate = async () => {
    await handle?.close();
    handle = null;
    await rm(`${path}.${maxFiles - 1}`, { force: true });
    for (let i = maxFiles - 2; i >= 1; i--) {
      await rename(`${path}.${i}`, `${path}.${i + 1}`).catch((err) => {
        if ((err as { code?: string }).code !== "ENOENT") throw err;
      });
    }
    if (maxFiles > 1) await rename(path, `${path}.1`);
    else await rm(path, { force: true });
    await openCurrent();
  };
  return new WritableStream<Uint8Array>({
    start: openCurrent,
    async write(chunk) {
      if (size > 0 && size + chunk.length > maxBytes) await rotate();
      await handle!.write(chunk);
      size += chunk.length;
    },
    async close() {
      await handle?.close();
      handle = null;
    },
    async abort() {
      await handle?.close();
      handle = null;
    },
  });
}

/**
 * A {@linkcode JsonLinesAuditSink} that appends to `path` and rotates it by
 * size, keeping at most `maxFiles` files.
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
  return new JsonLinesAuditSink(rotatingFileStream(path, options), options);
}
