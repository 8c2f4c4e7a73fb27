import assert from "node:assert/strict";
import postgres from "postgres";
import { PostgresAuditSink } from "../../audit/pg_sink.ts";
import { verifyPostgresAudit } from "../../audit/pg_store.ts";
import { applyMigrations } from "../../migrations/apply.ts";
import { startThrowawayCluster } from "../_postgres.ts";
import { event, testKey } from "./_fixtures.ts";

const cluster = await startThrowawayCluster();

async function withDb<T>(fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(cluster!.url, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

if (cluster) await withDb((sql) => applyMigrations(sql));

async function waitUntil(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
}

Deno.test({
  name: "10,000 accesses while Postgres is down are all in the table, counted, once it is back",
  ignore: cluster === null,
  async fn() {
    await withDb((sql) => sql`TRUNCATE secret_access_log`);
    const sink = new PostgresAuditSink({
      url: cluster!.url,
      key: testKey(),
      batchSize: 500,
      retryMinMs: 20,
      retryMaxMs: 100,
      flushIntervalMs: 5,
    });
    for (let i = 0; i < 100; i++) sink.record(event({ secretName: "before/outage" }));
    await sink.flush();
    await cluster!.stop();
    for (let i = 0; i < 10_000; i++) sink.record(event({ secretName: `during/s${i % 50}` }));
    await waitUntil(() => sink.stats().failedInserts > 0, "the sink noticed the outage");
    assert.equal(sink.stats().written, 100, "nothing more is written while the database is down");
    await cluster!.start();
    await sink.flush();
    const stats = sink.stats();
    assert.equal(stats.written, 10_100);
    assert.equal(stats.dropped, 0);
    await sink.close();
    await withDb(async (sql) => {
      const [{ rows, accesses }] = await sql`
        SELECT count(*)::int AS rows, sum(count)::int AS accesses FROM secret_access_log
        WHERE secret_name LIKE 'during/%'`;
      assert.equal(rows, 10_000);
      assert.equal(accesses, 10_000);
      const report = await verifyPostgresAudit(sql, {
        key: testKey(),
        checkpoint: sink.checkpoint(),
      });
      assert.equal(report.ok, true, JSON.stringify(report.first));
      assert.equal(report.rows, 10_100);
    });
  },
});

Deno.test({
  name:
    "past its buffer the sink drops the oldest events, counts them, and records the count when Postgres returns",
  ignore: cluster === null,
  async fn() {
    await withDb((sql) => sql`TRUNCATE secret_access_log`);
    await cluster!.stop();
    const sink = new PostgresAuditSink({
      url: cluster!.url,
      key: testKey(),
      batchSize: 50,
      maxBufferedEvents: 200,
      retryMinMs: 20,
      retryMaxMs: 50,
      flushIntervalMs: 1,
    });
    try {
      sink.record(event({ secretName: "oldest/one" }));
      await waitUntil(() => sink.stats().failedInserts > 0, "the first batch failed");
      for (let i = 0; i < 999; i++) sink.record(event({ secretName: `burst/s${i}` }));
      assert.equal(sink.stats().buffered, 200);
      assert.equal(sink.stats().dropped, 800);
      await cluster!.start();
      await sink.flush();
      await sink.close();
    } finally {
      await cluster!.start().catch(() => {});
    }
    await withDb(async (sql) => {
      const rows =
        await sql`SELECT action, secret_name, count, error_code FROM secret_access_log ORDER BY seq`;
      const dropped = rows.filter((r) => r.action === "dropped");
      assert.equal(dropped.length, 1);
      assert.equal(dropped[0].count, 800);
      assert.equal(dropped[0].error_code, "buffer_full");
      const kept = rows.filter((r) => r.action === "get");
      assert.equal(kept.length, 200);
      assert.equal(kept[0].secret_name, "oldest/one", "the batch in flight is kept");
      assert.equal(kept.at(-1)!.secret_name, "burst/s998", "the newest events are kept");
      assert.equal(kept.length + dropped[0].count, 1000, "every access is accounted for");
      assert.equal((await verifyPostgresAudit(sql, { key: testKey() })).ok, true);
    });
  },
});

Deno.test({
  name: "close() gives up after closeTimeoutMs while Postgres stays down, and reports the loss",
  ignore: cluster === null,
  async fn() {
    await cluster!.stop();
    try {
      const sink = new PostgresAuditSink({
        url: cluster!.url,
        key: testKey(),
        retryMinMs: 10,
        retryMaxMs: 20,
        closeTimeoutMs: 200,
        flushIntervalMs: 1,
      });
      for (let i = 0; i < 10; i++) sink.record(event());
      await sink.close(); // returns although the database never came back
      assert.equal(sink.stats().dropped, 10);
      assert.deepEqual(sink.checkpoint().chains, {}, "nothing written, no head to vouch for");
    } finally {
      await cluster!.start();
    }
  },
});

Deno.test({
  name: "pg outage: remove the throwaway cluster",
  ignore: cluster === null,
  fn: () => cluster!.destroy(),
});
