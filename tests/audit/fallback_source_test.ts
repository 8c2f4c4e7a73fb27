/**
 * Issue 14 §4: the audit trail accepts source `fallback` (migration 0003
 * widens the CHECK of secret_access_log.source) and still refuses others.
 */

import assert from "node:assert/strict";
import { applyMigrations } from "../../migrations/apply.ts";
import { openTestDatabase } from "../_postgres.ts";

const db = await openTestDatabase("fallback_source");
if (db) await applyMigrations(db.sql);

Deno.test({
  name: "secret_access_log takes source 'fallback' and refuses an unknown source",
  ignore: db === null,
  async fn() {
    const sql = db!.sql;
    const row = (source: string, seq: number) =>
      sql`
      INSERT INTO secret_access_log
        (accessed_at, service, secret_name, action, outcome, source, backend, chain_id, seq, prev_mac, mac)
      VALUES (now(), 'signal', 'webhook/secret', 'get', 'ok', ${source}, 'env', 'test:fallback', ${seq},
        ${"0".repeat(64)}, ${"1".repeat(64)})`;
    await row("fallback", 1);
    const [{ n }] = await sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM secret_access_log WHERE source = 'fallback'`;
    assert.equal(n, 1);
    await assert.rejects(row("somewhere", 2), /secret_access_log_source_check/);
  },
});
