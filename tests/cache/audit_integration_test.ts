import assert from "node:assert/strict";
import { MemorySecretManager, withAudit, withCache } from "../../mod.ts";
import { FaultyManager, RecordingAuditSink } from "../../testing.ts";
import { FakeClock } from "./_helpers.ts";

const CANARY = `canary-${crypto.randomUUID()}`;

Deno.test("with the audit wrapper inside the cache, backend reads, hits and stale serves are all recorded", async () => {
  const clock = new FakeClock();
  const backend = new FaultyManager(
    new MemorySecretManager({ initial: { "db/password": CANARY }, now: clock.now }),
  );
  const sink = new RecordingAuditSink();
  const audited = withAudit(backend, sink, { service: "billing", now: clock.now });
  const cache = withCache(audited, {
    ttlMs: 60_000,
    staleIfErrorMs: 600_000,
    now: clock.now,
    onServe: audited.recordServe,
  });
  await cache.getSecret("db/password");
  await cache.getSecret("db/password");
  await cache.getSecret("db/password");
  backend.fault = "down";
  clock.advance(120_000);
  assert.equal(await cache.getSecret("db/password"), CANARY);
  await cache.close();
  const bySource = (source: string) => sink.events.filter((e) => e.source === source);
  assert.equal(bySource("backend").length, 2, "the first read and the failed refresh");
  assert.deepEqual(bySource("backend").map((e) => e.outcome), ["ok", "error"]);
  assert.equal(bySource("cache").reduce((n, e) => n + (e.count ?? 1), 0), 2);
  assert.equal(bySource("stale").reduce((n, e) => n + (e.count ?? 1), 0), 1);
  assert.ok(!JSON.stringify(sink.events).includes(CANARY), "an audit row held the value");
});
