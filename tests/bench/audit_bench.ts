/**
 * Audit benchmarks (ratios against a baseline in the same run):
 * - a cache hit with audit on (withCache over withAudit, hits counted by
 *   recordServe) against the same cache with audit off;
 * - sustained Postgres sink throughput: 20,000 events recorded, sealed and
 *   inserted per iteration by `PostgresAuditSink`, against its two parts
 *   measured apart: the bare multi-row insert of 20,000 rows sealed
 *   beforehand (sealing is outside the timed part, `b.start()`/`b.end()`),
 *   and sealing 20,000 events alone (`AuditChain.seal`, no I/O). The sink's
 *   own overhead is its row minus the other two.
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
    `bare multi-row insert of ${EVENTS} rows sealed beforehand (unnest, 5000 per statement)`,
    { group: "pg-sink", baseline: true, n: 10, warmup: 2 },
    async (b) => {
      // Sealed outside the timed part: a fresh chain each time (chain_id, seq is unique).
      const chain = new AuditChain(key);
      const rows = Array.from({ length: EVENTS }, (_, i) => chain.seal(event(i)));
      b.start();
      for (let i = 0; i < rows.length; i += 5000) {
        const batch = rows.slice(i, i + 5000);
        await sql`
          INSERT INTO secret_access_log (accessed_at, service, secret_name, action, outcome, source,
            backend, version, latency_ms, error_code, count, chain_id, seq, prev_mac, mac)
          SELECT * FROM unnest(${
          batch.map((e) => new Date(e.accessedAtMs).toISOString())
        }::timestamptz[],
            ${batch.map((e) => e.service)}::text[], ${batch.map((e) => e.secretName)}::text[],
            ${batch.map((e) => e.action)}::text[], ${batch.map((e) => e.outcome)}::text[],
            ${batch.map((e) => e.source)}::text[], ${batch.map((e) => e.backend)}::text[],
            ${batch.map((e) => e.version)}::text[], ${batch.map((e) => e.latencyMs)}::float8[],
            ${batch.map((e) => e.errorCode)}::text[], ${batch.map((e) => e.count)}::int[],
            ${batch.map((e) => e.chainId)}::text[], ${batch.map((e) => e.seq)}::bigint[],
            ${batch.map((e) => e.prevMac)}::text[], ${batch.map((e) => e.mac)}::text[])`;
      }
      b.end();
    },
  );

  Deno.bench(
    `seal ${EVENTS} events (AuditChain.seal, no I/O)`,
    { group: "pg-sink", n: 10, warmup: 2 },
    (b) => {
      const events = Array.from({ length: EVENTS }, (_, i) => event(i));
      const chain = new AuditChain(key);
      b.start();
      for (const e of events) chain.seal(e);
      b.end();
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
