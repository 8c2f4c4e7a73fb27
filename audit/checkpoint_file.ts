/**
 * Checkpoint files: chain heads kept outside the database (a file the
 * database's users cannot write), merged across writer instances.
 *
 * @module
 */

import { readFile, rename, writeFile } from "node:fs/promises";
import { ConfigError } from "../core/errors.ts";
import type { AuditCheckpoint } from "./types.ts";

/** Reads a checkpoint file. */
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

/** Merges two checkpoints, keeping the furthest head of every chain. */
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

/** An `onCheckpoint` handler that merges every exported checkpoint into `path`. */
export function checkpointFileWriter(path: string): (checkpoint: AuditCheckpoint) => Promise<void> {
  return (checkpoint) => writeCheckpointFile(path, checkpoint);
}
