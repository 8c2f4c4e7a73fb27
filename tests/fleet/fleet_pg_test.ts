/**
 * Fleet scale on Postgres (issue 16), with the endpoint as a subprocess
 * (`server/serve.ts`): 200 instances on one endpoint's connection against
 * 200 instances each on its own LISTEN connection (refused by a Postgres
 * with max_connections=100), audit of 200 instances x 100 reads with the
 * endpoint killed in the middle, and a resent batch written once across a
 * kill. The figures go to docs/PERFORMANCE.md (tests/bench/fleet_bench.ts).
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { AuditKey } from "../../mod.ts";
import { applyMigrations, verifyPostgresAudit } from "../../postgres.ts";
import { openTestDatabase, startThrowawayCluster } from "../_postgres.ts";
import {
  auditThroughEndpoint,
  listenPerInstance,
  promotionThroughEndpoint,
  randomAuditKey,
  spawnEndpoint,
  tokenFile,
} from "../bench/fleet_bench.ts";

const INSTANCES = 200;

Deno.test("200 instances through one endpoint hold its connections only; 200 LISTEN connections hit max_connections=100", async () => {
  const cluster = await startThrowawayCluster();
  if (!cluster) return;
  try {
    const admin = postgres(cluster.url, { max: 1, onnotice: () => {} });
    const [{ max_connections }] = await admin`SHOW max_connections`;
    await admin.end();
    assert.equal(max_connections, "100");

    const small = await promotionThroughEndpoint(cluster.url, 20);
    const full = await promotionThroughEndpoint(cluster.url, INSTANCES);
    console.log(`fleet promotion: ${JSON.stringify(full)}`);
    // Every instance served the new version (lastServes resolved), also after the restart.
    assert.equal(full.instances, INSTANCES);
    assert.ok(
      full.servedWhileDown,
      "the instances served from their caches while the endpoint was down",
    );
    // The endpoint's connections, whatever the number of instances.
    assert.ok(full.endpointConnections >= 1 && full.endpointConnections <= 3);
    assert.equal(full.endpointConnections, small.endpointConnections);

    const direct = await listenPerInstance(cluster.url, INSTANCES);
    console.log(`fleet LISTEN per instance: ${JSON.stringify(direct)}`);
    assert.equal(direct.failedWith, "53300");
    assert.match(direct.message ?? "", /too many clients/);
    assert.ok(direct.opened < INSTANCES && direct.opened <= 100);
  } finally {
    await cluster.destroy();
  }
});

Deno.test("audit through the endpoint: 200 instances x 100 reads, the endpoint killed midway: every event once, chains verify", async () => {
  const db = await openTestDatabase("fleet_audit");
  if (!db) return;
  try {
    await applyMigrations(db.sql);
    const key = randomAuditKey();
    const r = await auditThroughEndpoint(db.url, key, INSTANCES, 100);
    console.log(`fleet audit: ${JSON.stringify(r)}`);
    assert.equal(r.dropped, 0);
    assert.equal(r.rows, INSTANCES * 100);
    assert.equal(r.duplicated, 0);
    assert.equal(r.incomplete, 0);
    assert.ok(r.chains >= 2, "the killed endpoint and the restarted one each wrote a chain");
    const report = await verifyPostgresAudit(db.sql, { key: AuditKey.fromBase64(key) });
    assert.ok(report.ok, report.first?.detail);
  } finally {
    await db.close();
  }
});

Deno.test("a batch resent after the endpoint was killed is written once (the last seq is read back from the table)", async () => {
  const db = await openTestDatabase("fleet_resend");
  if (!db) return;
  const { dir, path, token } = await tokenFile("fleet-resend");
  const key = randomAuditKey();
  const endpoint = await spawnEndpoint({
    KEYWARD_TOKENS_FILE: path,
    KEYWARD_SERVER_AUDIT_FILE: `${dir}/audit.jsonl`,
    KEYWARD_SERVER_AUDIT_INGEST: "postgres",
    KEYWARD_AUDIT_KEY: key,
    DATABASE_URL: db.url,
  });
  try {
    await applyMigrations(db.sql);
    const body = JSON.stringify({
      instance: "i-resend",
      events: [1, 2, 3].map((seq) => ({
        seq,
        accessedAtMs: 1_700_000_000_000,
        secretName: `database/s${seq}`,
        action: "get",
        outcome: "ok",
        source: "cache",
        backend: "memory",
        version: null,
        latencyMs: 1,
        errorCode: null,
        count: 1,
      })),
    });
    const post = async () => {
      const res = await fetch(`${endpoint.url}/v1/audit`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body,
      });
      return await res.json();
    };
    assert.deepEqual(await post(), { accepted: 3, duplicates: 0 });
    // Killed as if the answer had been lost; the instance resends to the new process.
    await endpoint.kill("SIGKILL");
    await endpoint.start();
    assert.deepEqual(await post(), { accepted: 0, duplicates: 3 });
    const rows = await db.sql<{ service: string; origin_seq: string }[]>`
      SELECT service, origin_seq::text FROM secret_access_log
      WHERE origin_instance = 'i-resend' ORDER BY origin_seq`;
    assert.deepEqual(rows.map((r) => r.origin_seq), ["1", "2", "3"]);
    assert.ok(rows.every((r) => r.service === "fleet-resend"), "the service is the token's");
  } finally {
    await endpoint.kill("SIGTERM");
    await db.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
