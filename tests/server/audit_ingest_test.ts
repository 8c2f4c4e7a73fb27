/**
 * `POST /v1/audit` into the endpoint's Postgres sink: an event whose
 * `accessedAtMs` no sink can write is refused at the door (400), so it
 * cannot hold the sink's batch, and every batch after it, retrying for good.
 * And the fleet POST routes under the app's request limits.
 */

import assert from "node:assert/strict";
import { AuditKey, InMemoryRotationEvents } from "../../mod.ts";
import { applyMigrations, PostgresAuditSink } from "../../postgres.ts";
import { postgresAuditIngest } from "../../server.ts";
import { RecordingAuditSink } from "../../testing.ts";
import { openTestDatabase } from "../_postgres.ts";
import { appOver, auth, makeToken, seeded } from "./_helpers.ts";

const event = (seq: number, accessedAtMs: number) => ({
  seq,
  accessedAtMs,
  secretName: "database/password",
  action: "get",
  outcome: "ok",
  source: "cache",
  backend: "memory",
  version: "1",
  errorCode: null,
  latencyMs: 0.5,
  count: 1,
});

function post(
  app: { request(input: string, init: RequestInit): Response | Promise<Response> },
  token: string,
  batch: unknown,
) {
  const body = JSON.stringify(batch);
  return Promise.resolve(app.request("/v1/audit", {
    method: "POST",
    headers: {
      ...auth(token),
      "content-type": "application/json",
      "content-length": String(new TextEncoder().encode(body).length),
    },
    body,
  }));
}

Deno.test("POST /v1/audit: an access time beyond what a Date holds is refused (400) and the Postgres sink keeps writing", async () => {
  const db = await openTestDatabase("server_audit_ingest");
  if (!db) return;
  const key = AuditKey.fromBase64(
    btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))),
  );
  const sink = new PostgresAuditSink({ sql: db.sql, key, retryMinMs: 10, retryMaxMs: 50 });
  try {
    await applyMigrations(db.sql);
    const t = await makeToken({ service: "signal", roles: ["audit-write"] });
    const s = appOver(seeded(), [t.entry], { auditIngest: postgresAuditIngest(sink, db.sql) });
    const now = Date.now();
    // Before the fix: taken (200 expected, 503 answered once the insert failed), and the
    // sink retried that batch for good, so the valid batch below was never written either.
    const bad = await post(s.app, t.token, {
      instance: "i-1",
      events: [event(1, now), event(2, 1e20)],
    });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, "invalid_body");
    const good = await post(s.app, t.token, {
      instance: "i-1",
      events: [event(1, now), event(2, now)],
    });
    assert.equal(good.status, 200);
    assert.deepEqual(await good.json(), { accepted: 2, duplicates: 0 });
    const rows = await db.sql<{ origin_seq: string; service: string }[]>`
      SELECT origin_seq::text, service FROM secret_access_log WHERE origin_instance = 'i-1'
      ORDER BY origin_seq`;
    assert.deepEqual(rows.map((r) => [r.origin_seq, r.service]), [["1", "signal"], [
      "2",
      "signal",
    ]]);
    assert.equal(sink.stats().dropped, 0);
    await s.close();
  } finally {
    await sink.close();
    await db.close();
  }
});

Deno.test("POST /v1/audit: the documented access-time bounds are the enforced ones", async () => {
  const t = await makeToken({ roles: ["audit-write"] });
  const ingested = new RecordingAuditSink();
  const s = appOver(seeded(), [t.entry], {
    auditIngest: { sink: ingested, lastStored: () => Promise.resolve(0) },
  });
  try {
    const doc = await (await s.app.request("/openapi.json")).json();
    const at = doc.components.schemas.ForwardedAuditEvent.properties.accessedAtMs;
    assert.equal(at.minimum, 0);
    assert.equal(new Date(at.maximum).toISOString(), "9999-12-31T23:59:59.999Z");
    let seq = 0;
    for (
      const [ms, status] of [[at.minimum, 200], [at.maximum, 200], [-1, 400], [at.maximum + 1, 400]]
    ) {
      seq += 1;
      const res = await post(s.app, t.token, { instance: "i-2", events: [event(seq, ms)] });
      assert.equal(res.status, status, `accessedAtMs ${ms}`);
      await res.body?.cancel();
    }
    assert.deepEqual(ingested.events.map((e) => e.accessedAtMs), [at.minimum, at.maximum]);
  } finally {
    await s.close();
  }
});

Deno.test("the fleet POST routes keep the app's request line and header limits; only the body limit is their own", async () => {
  // Regression: a POST route's own limits replaced the app's, so `limits.maxUrlBytes` and
  // `limits.maxHeaderBytes` did not apply to POST /v1/events and POST /v1/audit.
  const t = await makeToken({ roles: ["events", "audit-write"], prefixes: ["*"] });
  const s = appOver(seeded(), [t.entry], {
    events: new InMemoryRotationEvents(),
    auditIngest: { sink: new RecordingAuditSink(), lastStored: () => Promise.resolve(0) },
    limits: { maxUrlBytes: 100, maxHeaderBytes: 2048 },
  });
  try {
    const body = (path: string) =>
      JSON.stringify(
        path === "/v1/events"
          ? { names: ["database/password"] }
          : { instance: "i-3", events: [event(1, Date.now())] },
      );
    const send = (path: string, extra: Record<string, string> = {}) => {
      const text = body(path);
      return Promise.resolve(s.app.request(path, {
        method: "POST",
        headers: {
          ...auth(t.token),
          "content-length": String(text.length),
          ...extra,
        },
        body: text,
      }));
    };
    for (const path of ["/v1/events", "/v1/audit"]) {
      assert.equal((await send(path)).status, 200, path);
      assert.equal((await send(`${path}?${"q".repeat(100)}`)).status, 414, `${path}: long URL`);
      assert.equal((await send(path, { "x-pad": "p".repeat(3000) })).status, 431, path);
    }
    // Their own body limit stays: more than the app's 1024 bytes is taken.
    const names = Array.from({ length: 100 }, (_, i) => `database/name-${i}`);
    const big = JSON.stringify({ names });
    assert.ok(big.length > 1024);
    const res = await s.app.request("/v1/events", {
      method: "POST",
      headers: { ...auth(t.token), "content-length": String(big.length) },
      body: big,
    });
    assert.equal(res.status, 200);
  } finally {
    await s.close();
  }
});
