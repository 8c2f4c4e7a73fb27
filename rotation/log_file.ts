/**
 * The rotation log as a JSON-lines file (the embedded default): one row a
 * line, appended with `O_APPEND`, read whole. Through `node:fs/promises`
 * (loaded on first use), so the console reads it under Node too.
 *
 * @module
 */

import type { RotationLogEntry, RotationLogStore, StepName, StepStatus } from "./types.ts";

const DATE_FIELDS = ["at", "dueAt", "oldKeyDeprecatedAt", "scheduledDeletionAt"] as const;

/** Serializes an entry (dates as ISO strings). */
export function entryToJson(entry: RotationLogEntry): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(entry)) {
    if (v === undefined) continue;
    out[k] = v instanceof Date ? v.toISOString() : v;
  }
  return out;
}

/** Parses an entry written by {@linkcode entryToJson}. */
export function entryFromJson(raw: Record<string, unknown>): RotationLogEntry {
  const entry = { ...raw } as Record<string, unknown>;
  for (const k of DATE_FIELDS) {
    if (typeof entry[k] === "string") entry[k] = new Date(entry[k] as string);
  }
  return entry as unknown as RotationLogEntry & { step: StepName; status: StepStatus };
}

/** A {@linkcode RotationLogStore} on a JSON-lines file. */
export class FileRotationLog implements RotationLogStore {
  readonly #path: string;

  /** Uses `path`; its directory is created on the first append. */
  constructor(path: string) {
    this.#path = path;
  }

  /** The file. */
  get path(): string {
    return this.#path;
  }

  async append(entry: RotationLogEntry): Promise<void> {
    const fs = await import("node:fs/promises");
    const dir = this.#path.replace(/[/\\][^/\\]*$/, "");
    if (dir !== this.#path && dir !== "") await fs.mkdir(dir, { recursive: true });
    // One write of the whole line to a file opened with O_APPEND (flag "a").
    await fs.appendFile(this.#path, `${JSON.stringify(entryToJson(entry))}\n`, { mode: 0o600 });
  }

  async entries(
    filter: { rotationId?: string; secretName?: string } = {},
  ): Promise<RotationLogEntry[]> {
    let text: string;
    try {
      text = await (await import("node:fs/promises")).readFile(this.#path, "utf8");
    } catch (err) {
      if ((err as { code?: unknown }).code === "ENOENT") return [];
      throw err;
    }
    const out: RotationLogEntry[] = [];
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(line);
      } catch {
        continue; // a line cut short by a crash mid-write
      }
      const e = entryFromJson(raw);
      if (filter.rotationId !== undefined && e.rotationId !== filter.rotationId) continue;
      if (filter.secretName !== undefined && e.secretName !== filter.secretName) continue;
      out.push(e);
    }
    return out;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A {@linkcode RotationLogStore} in memory (tests, dry runs). */
export class MemoryRotationLog implements RotationLogStore {
  /** Every row appended. */
  readonly rows: RotationLogEntry[] = [];

  append(entry: RotationLogEntry): Promise<void> {
    this.rows.push({ ...entry });
    return Promise.resolve();
  }

  entries(filter: { rotationId?: string; secretName?: string } = {}): Promise<RotationLogEntry[]> {
    return Promise.resolve(
      this.rows.filter((e) =>
        (filter.rotationId === undefined || e.rotationId === filter.rotationId) &&
        (filter.secretName === undefined || e.secretName === filter.secretName)
      ).map((e) => ({ ...e })),
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
