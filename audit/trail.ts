/**
 * Reading an audit trail wherever it lives: the JSON-lines file of the
 * embedded default (with its size-rotated siblings) or Postgres
 * (`secret_access_log`). The CLI's `audit query|stats|verify` and the
 * operator console read through one {@linkcode AuditTrail}; each `verify`
 * run's result is recorded beside the trail (`<file>.verify.json`, or the
 * `audit_verify_runs` table) so the console can show the last one.
 *
 * @module
 */

import { readFile, rename, stat, writeFile } from "node:fs/promises";
import type { AuditKey } from "./chain.ts";
import { fromJsonLine } from "./jsonl_sink.ts";
import type { AuditCheckpoint, AuditRow } from "./types.ts";
import { verifyAuditRows, type VerifyReport } from "./verify.ts";
import type { AuditStatsRow } from "./pg_store.ts";

/**
 * What one `audit verify` run found, as recorded for the console.
 *
 * @example A run that found a changed row
 * ```ts
 * import type { VerifyRun } from "@keyward/secrets/server";
 *
 * const run: VerifyRun = {
 *   at: "2026-12-07T00:00:00.000Z", ok: false, chains: 1, rows: 31,
 *   first: { kind: "changed", detail: "row 3 of chain a was changed" }, by: "cli",
 * };
 * if (run.ok || run.first?.kind !== "changed") throw new Error();
 * ```
 */
export interface VerifyRun {
  /** When it ran (ISO 8601). */
  at: string;
  /** True when no problem was found. */
  ok: boolean;
  /** Chains seen. */
  chains: number;
  /** Rows checked. */
  rows: number;
  /** The first problem: its kind and one sentence; `null` when none. */
  first: { kind: string; detail: string } | null;
  /** Where it ran from: `cli` or `console`. */
  by: string;
}

/** The filter of {@linkcode AuditTrail.query}. */
export interface TrailQuery {
  /** Only this secret. */
  secret?: string;
  /** Only this service. */
  service?: string;
  /** Only events at or after. */
  since?: Date;
  /** At most this many, the newest kept (oldest first in the answer). */
  limit?: number;
}

/** An audit trail the CLI and the console read. */
export interface AuditTrail {
  /** `jsonl:<path>` or `postgres`. */
  readonly where: string;
  /** Matching rows, oldest first. */
  query(q?: TrailQuery): Promise<AuditRow[]>;
  /** Counts per (service, secret) since `since`, and the events sinks lost. */
  stats(since: Date): Promise<{ rows: AuditStatsRow[]; dropped: number }>;
  /** Checks every chain under `key`. */
  verify(key: AuditKey, checkpoint?: AuditCheckpoint): Promise<VerifyReport>;
  /** The last recorded verify run, or `undefined`. */
  lastVerify(): Promise<VerifyRun | undefined>;
  /** Records a verify run's result. */
  recordVerify(run: VerifyRun): Promise<void>;
}

/** A report as the run to record. */
export function verifyRunOf(report: VerifyReport, at: Date, by: string): VerifyRun {
  return {
    at: at.toISOString(),
    ok: report.ok,
    chains: report.chains,
    rows: report.rows,
    first: report.first ? { kind: report.first.kind, detail: report.first.detail } : null,
    by,
  };
}

function isRun(v: unknown): v is VerifyRun {
  const r = v as VerifyRun;
  return typeof v === "object" && v !== null && typeof r.at === "string" &&
    typeof r.ok === "boolean" && typeof r.chains === "number" && typeof r.rows === "number";
}

/** Parses one trail line; an unsealed line gets an empty chain. */
function rowOf(line: string, id: number): AuditRow | undefined {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const row = { ...fromJsonLine(line), id };
    if (typeof o.mac !== "string") {
      row.chainId = "";
      row.seq = 0;
      row.prevMac = "";
      row.mac = "";
    }
    return Number.isFinite(row.accessedAtMs) ? row : undefined;
  } catch {
    return undefined;
  }
}

/** Counts like `auditStats` does in SQL, over rows in memory. */
export function statsOfRows(
  rows: Iterable<AuditRow>,
  since: Date,
): { rows: AuditStatsRow[]; dropped: number } {
  const by = new Map<string, AuditStatsRow>();
  let dropped = 0;
  const t = since.getTime();
  for (const r of rows) {
    if (r.accessedAtMs < t) continue;
    if (r.action === "dropped") {
      dropped += r.count;
      continue;
    }
    const k = `${r.service}\u0000${r.secretName}`;
    let s = by.get(k);
    if (!s) {
      s = {
        service: r.service,
        secretName: r.secretName,
        reads: 0,
        cacheHits: 0,
        staleServes: 0,
        errors: 0,
        changes: 0,
      };
      by.set(k, s);
    }
    if (r.action === "get" && r.outcome === "ok") s.reads += r.count;
    if (r.source === "cache") s.cacheHits += r.count;
    if (r.source === "stale") s.staleServes += r.count;
    if (r.outcome !== "ok") s.errors += r.count;
    if (["set", "promote", "delete", "rotate"].includes(r.action) && r.outcome === "ok") {
      s.changes += r.count;
    }
  }
  const out = [...by.values()].sort((a, b) =>
    a.service < b.service
      ? -1
      : a.service > b.service
      ? 1
      : a.secretName < b.secretName
      ? -1
      : a.secretName > b.secretName
      ? 1
      : 0
  );
  return { rows: out, dropped };
}

function filterRows(rows: AuditRow[], q: TrailQuery): AuditRow[] {
  const since = q.since?.getTime();
  const out = rows.filter((r) =>
    (q.secret === undefined || r.secretName === q.secret) &&
    (q.service === undefined || r.service === q.service) &&
    (since === undefined || r.accessedAtMs >= since)
  );
  return q.limit === undefined ? out : out.slice(Math.max(0, out.length - q.limit));
}

/**
 * The JSON-lines trail at `path`: `path.<n>` ... `path.1` (older, rotated by
 * size) then `path`, each line a row whose id is its position. A missing
 * file is an empty trail; an unreadable line is skipped (verify reports the
 * gap it leaves in its chain). Verify runs go to `<path>.verify.json`.
 *
 * @example
 * ```ts
 * import { jsonLinesTrail } from "./trail.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const trail = jsonLinesTrail(`${dir}/audit.jsonl`);
 * if ((await trail.query()).length !== 0) throw new Error("a missing file is an empty trail");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function jsonLinesTrail(path: string, options: { maxFiles?: number } = {}): AuditTrail {
  const maxFiles = options.maxFiles ?? 20;
  const statePath = `${path}.verify.json`;
  const readAll = async (): Promise<AuditRow[]> => {
    const files: string[] = [];
    for (let n = maxFiles - 1; n >= 1; n--) files.push(`${path}.${n}`);
    files.push(path);
    const rows: AuditRow[] = [];
    let id = 0;
    for (const f of files) {
      let text: string;
      try {
        text = await readFile(f, "utf8");
      } catch (err) {
        if ((err as { code?: string }).code === "ENOENT") continue;
        throw err;
      }
      for (const line of text.split("\n")) {
        id += 1;
        if (line.trim() === "") continue;
        const row = rowOf(line, id);
        if (row) rows.push(row);
      }
    }
    return rows;
  };
  return {
    where: `jsonl:${path}`,
    async query(q = {}) {
      return filterRows(await readAll(), q);
    },
    async stats(since) {
      return statsOfRows(await readAll(), since);
    },
    async verify(key, checkpoint) {
      const rows = (await readAll()).filter((r) => r.chainId !== "");
      rows.sort((a, b) =>
        a.chainId < b.chainId ? -1 : a.chainId > b.chainId ? 1 : a.seq - b.seq || a.id - b.id
      );
      return await verifyAuditRows(rows, { key, ...(checkpoint ? { checkpoint } : {}) });
    },
    async lastVerify() {
      try {
        await stat(statePath);
      } catch {
        return undefined;
      }
      try {
        const v = JSON.parse(await readFile(statePath, "utf8"));
        return isRun(v) ? v : undefined;
      } catch {
        return undefined;
      }
    },
    async recordVerify(run) {
      const tmp = `${statePath}.${crypto.randomUUID()}.tmp`;
      await writeFile(tmp, JSON.stringify(run) + "\n", { mode: 0o600 });
      await rename(tmp, statePath);
    },
  };
}
