// Issue 18 made the cache's entries smaller (derived refresh instant, the stale window as an offset
// from expiresAt, version and stage as fields, serve events built on first use). These pin the
// behaviour the old layout had where the new one computes instead of storing.
import assert from "node:assert/strict";
import {
  InMemoryRotationEvents,
  MemorySecretManager,
  SecretAccessError,
  type ServeEvent,
  withCache,
} from "../../mod.ts";
import { FaultyManager } from "../../testing.ts";
import { FakeClock } from "./_helpers.ts";

Deno.test("an entry expired early by a rotation event keeps its stale window where it was", async () => {
  const clock = new FakeClock();
  const t0 = clock.t;
  const backend = new FaultyManager(
    new MemorySecretManager({ initial: { "db/password": "pw-v1-000001" } }),
  );
  const events = new InMemoryRotationEvents();
  const cache = withCache(backend, {
    now: clock.now,
    ttlMs: 1_000,
    staleIfErrorMs: 5_000,
    staleRetryMs: 0,
    rotationEvents: events,
  });
  await cache.ready;
  assert.equal(await cache.getSecret("db/password"), "pw-v1-000001"); // stale until t0 + 6,000
  clock.t = t0 + 500;
  backend.fault = "down";
  await events.publish(["db/password"]); // expires the entry now, refetch fails
  await cache.whenIdle();
  assert.equal(cache.stats().refreshErrors, 1);
  clock.t = t0 + 5_900; // past 500 + 5,000, within the original window
  assert.equal(await cache.getSecret("db/password"), "pw-v1-000001");
  clock.t = t0 + 6_001;
  await assert.rejects(cache.getSecret("db/password"), SecretAccessError);
  await cache.close();
});

Deno.test("a hit answers readSecret() with the same fields as the backend's read", async () => {
  const backend = new MemorySecretManager({ initial: { "api/token": "tok-v1-000001" } });
  const pending = await backend.setSecret("api/token", "tok-v2-000002", { stage: "pending" });
  const cache = withCache(backend);
  for (const opts of [undefined, { stage: "pending" as const }, { version: pending.version }]) {
    const miss = await cache.readSecret("api/token", opts);
    const hit = await cache.readSecret("api/token", opts);
    assert.deepStrictEqual(hit, miss, JSON.stringify(opts));
    assert.notEqual(hit, miss, "a copy, not the cached object");
  }
  assert.equal(cache.stats().hits, 3);
  await cache.close();
});

Deno.test("serve events are built once per entry and kind, frozen, with the read's options", async () => {
  const seen: ServeEvent[] = [];
  const cache = withCache(
    new MemorySecretManager({ initial: { "db/login": { user: "app", password: "pw-000001" } } }),
    { onServe: (e) => void seen.push(e) },
  );
  await cache.getSecret("db/login", { field: "user" });
  await cache.getSecret("db/login", { field: "user" });
  await cache.getSecret("db/login", { field: "user" });
  await cache.getSecret("db/login");
  await cache.getSecret("db/login");
  const hits = seen.filter((e) => e.source === "cache");
  assert.equal(hits.length, 3);
  assert.deepEqual(hits[0], { name: "db/login", source: "cache", field: "user" });
  assert.equal(hits[0], hits[1], "the same event object for the same entry");
  assert.ok(Object.isFrozen(hits[0]));
  assert.deepEqual(hits[2], { name: "db/login", source: "cache" });
  await cache.close();
});
