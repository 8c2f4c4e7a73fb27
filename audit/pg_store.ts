/**
 * Reading and maintaining `secret_access_log`: verify the chains, query,
 * statistics, and prune with an archive and anchors that keep the chains
 * verifiable. Used by `keyward audit ...` and available to operators' tools.
 *
 * @module
 */

import type { Sql } from "postgres";
import { type AuditKey, canonicalAnchorText } from "./chain.ts";
import { toJsonLine } from "./jsonl_sink.ts";
import type { AuditCheckpoint, AuditRow } from "./types.ts";
import { type PruneAnchor, verifyAuditRows, type VerifyReport } from "./verify.ts";

const PLAIN_COLUMNS = `id, accessed_at, service, secret_name, action, outcome, source, backend,
  version, latency_ms, error_code, count, chain_id, seq, prev_mac, mac`;

/**
 * The stored time in whole microseconds (timestamptz's precision), so a time
 * moved by less than a millisecond is seen by the MAC check (a `Date` keeps
 * milliseconds only).
 */
const MICROS = (prefix: string) =>
  `(extract(epoch from ${prefix}accessed_at) * 1000000)::bigint AS accessed_at_us`;

const COLUMNS = `${PLAIN_COLUMNS}, ${MICROS("")}`;

const COLUMNS_L = `${PLAIN_COLUMNS.split(",").map((c) => `l.${c.trim()}`).join(", ")}, ${
  MICROS("l.")
}`;

/**
 * A row as `npm:postgres` returns it.
 *
 * @example A query of your own, converted with {@linkcode rowFromDb}
 * (Not run by `deno test --doc`: it needs a Postgres server with the migrations applied.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { type RawAuditRow, rowFromDb } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const raw: RawAuditRow[] = await sql`
 *   SELECT * FROM secret_access_log WHERE action = 'rotate' AND outcome <> 'ok' ORDER BY id`;
 * for (const row of raw.map(rowFromDb)) console.log(row.secretName, row.errorCode);
 * await sql.end();
 * ```
 */
export type RawAuditRow = Record<string, unknown>;

/**
 * Converts a raw `secret_access_log` row (snake_case columns, `bigint`s as
 * strings, timestamps as `Date`s) into an {@linkcode AuditRow}. With an
 * `accessed_at_us` column (the time in whole microseconds, as this module's
 * queries select it) the time keeps the stored precision; a `Date` alone
 * keeps milliseconds.
 *
 * @example
 * ```ts
 * import { rowFromDb } from "@keyward/secrets/postgres";
 *
 * const row = rowFromDb({
 *   id: "12", accessed_at: new Date(0), service: "api", secret_name: "db/password",
 *   action: "get", outcome: "ok", source: "cache", backend: "memory", version: null,
 *   latency_ms: 0, error_code: null, count: "3", chain_id: "chain-1", seq: "4",
 *   prev_mac: "ab".repeat(32), mac: "cd".repeat(32),
 * });
 * if (row.id !== 12 || row.count !== 3 || row.seq !== 4) throw new Error();
 * if (row.accessedAtMs !== 0 || row.errorCode !== null) throw new Error();
 * if (row.secretName !== "db/password" || row.prevMac !== "ab".repeat(32)) throw new Error();
 * ```
 */
export function rowFromDb(r: RawAuditRow): AuditRow {
  return {
    id: Number(r.id),
    accessedAtMs: r.accessed_at_us !== undefined && r.accessed_at_us !== null
      ? Number(r.accessed_at_us) / 1000
      : (r.accessed_at as Date).getTime(),
    service: r.service as string,
    secretName: r.secret_name as string,
    action: r.action as AuditRow["action"],
    outcome: r.outcome as AuditRow["outcome"],
    source: r.source as AuditRow["source"],
    backend: (r.backend ?? null) as string | null,
    version: (r.version ?? null) as string | null,
    latencyMs: Number(r.latency_ms),
    errorCode: (r.error_code ?? null) as string | null,
    count: Number(r.count),
    chainId: r.chain_id as string,
    seq: Number(r.seq),
    prevMac: r.prev_mac as string,
    mac: r.mac as string,
  };
}

/**
 * Every row, ordered by chain, position and id, read through a cursor of
 * `cursorRows` rows, so a large log is never held in memory at once.
 *
 * @example Exporting the whole log as JSON lines
 * (Not run by `deno test --doc`: it needs a Postgres server with the migrations applied.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { toJsonLine } from "@keyward/secrets";
 * import { streamAuditRows } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * for await (const row of streamAuditRows(sql, 500)) console.log(toJsonLine(row));
 * await sql.end();
 * ```
 */
export async function* streamAuditRows(sql: Sql, cursorRows = 2000): AsyncGenerator<AuditRow> {
  const cursor = sql.unsafe(`SELECT ${COLUMNS} FROM secret_access_log ORDER BY chain_id, seq, id`)
    .cursor(cursorRows);
  for await (const rows of cursor) {
    for (const r of rows) yield rowFromDb(r);
  }
}

/**
 * The prune anchors: per pruned chain, the last pruned position and MAC,
 * sealed under the audit key (see {@linkcode pruneAuditLog}).
 *
 * @example Checking the anchors against the audit key
 * (Not run by `deno test --doc`: it needs a Postgres server with the migrations applied.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { AuditKey, canonicalAnchorText } from "@keyward/secrets";
 * import { readAnchors } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const key = AuditKey.fromBase64(Deno.env.get("KEYWARD_AUDIT_KEY")!);
 * for (const anchor of await readAnchors(sql)) {
 *   if (key.macHex(canonicalAnchorText(anchor)) !== anchor.anchorMac) {
 *     console.error(`the anchor of chain ${anchor.chainId} was altered`);
 *   }
 * }
 * await sql.end();
 * ```
 */
export async function readAnchors(sql: Sql): Promise<PruneAnchor[]> {
  const rows = await sql`
    SELECT chain_id, seq, mac, pruned_before, anchor_mac FROM secret_access_log_anchor`;
  return rows.map((r) => ({
    chainId: r.chain_id as string,
    seq: Number(r.seq),
    mac: r.mac as string,
    prunedBeforeMs: (r.pruned_before as Date).getTime(),
    anchorMac: r.anchor_mac as string,
  }));
}

/**
 * Options of {@linkcode verifyPostgresAudit}.
 *
 * @example Verifying against the checkpoint the sinks exported
 * (Not run by `deno test --doc`: it needs a Postgres server with the migrations applied.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { AuditKey } from "@keyward/secrets";
 * import {
 *   readCheckpointFile,
 *   verifyPostgresAudit,
 *   type VerifyPostgresOptions,
 * } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const options: VerifyPostgresOptions = {
 *   key: AuditKey.fromBase64(Deno.env.get("KEYWARD_AUDIT_KEY")!),
 *   // kept away from the database, so deleting the newest rows shows as `truncated`
 *   checkpoint: await readCheckpointFile("/var/lib/keyward/audit.checkpoint.json"),
 * };
 * const report = await verifyPostgresAudit(sql, options);
 * for (const p of report.problems) console.error(`${p.kind}: ${p.detail}`);
 * await sql.end();
 * Deno.exitCode = report.ok ? 0 : 1;
 * ```
 */
export interface VerifyPostgresOptions {
  /** The audit key. */
  key: AuditKey;
  /** The last exported checkpoint, to find a truncated tail. */
  checkpoint?: AuditCheckpoint;
}

/**
 * Verifies every chain in `secret_access_log`, starting pruned chains at
 * their anchors.
 *
 * @example
 * (Not run by `deno test --doc`: it needs a Postgres server with the migrations applied.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { AuditKey } from "@keyward/secrets";
 * import { verifyPostgresAudit } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const key = AuditKey.fromBase64(Deno.env.get("KEYWARD_AUDIT_KEY")!);
 * const report = await verifyPostgresAudit(sql, { key });
 * if (!report.ok) console.error(report.first?.detail);
 * await sql.end();
 * ```
 */
export async function verifyPostgresAudit(
  sql: Sql,
  options: VerifyPostgresOptions,
): Promise<VerifyReport> {
  return await verifyAuditRows(streamAuditRows(sql), {
    key: options.key,
    anchors: await readAnchors(sql),
    ...(options.checkpoint ? { checkpoint: options.checkpoint } : {}),
  });
}

/**
 * Filters of {@linkcode queryAuditLog}.
 *
 * @example Polling one service's new rows, like `tail -f`
 * (Not run by `deno test --doc`: it needs a Postgres server with the migrations applied.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { type AuditQuery, queryAuditLog } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const query: AuditQuery = { service: "billing", since: new Date(Date.now() - 3_600_000) };
 * for (let poll = 0; poll < 3; poll++) {
 *   const rows = await queryAuditLog(sql, query); // the 100 newest, oldest first
 *   for (const r of rows) console.log(r.id, r.secretName, r.action, r.outcome);
 *   query.afterId = rows.at(-1)?.id ?? query.afterId; // next poll: only rows written since
 *   await new Promise((resolve) => setTimeout(resolve, 5_000));
 * }
 * await sql.end();
 * ```
 */
export interface AuditQuery {
  /** Only this secret. */
  secret?: string;
  /** Only this service. */
  service?: string;
  /** Only events at or after this time. */
  since?: Date;
  /** Only rows with a larger id (for following the log). */
  afterId?: number;
  /**
   * At most this many rows: the newest ones, returned oldest first.
   * @default {100}
   */
  limit?: number;
}

/**
 * Rows matching `q`, oldest first (at most `limit`, the newest ones).
 *
 * @example Who read one secret in the last hour
 * (Not run by `deno test --doc`: it needs a Postgres server with the migrations applied.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { queryAuditLog } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const rows = await queryAuditLog(sql, {
 *   secret: "db/password",
 *   since: new Date(Date.now() - 3_600_000),
 *   limit: 50,
 * });
 * for (const r of rows) console.log(r.service, r.action, r.outcome, new Date(r.accessedAtMs));
 * await sql.end();
 * ```
 */
export async function queryAuditLog(sql: Sql, q: AuditQuery = {}): Promise<AuditRow[]> {
  const limit = q.limit ?? 100;
  const rows = await sql`
    SELECT * FROM (
      SELECT ${sql.unsafe(COLUMNS)} FROM secret_access_log
      WHERE true
        ${q.secret !== undefined ? sql`AND secret_name = ${q.secret}` : sql``}
        ${q.service !== undefined ? sql`AND service = ${q.service}` : sql``}
        ${q.since !== undefined ? sql`AND accessed_at >= ${q.since}` : sql``}
        ${q.afterId !== undefined ? sql`AND id > ${q.afterId}` : sql``}
      ORDER BY id DESC LIMIT ${limit}
    ) newest ORDER BY id`;
  return rows.map(rowFromDb);
}

/**
 * One line of {@linkcode auditStats}.
 *
 * @example Secrets that fail for more than one call in ten
 * (Not run by `deno test --doc`: it needs a Postgres server with the migrations applied.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { auditStats, type AuditStatsRow } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const { rows } = await auditStats(sql, { since: new Date(Date.now() - 86_400_000) });
 * const failing: AuditStatsRow[] = rows.filter((r) => r.errors * 10 > r.reads + r.errors);
 * for (const r of failing) {
 *   console.warn(`${r.service} fails on ${r.secretName}: ${r.errors} errors, ${r.reads} reads`);
 * }
 * await sql.end();
 * ```
 */
export interface AuditStatsRow {
  /** The service. */
  service: string;
  /** The secret. */
  secretName: string;
  /** Successful reads (all sources). */
  reads: number;
  /** Reads served by a cache. */
  cacheHits: number;
  /** Reads served stale during an outage. */
  staleServes: number;
  /** Calls that failed (not found, denied, errors). */
  errors: number;
  /** Writes, promotions, deletions and rotations. */
  changes: number;
}

/**
 * Counts per (service, secret) since `since`, and the events the sinks lost.
 *
 * @example Cache hit rate per secret over the last day
 * (Not run by `deno test --doc`: it needs a Postgres server with the migrations applied.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { auditStats } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const { rows, dropped } = await auditStats(sql, { since: new Date(Date.now() - 86_400_000) });
 * for (const r of rows) console.log(r.service, r.secretName, r.cacheHits / Math.max(1, r.reads));
 * if (dropped > 0) console.warn(`${dropped} audit events were lost`);
 * await sql.end();
 * ```
 */
export async function auditStats(
  sql: Sql,
  options: { since?: Date } = {},
): Promise<{ rows: AuditStatsRow[]; dropped: number }> {
  const since = options.since ?? new Date(0);
  const rows = await sql`
    SELECT service, secret_name,
      coalesce(sum(count) FILTER (WHERE action = 'get' AND outcome = 'ok'), 0)::bigint AS reads,
      coalesce(sum(count) FILTER (WHERE source = 'cache'), 0)::bigint AS cache_hits,
      coalesce(sum(count) FILTER (WHERE source = 'stale'), 0)::bigint AS stale_serves,
      coalesce(sum(count) FILTER (WHERE outcome <> 'ok'), 0)::bigint AS errors,
      coalesce(sum(count) FILTER (
        WHERE action IN ('set', 'promote', 'delete', 'rotate') AND outcome = 'ok'), 0)::bigint
        AS changes
    FROM secret_access_log
    WHERE accessed_at >= ${since} AND action <> 'dropped'
    GROUP BY service, secret_name
    ORDER BY service, secret_name`;
  const dropped = await sql`
    SELECT coalesce(sum(count), 0)::bigint AS n FROM secret_access_log
    WHERE accessed_at >= ${since} AND action = 'dropped'`;
  return {
    rows: rows.map((r) => ({
      service: r.service as string,
      secretName: r.secret_name as string,
      reads: Number(r.reads),
      cacheHits: Number(r.cache_hits),
      staleServes: Number(r.stale_serves),
      errors: Number(r.errors),
      changes: Number(r.changes),
    })),
    dropped: Number(dropped[0].n),
  };
}

/**
 * Options of {@linkcode pruneAuditLog}.
 *
 * @example Archiving to a new file per cut-off before rows older than a year are deleted
 * (Not run by `deno test --doc`: it needs a Postgres server with the migrations applied.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { AuditKey } from "@keyward/secrets";
 * import { pruneAuditLog, type PruneOptions } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const before = new Date(Date.now() - 365 * 86_400_000);
 * const day = before.toISOString().slice(0, 10);
 * // createNew: an earlier archive is never overwritten
 * const file = await Deno.open(`audit-before-${day}.jsonl`, { createNew: true, write: true });
 * const options: PruneOptions = {
 *   key: AuditKey.fromBase64(Deno.env.get("KEYWARD_AUDIT_KEY")!),
 *   before,
 *   archive: file.writable, // closed by pruneAuditLog; aborted (nothing deleted) on failure
 * };
 * await pruneAuditLog(sql, options);
 * await sql.end();
 * ```
 */
export interface PruneOptions {
  /** The audit key (anchors are sealed under it). */
  key: AuditKey;
  /** Prune rows older than this. */
  before: Date;
  /** Receives the pruned rows as JSON lines before they are deleted; `null` for none. */
  archive: WritableStream<Uint8Array> | null;
}

/**
 * What {@linkcode pruneAuditLog} did.
 *
 * @example Pruning twice with the same cut-off deletes nothing more
 * (Not run by `deno test --doc`: it needs a Postgres server with the migrations applied.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { AuditKey } from "@keyward/secrets";
 * import { pruneAuditLog, type PruneReport } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const key = AuditKey.fromBase64(Deno.env.get("KEYWARD_AUDIT_KEY")!);
 * const before = new Date(Date.now() - 90 * 86_400_000);
 * const first: PruneReport = await pruneAuditLog(sql, { key, before, archive: null });
 * console.log(`pruned ${first.pruned} rows of ${first.chains} chains`);
 * const again = await pruneAuditLog(sql, { key, before, archive: null });
 * if (again.pruned !== 0 || again.chains !== 0) throw new Error("the anchors moved already");
 * await sql.end();
 * ```
 */
export interface PruneReport {
  /** Rows deleted. */
  pruned: number;
  /** Chains whose anchor moved. */
  chains: number;
}

/**
 * Deletes, per chain, the longest run of rows from the chain's start that
 * are all older than `before`, after writing them to `archive`; records an
 * anchor per chain (the last pruned position and MAC, sealed under the key)
 * so `verify` starts at the first remaining row. One transaction: a failed
 * archive deletes nothing. Run `verify` first: pruning carries forward
 * whatever the pruned rows held.
 *
 * @example Archiving and pruning rows older than 90 days
 * (Not run by `deno test --doc`: it needs a Postgres server with the migrations applied.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { AuditKey } from "@keyward/secrets";
 * import { pruneAuditLog, verifyPostgresAudit } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const key = AuditKey.fromBase64(Deno.env.get("KEYWARD_AUDIT_KEY")!);
 * if (!(await verifyPostgresAudit(sql, { key })).ok) throw new Error("verify before pruning");
 * const archive = await Deno.open("audit-archive.jsonl", { create: true, append: true });
 * const report = await pruneAuditLog(sql, {
 *   key,
 *   before: new Date(Date.now() - 90 * 86_400_000),
 *   archive: archive.writable, // closed by pruneAuditLog
 * });
 * console.log(`pruned ${report.pruned} rows of ${report.chains} chains`);
 * await sql.end();
 * ```
 */
export async function pruneAuditLog(sql: Sql, options: PruneOptions): Promise<PruneReport> {
  const encoder = new TextEncoder();
  const writer = options.archive?.getWriter() ?? null;
  try {
    const report = await sql.begin(async (tx) => {
      const bounds = await tx`
        WITH c AS (
          SELECT chain_id,
            min(seq) FILTER (WHERE accessed_at >= ${options.before}) AS keep_from,
            max(seq) AS last
          FROM secret_access_log GROUP BY chain_id
        )
        SELECT c.chain_id, coalesce(c.keep_from - 1, c.last) AS upto
        FROM c LEFT JOIN secret_access_log_anchor a ON a.chain_id = c.chain_id
        WHERE coalesce(c.keep_from - 1, c.last) > coalesce(a.seq, 0)
        ORDER BY c.chain_id`;
      if (bounds.length === 0) return { pruned: 0, chains: 0 };
      const chains = bounds.map((b) => b.chain_id as string);
      const uptos = bounds.map((b) => Number(b.upto));

      const lastRows = await tx`
        SELECT l.chain_id, l.seq, l.mac FROM secret_access_log l
        JOIN unnest(${chains}::text[], ${uptos}::bigint[]) AS b(chain_id, upto)
          ON l.chain_id = b.chain_id AND l.seq = b.upto`;
      const lastMac = new Map(lastRows.map((r) => [r.chain_id as string, r.mac as string]));

      if (writer) {
        const cursor = tx`
          SELECT ${tx.unsafe(COLUMNS_L)} FROM secret_access_log l
          JOIN unnest(${chains}::text[], ${uptos}::bigint[]) AS b(chain_id, upto)
            ON l.chain_id = b.chain_id AND l.seq <= b.upto
          ORDER BY l.chain_id, l.seq, l.id`.cursor(2000);
        for await (const rows of cursor) {
          const text = rows.map((r) => toJsonLine(rowFromDb(r)) + "\n").join("");
          await writer.write(encoder.encode(text));
        }
      }

      const beforeMs = options.before.getTime();
      for (let i = 0; i < chains.length; i++) {
        const mac = lastMac.get(chains[i]);
        if (mac === undefined) {
          throw new Error(
            `chain ${chains[i]} has no row at seq ${uptos[i]}; run audit verify before pruning`,
          );
        }
        const anchorMac = options.key.macHex(
          canonicalAnchorText({ chainId: chains[i], seq: uptos[i], mac, prunedBeforeMs: beforeMs }),
        );
        await tx`
          INSERT INTO secret_access_log_anchor (chain_id, seq, mac, pruned_before, anchor_mac)
          VALUES (${chains[i]}, ${uptos[i]}, ${mac}, ${options.before}, ${anchorMac})
          ON CONFLICT (chain_id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac,
            pruned_before = excluded.pruned_before, anchor_mac = excluded.anchor_mac,
            pruned_at = now()`;
      }
      const deleted = await tx`
        DELETE FROM secret_access_log l
        USING unnest(${chains}::text[], ${uptos}::bigint[]) AS b(chain_id, upto)
        WHERE l.chain_id = b.chain_id AND l.seq <= b.upto`;
      return { pruned: deleted.count, chains: chains.length };
    });
    if (writer) await writer.close();
    return report;
  } catch (err) {
    if (writer) await writer.abort(err).catch(() => {});
    throw err;
  }
}
