/**
 * The audit trail in Postgres for the CLI and the console: `secret_access_log`,
 * with verify runs recorded in `audit_verify_runs` (migration 0005).
 *
 * @module
 */

import type { Sql } from "postgres";
import { auditStats, queryAuditLog, verifyPostgresAudit } from "./pg_store.ts";
import type { AuditTrail } from "./trail.ts";

/**
 * The trail in Postgres: `secret_access_log`; verify runs go to
 * `audit_verify_runs` (migration 0005).
 */
export function postgresTrail(sql: Sql): AuditTrail {
  return {
    where: "postgres",
    query: (q = {}) =>
      queryAuditLog(sql, {
        ...(q.secret !== undefined ? { secret: q.secret } : {}),
        ...(q.service !== undefined ? { service: q.service } : {}),
        ...(q.since ? { since: q.since } : {}),
        limit: q.limit ?? 1_000_000,
      }),
    stats: (since) => auditStats(sql, { since }),
    verify: (key, checkpoint) =>
      verifyPostgresAudit(sql, { key, ...(checkpoint ? { checkpoint } : {}) }),
    async lastVerify() {
      const rows = await sql`
        SELECT ran_at, ok, chains, rows_checked, first_kind, first_detail, ran_by
        FROM audit_verify_runs ORDER BY id DESC LIMIT 1`;
      if (rows.length === 0) return undefined;
      const r = rows[0];
      return {
        at: new Date(r.ran_at as string | Date).toISOString(),
        ok: r.ok as boolean,
        chains: Number(r.chains),
        rows: Number(r.rows_checked),
        first: r.first_kind === null
          ? null
          : { kind: r.first_kind as string, detail: r.first_detail as string },
        by: r.ran_by as string,
      };
    },
    async recordVerify(run) {
      await sql`
        INSERT INTO audit_verify_runs
          (ran_at, ok, chains, rows_checked, first_kind, first_detail, ran_by)
        VALUES (${new Date(run.at)}, ${run.ok}, ${run.chains}, ${run.rows},
          ${run.first?.kind ?? null}, ${run.first?.detail ?? null}, ${run.by})`;
    },
  };
}
