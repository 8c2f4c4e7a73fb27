import assert from "node:assert/strict";
import { PostgresAuditSink } from "../../audit/pg_sink.ts";
import { verifyPostgresAudit } from "../../audit/pg_store.ts";
import { withAudit } from "../../audit/audited_manager.ts";
import { applyMigrations } from "../../migrations/apply.ts";
import { MemorySecretManager } from "../../backends/memory.ts";
import { openTestDatabase } from "../_postgres.ts";
import { event, testKey } from "./_fixtures.ts";

const db = await openTestDatabase("audit_pg_sink");
if (db) await applyMigrations(db.sql);

async function reset() {
  await db!.sql`TRUNCATE secret_access_log, secret_access_log_anchor`;
}

Deno.test({
  name: "PostgresAuditSink writes every event of an audited manager as one chained row",
  ignore: db === null,
  async fn() {
    await reset();
    const sink = new PostgresAuditSink({ sql: db!.sql, key: testKey() });
    const secrets = withAudit(
      new MemorySecretManager({ initial: { "db/password": "pg-canary-7f3a9c" } }),
      sink,
      { service: "billing" },
    );
    await secrets.getSecret("db/password");
    await secrets.getSecret("db/missing").catch(() => {});
    const v = await secrets.setSecret("db/password", "pg-canary-second-7f3a9c");
    await secrets.close();
    const rows = await db!.sql`
      SELECT action, outcome, source, secret_name, version, error_code, seq, chain_id
      FROM secret_access_log ORDER BY id`;
    assert.deepEqual(rows.map((r) => [r.action, r.outcome, r.secret_name, r.error_code]), [
      ["get", "ok", "db/password", null],
      ["get", "not_found", "db/missing", "not_found"],
      ["set", "ok", "db/password", null],
    ]);
    assert.equal(rows[2].version, v.version);
    assert.deepEqual(rows.map((r) => Number(r.seq)), [1, 2, 3]);
    assert.ok(rows.every((r) => r.chain_id === sink.chainId));
    const all = JSON.stringify(await db!.sql`SELECT * FROM secret_access_log`);
    assert.ok(!all.includes("pg-canary"), "no value reaches a row");
    assert.equal((await verifyPostgresAudit(db!.sql, { key: testKey() })).ok, true);
  },
});

Deno.test({
  name: "record() returns at once and batches are written in multi-row inserts",
  ignore: db === null,
  async fn() {
    await reset();
    const sink = new PostgresAuditSink({ sql: db!.sql, key: testKey(), batchSize: 100 });
    for (let i = 0; i < 1050; i++) sink.record(event({ secretName: `app/s${i % 7}` }));
    assert.ok(sink.stats().buffered > 0, "nothing is written synchronously");
    await sink.flush();
    assert.equal(sink.stats().written, 1050);
    const [{ n, maxseq }] = await db!.sql`
      SELECT count(*)::int AS n, max(seq)::int AS maxseq FROM secret_access_log`;
    assert.equal(n, 1050);
    assert.equal(maxseq, 1050);
    await sink.close();
  },
});

Deno.test({
  name: "two sinks write two independent chains that both verify",
  ignore: db === null,
  async fn() {
    await reset();
    const a = new PostgresAuditSink({ sql: db!.sql, key: testKey(), flushIntervalMs: 1 });
    const b = new PostgresAuditSink({ sql: db!.sql, key: testKey(), flushIntervalMs: 1 });
    for (let i = 0; i < 50; i++) {
      a.record(event({ service: "a" }));
      b.record(event({ service: "b" }));
    }
    await Promise.all([a.close(), b.close()]);
    const report = await verifyPostgresAudit(db!.sql, { key: testKey() });
    assert.equal(report.ok, true);
    assert.equal(report.chains, 2);
    assert.equal(report.rows, 100);
  },
});

Deno.test({
  name: "close() exports the chain head as a checkpoint",
  ignore: db === null,
  async fn() {
    await reset();
    const seen: unknown[] = [];
    const sink = new PostgresAuditSink({
      sql: db!.sql,
      key: testKey(),
      onCheckpoint: (cp) => {
        seen.push(cp);
      },
    });
    sink.record(event());
    sink.record(event());
    await sink.exportCheckpoint();
    sink.record(event());
    await sink.close();
    const [onDemand, onClose] = seen as { chains: Record<string, { seq: number; mac: string }> }[];
    assert.equal(onDemand.chains[sink.chainId].seq, 2);
    assert.equal(onClose.chains[sink.chainId].seq, 3);
    const [row] = await db!.sql`SELECT mac FROM secret_access_log WHERE seq = 3`;
    assert.equal(onClose.chains[sink.chainId].mac, row.mac);
  },
});

Deno.test({ name: "pg sink: close the test database", ignore: db === null, fn: () => db!.close() });
