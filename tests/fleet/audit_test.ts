/**
 * Audit through the endpoint (issue 16), without Postgres: the service comes
 * from the token, a resent batch is taken once, an instance buffers while
 * the endpoint is down and resends, and a full buffer is reported by a
 * `dropped` event rather than lost silently.
 */

import assert from "node:assert/strict";
import { originOf } from "../../audit/_origin.ts";
import type { AuditEvent, AuditSink } from "../../audit/types.ts";
import { AuditUnavailableError, MemorySecretManager, withAudit } from "../../mod.ts";
import { EndpointAuditSink } from "../../fleet.ts";
import type { AuditIngest } from "../../server/audit_ingest.ts";
import { makeToken } from "../server/_helpers.ts";
import { fleetTokens, startEndpoint, until } from "./_fleet.ts";

const PERMS: Deno.PermissionOptions = { net: ["127.0.0.1"] };

/** A store that outlives endpoint restarts: what a table would hold, with the origins. */
class Store {
  rows: (AuditEvent & { instance?: string; seq?: number })[] = [];
  ingest(): AuditIngest {
    const sink: AuditSink = {
      record: (e) => {
        const o = originOf.get(e);
        this.rows.push({ ...e, ...(o ? { instance: o.instance, seq: o.seq } : {}) });
      },
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    return {
      sink,
      lastStored: (instance) =>
        Promise.resolve(
          Math.max(0, ...this.rows.filter((r) => r.instance === instance).map((r) => r.seq ?? 0)),
        ),
    };
  }
}

const event = (name: string): AuditEvent => ({
  accessedAtMs: 1_700_000_000_000,
  service: "ignored",
  secretName: name,
  action: "get",
  outcome: "ok",
  source: "cache",
  backend: "memory",
  version: null,
  latencyMs: 1,
  errorCode: null,
  count: 1,
});

Deno.test({
  name: "POST /v1/audit: the token's service, never the body's; a resent batch is taken once",
  permissions: PERMS,
}, async () => {
  const store = new Store();
  const { token, entries } = await fleetTokens();
  const endpoint = await startEndpoint(entries, () => ({ auditIngest: store.ingest() }));
  try {
    const body = JSON.stringify({
      instance: "i-resend",
      service: "spoofed",
      events: [1, 2, 3].map((seq) => ({ seq, ...event(`database/s${seq}`), service: "spoofed" })),
    });
    const post = () =>
      fetch(`${endpoint.url}/v1/audit`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body,
      });
    const first = await post();
    assert.deepEqual(await first.json(), { accepted: 3, duplicates: 0 });
    const again = await post();
    assert.deepEqual(await again.json(), { accepted: 0, duplicates: 3 });
    assert.equal(store.rows.length, 3);
    assert.deepEqual(new Set(store.rows.map((r) => r.service)), new Set(["fleet-svc"]));
    // After a restart the endpoint learns the last seq from the store.
    await endpoint.stop();
    await endpoint.start();
    const third = await post();
    assert.deepEqual(await third.json(), { accepted: 0, duplicates: 3 });
    assert.equal(store.rows.length, 3);
    // Refusals: a bad body, a token without audit-write.
    const bad = await fetch(`${endpoint.url}/v1/audit`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ instance: "i", events: [{ seq: 2 }, { seq: 1 }] }),
    });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
    const reader = await makeToken({ roles: ["read"] });
    const other = await startEndpoint([reader.entry], () => ({ auditIngest: store.ingest() }));
    const denied = await fetch(`${other.url}/v1/audit`, {
      method: "POST",
      headers: { authorization: `Bearer ${reader.token}`, "content-type": "application/json" },
      body,
    });
    assert.equal(denied.status, 403);
    await denied.body?.cancel();
    await other.stop();
  } finally {
    await endpoint.stop();
  }
});

Deno.test({
  name: "an instance buffers while the endpoint is down and resends: every event once",
  permissions: PERMS,
}, async () => {
  const store = new Store();
  const { token, entries } = await fleetTokens();
  const endpoint = await startEndpoint(entries, () => ({ auditIngest: store.ingest() }));
  const sink = new EndpointAuditSink({
    url: endpoint.url,
    token,
    flushIntervalMs: 5,
    retryMinMs: 20,
    retryMaxMs: 100,
  });
  const secrets = withAudit(new MemorySecretManager(), sink, { service: "from-env" });
  try {
    for (let i = 0; i < 5; i++) await secrets.listSecrets(`database/a${i}/`);
    await sink.flush();
    await endpoint.stop();
    for (let i = 0; i < 5; i++) await secrets.listSecrets(`database/b${i}/`);
    const flushed = sink.flush();
    await until(() => sink.health().failing, 5_000, "a failed send");
    assert.equal(sink.health().lastError !== null, true);
    await endpoint.start();
    await flushed;
    assert.equal(store.rows.length, 10);
    assert.deepEqual(store.rows.map((r) => r.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.ok(store.rows.every((r) => r.instance === sink.instanceId && r.service === "fleet-svc"));
    assert.equal(sink.stats().dropped, 0);
    assert.ok(sink.stats().failedPosts > 0, "the sends during the outage failed and were retried");
  } finally {
    await secrets.close();
    await endpoint.stop();
  }
});

Deno.test({
  name:
    "a full buffer while the endpoint is down: the oldest are dropped and a dropped event says how many",
  permissions: PERMS,
}, async () => {
  const store = new Store();
  const { token, entries } = await fleetTokens();
  const endpoint = await startEndpoint(entries, () => ({ auditIngest: store.ingest() }));
  await endpoint.stop();
  const sink = new EndpointAuditSink({
    url: endpoint.url,
    token,
    batchSize: 5,
    maxBufferedEvents: 5,
    flushIntervalMs: 5,
    retryMinMs: 20,
    retryMaxMs: 50,
  });
  try {
    for (let i = 0; i < 12; i++) sink.record(event(`database/n${i}`));
    // While a batch of up to 5 waits to be resent, 7 or more of the 12 are dropped.
    const lost = sink.stats().dropped;
    assert.ok(lost >= 7, `dropped ${lost}`);
    const flushed = sink.flush();
    await endpoint.start();
    await flushed;
    const dropped = store.rows.filter((r) => r.action === "dropped");
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0].count, lost);
    assert.equal(store.rows.filter((r) => r.action === "get").length, 12 - lost);
  } finally {
    await sink.close();
    await endpoint.stop();
  }
});

Deno.test({
  name: 'onFailure "fail": a read refused while the endpoint is down, answered once it is back',
  permissions: PERMS,
}, async () => {
  const store = new Store();
  const { token, entries } = await fleetTokens();
  const endpoint = await startEndpoint(entries, () => ({ auditIngest: store.ingest() }));
  const sink = new EndpointAuditSink({
    url: endpoint.url,
    token,
    flushIntervalMs: 5,
    retryMinMs: 20,
    retryMaxMs: 50,
  });
  const secrets = withAudit(
    new MemorySecretManager({ initial: { "database/password": "pw-canary-0001" } }),
    sink,
    { service: "from-env", onFailure: "fail" },
  );
  try {
    assert.equal(await secrets.getSecret("database/password"), "pw-canary-0001");
    await endpoint.stop();
    await assert.rejects(secrets.getSecret("database/password"), (err: unknown) => {
      assert.ok(err instanceof AuditUnavailableError, String(err));
      assert.ok(!String((err as Error).message).includes("pw-canary-0001"));
      return true;
    });
    await endpoint.start();
    assert.equal(await secrets.getSecret("database/password"), "pw-canary-0001");
    // Every read's event is stored, the refused one included (it stayed buffered).
    assert.equal(store.rows.filter((r) => r.action === "get").length, 3);
  } finally {
    await secrets.close();
    await endpoint.stop();
  }
});
