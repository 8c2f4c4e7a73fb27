/**
 * Checkpoint files: chain heads kept outside the database (a file the
 * database's users cannot write), merged across writer instances.
 *
 * @module
 */

import { readFile, rename, writeFile } from "node:fs/promises";
import { ConfigError } from "../core/errors.ts";
import type { AuditCheckpoint } from "./types.ts";

/**
 * Reads a checkpoint file; a missing file or one that is not a checkpoint
 * is a `ConfigError`.
 *
 * @example
 * ```ts
 * import { checkpointOf, ConfigError } from "@keyward/secrets";
 * import { readCheckpointFile, writeCheckpointFile } from "@keyward/secrets/postgres";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/audit.checkpoint.json`;
 * await writeCheckpointFile(path, checkpointOf([{ chainId: "a", seq: 3, mac: "ab".repeat(32) }]));
 * const cp = await readCheckpointFile(path);
 * if (cp.chains.a.seq !== 3) throw new Error();
 * try {
 *   await readCheckpointFile(`${dir}/missing.json`);
 *   throw new Error("a missing file was read");
 * } catch (err) {
 *   if (!(err instanceof ConfigError)) throw err;
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readCheckpointFile(path: string): Promise<AuditCheckpoint> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read the checkpoint file ${path}`, { cause: err });
  }
  const cp = JSON.parse(text) as AuditCheckpoint;
  if (cp?.version !== 1 || typeof cp.chains !== "object" || cp.chains === null) {
    throw new ConfigError(`${path} is not a keyward audit checkpoint`);
  }
  return cp;
}

/**
 * Merges two checkpoints, keeping the furthest head of every chain.
 *
 * @example
 * ```ts
 * import { checkpointOf } from "@keyward/secrets";
 * import { mergeCheckpoints } from "@keyward/secrets/postgres";
 *
 * const mac = "ab".repeat(32);
 * const older = checkpointOf([{ chainId: "a", seq: 9, mac }, { chainId: "b", seq: 2, mac }], 0);
 * const newer = checkpointOf([{ chainId: "a", seq: 5, mac }, { chainId: "c", seq: 1, mac }], 1);
 * const merged = mergeCheckpoints(older, newer);
 * if (merged.chains.a.seq !== 9 || merged.chains.b.seq !== 2 || merged.chains.c.seq !== 1) {
 *   throw new Error();
 * }
 * if (merged.createdAt !== newer.createdAt) throw new Error();
 * ```
 */
export function mergeCheckpoints(a: AuditCheckpoint, b: AuditCheckpoint): AuditCheckpoint {
  const chains = { ...a.chains };
  for (const [id, head] of Object.entries(b.chains)) {
    if (!chains[id] || chains[id].seq <= head.seq) chains[id] = head;
  }
  return { version: 1, createdAt: b.createdAt, chains };
}

/**
 * Writes `checkpoint` into the file at `path`, merged with what the file
 * already holds (other writers' chains), atomically (write, then rename).
 *
 * @example Two writer instances share one checkpoint file
 * ```ts
 * import { checkpointOf } from "@keyward/secrets";
 * import { readCheckpointFile, writeCheckpointFile } from "@keyward/secrets/postgres";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/audit.checkpoint.json`;
 * const mac = "ab".repeat(32);
 * await writeCheckpointFile(path, checkpointOf([{ chainId: "writer-1", seq: 10, mac }]));
 * await writeCheckpointFile(path, checkpointOf([{ chainId: "writer-2", seq: 4, mac }]));
 * const cp = await readCheckpointFile(path);
 * if (cp.chains["writer-1"].seq !== 10 || cp.chains["writer-2"].seq !== 4) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeCheckpointFile(
  path: string,
  checkpoint: AuditCheckpoint,
): Promise<void> {
  let merged = checkpoint;
  try {
    merged = mergeCheckpoints(await readCheckpointFile(path), checkpoint);
  } catch {
    // no file yet, or unreadable: start it afresh
  }
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await writeFile(tmp, JSON.stringify(merged, null, 2) + "\n", { mode: 0o600 });
  await rename(tmp, path);
}

/**
 * An `onCheckpoint` handler that merges every exported checkpoint into `path`.
 *
 * @example Keeping the chain head of a JSON-lines sink in a file
 * ```ts
 * import { AuditKey, JsonLinesAuditSink, MemorySecretManager, withAudit } from "@keyward/secrets";
 * import { checkpointFileWriter, readCheckpointFile } from "@keyward/secrets/postgres";
 *
 * const dir = await Deno.makeTempDir();
 * const sink = new JsonLinesAuditSink(new WritableStream(), {
 *   key: AuditKey.fromBase64(btoa("k".repeat(32))),
 *   onCheckpoint: checkpointFileWriter(`${dir}/audit.checkpoint.json`),
 * });
 * const secrets = withAudit(new MemorySecretManager(), sink, { service: "api" });
 * await secrets.listSecrets();
 * await secrets.close(); // closing the sink exports its checkpoint
 * const cp = await readCheckpointFile(`${dir}/audit.checkpoint.json`);
 * if (cp.chains[sink.chainId!].seq !== 1) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function checkpointFileWriter(path: string): (checkpoint: AuditCheckpoint) => Promise<void> {
  return (checkpoint) => writeCheckpointFile(path, checkpoint);
}
