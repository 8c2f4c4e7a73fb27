/**
 * Audit benchmarks (ratios against a baseline in the same run):
 * - a cache hit with audit on (withCache over withAudit, hits counted by
 *   recordServe) against the same cache with audit off;
 * - sustained Postgres sink throughput: 20,000 events sealed and inserted
 *   per iteration, against the bare multi-row insert of the same rows.
 *
 * `deno task bench` (Postgres from DATABASE_URL; the second group is skipped without it).
 */

import postgres from "postgres";
import { withAudit } from "../../audit/audited_manager.ts";
import { AuditChain, AuditKey } from "../../audit/chain.ts";
import { PostgresAuditSink } from "../../audit/pg_sink.ts";
import type { AuditEvent } from "../../audit/types.ts";
import { MemorySecretManager } from "../../backends/memory.ts";
import { withCache } from "../../cache/cached_manager.ts";
import { applyMigrations } from "../../migrations/apply.ts";
import { RecordingAuditSink } from "../../testing/recording_sink.ts";
import { databaseUrl } from "../_postgres.ts";

const key = AuditKey.fromBase64(btoa("bench-audit-key-0123456789abcdefghij"));
const initial = { "alpaca/api_key_id": "PKBENCH000000000000" };

const plain = withCache(new MemorySecretManager({ initial }));
await plain.getSecret("alpaca/api_key_id");
const sink = new RecordingAuditSink();
const audited = withAudit(new MemorySecretManager({ initial }), sink, { service: "bench" });
const withAuditCache = withCache(audited, { onServe: audited.recordServe });
await withAuditCache.getSecret("alpaca/api_key_id");

const HITS = 10_000;

Deno.bench(`${HITS} cache hits, audit off`, { group: "cache-hit", baseline: true }, async () => {
  for (let i = 0; i < HITS; i++) await plain.getSecret("alpaca/api_key_id");
});

Deno.bench(
  `${HITS} cache hits, audit on (recordServe counter)`,
  { group: "cache-hit" },
  async () => {
    for (let i = 0; i < HITS; i++) await withAuditCache.getSecret("alpaca/api_key_id");
  },
);

const EVENTS = 20_000;
const url = await databaseUrl();
const event = (i: number): AuditEvent => ({
  accessedAtMs: Date.now(),
  service: "bench",
  secretName: `app/secret_${i % 100}`,
  action: "get",
  outcome: "ok",
  source: "backend",
  backend: "vault",
  version: "3",
  latencyMs: 1.25,
  errorCode: null,
  count: 1,
});

if (url) {
  const u = new URL(url);
  u.searchParams.set("search_path", "bench_audit");
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe("DROP SCHEMA IF EXISTS bench_audit CASCADE; CREATE SCHEMA bench_audit");
  await admin.end();
  const sql = postgres(u.toString(), { max: 2, onnotice: () => {} });
  await applyMigrations(sql);
  const pgSink = new PostgresAuditSink({ sql, key, batchSize: 5000, maxBufferedEvents: 50_000 });

  Deno.bench(
    `bare multi-row insert of ${EVENTS} pre-sealed rows (unnest, 5000 per statement)`,
    { group: "pg-sink", baseline: true, n: 10, warmup: 2 },
    async () => {
      const chain = new AuditChain(key);
      const rows = Array.from({ length: EVENTS }, (_, i) => chain.seal(event(i)));
      for (let i = 0; i < rows.length; i += 5000) {
        const b = rows.slice(i, i + 5000);
        await sql`
          INSERT INTO secret_access_log (accessed_at, service, secret_name, action, outcome, source,
            backend, version, latency_ms, error_code, count, chain_id, seq, prev_mac, mac)
          SELECT * FROM unnest(${
          b.map((e) => new Date(e.accessedAtMs).toISOString())
        }::timestamptz[],
            ${b.map((e) => e.service)}::text[], ${b.map((e) => e.secretName)}::text[],
            ${b.map((e) => e.action)}::text[], ${b.map((e) => e.outcome)}::text[],
            ${b.map((e) => e.source)}::text[], ${b.map((e) => e.backend)}::text[],
            ${b.map((e) => e.version)}::text[], ${b.map((e) => e.latencyMs)}::float8[],
            ${b.map((e) => e.errorCode)}::text[], ${b.map((e) => e.count)}::int[],
            ${b.map((e) => e.chainId)}::text[], ${b.map((e) => e.seq)}::bigint[],
            ${b.map((e) => e.prevMac)}::text[], ${b.map((e) => e.mac)}::text[])`;
      }
    },
  );

  Deno.bench(
    `PostgresAuditSink: record ${EVENTS} events, seal and write them (flush)`,
    { group: "pg-sink", n: 10, warmup: 2 },
    async () => {
      for (let i = 0; i < EVENTS; i++) pgSink.record(event(i));
      await pgSink.flush();
    },
  );

  globalThis.addEventListener("unload", () => {
    // connections are closed by the process exit; the schema is left for inspection
  });
}
