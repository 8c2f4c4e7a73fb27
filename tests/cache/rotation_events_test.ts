import assert from "node:assert/strict";
import {
  InMemoryRotationEvents,
  MemorySecretManager,
  type RotationEvents,
  SecretAccessError,
  withCache,
} from "../../mod.ts";
import { FaultyManager } from "../../testing.ts";
import { FakeClock, sharedView, withLogs } from "./_helpers.ts";

function twoCaches() {
  const clock = new FakeClock();
  const shared = new MemorySecretManager({ initial: { "db/password": "pw-v1-000001" } });
  const backend2 = new FaultyManager(shared);
  const events = new InMemoryRotationEvents();
  const one = withCache(sharedView(shared), { now: clock.now, rotationEvents: events });
  const two = withCache(sharedView(backend2), { now: clock.now, rotationEvents: events });
  return { clock, shared, backend2, events, one, two };
}

Deno.test("a write through one subscribed cache makes the other refetch the name", async () => {
  const { one, two, backend2 } = twoCaches();
  await Promise.all([one.ready, two.ready]);
  assert.equal(await two.getSecret("db/password"), "pw-v1-000001");
  assert.equal(await two.getSecret("db/password", { field: "value" }), "pw-v1-000001");
  const pending = await one.setSecret("db/password", "pw-v2-000002", { stage: "pending" });
  await one.promote("db/password", pending.version);
  await two.whenIdle();
  const calls = backend2.calls.get;
  assert.equal(await two.getSecret("db/password"), "pw-v2-000002");
  assert.equal(await two.getSecret("db/password", { field: "value" }), "pw-v2-000002");
  assert.equal(backend2.calls.get, calls, "the refetch already happened in the background");
  await one.close();
  await two.close();
});

Deno.test("a rotation event while the backend is down keeps the old value as the last good one", async () => {
  const { two, backend2, events } = twoCaches();
  await two.getSecret("db/password");
  backend2.fault = "down";
  await events.publish(["db/password"]);
  await two.whenIdle();
  assert.equal(two.stats().refreshErrors, 1);
  assert.equal(await two.getSecret("db/password"), "pw-v1-000001");
  assert.equal(two.stats().staleServes, 1);
  await two.close();
});

Deno.test("a reconnect refreshes everything cached, since events may have been missed", async () => {
  const { two, backend2, events, shared } = twoCaches();
  await two.getSecret("db/password");
  await shared.setSecret("other/x", "x-v1-000001");
  await two.getSecret("other/x");
  await shared.setSecret("db/password", "pw-v2-000002");
  await shared.setSecret("other/x", "x-v2-000002");
  await events.publish(["unrelated/name"]);
  await two.whenIdle();
  assert.equal(await two.getSecret("db/password"), "pw-v1-000001", "no event named it");
  const calls = backend2.calls.get;
  events.simulateReconnect();
  await two.whenIdle();
  assert.equal(backend2.calls.get, calls + 2);
  assert.equal(await two.getSecret("db/password"), "pw-v2-000002");
  assert.equal(await two.getSecret("other/x"), "x-v2-000002");
  await two.close();
});

Deno.test("a rotation event for a deleted secret drops it", async () => {
  const { two, events, shared } = twoCaches();
  await two.getSecret("db/password");
  await shared.deleteSecret("db/password");
  await events.publish(["db/password"]);
  await two.whenIdle();
  assert.equal(two.stats().size, 0);
  await two.close();
});

Deno.test("subscribe() stops on request and on close()", async () => {
  const events = new InMemoryRotationEvents();
  const backend = new FaultyManager(new MemorySecretManager({ initial: { a: "value-a-0001" } }));
  const cache = withCache(backend);
  const stop = await cache.subscribe(events);
  await cache.subscribe(events);
  assert.equal(events.subscriberCount, 2);
  await stop();
  await stop();
  assert.equal(events.subscriberCount, 1);
  await cache.getSecret("a");
  await events.publish(["a"]);
  await cache.whenIdle();
  assert.equal(backend.calls.get, 2);
  await cache.close();
  assert.equal(events.subscriberCount, 0);
});

Deno.test("a failed subscription rejects ready and a failed publish does not fail the write", async () => {
  await withLogs(async (records) => {
    const broken: RotationEvents = {
      publish: () => Promise.reject(new SecretAccessError({}, "down", "unreachable")),
      subscribe: () => Promise.reject(new SecretAccessError({}, "down", "unreachable")),
    };
    const cache = withCache(new MemorySecretManager(), { rotationEvents: broken });
    await assert.rejects(cache.ready, SecretAccessError);
    const v = await cache.setSecret("db/password", "pw-v1-000001");
    assert.equal(v.name, "db/password");
    assert.ok(records.some((r) => r.level === "warning" && r.properties.secret === "db/password"));
    assert.ok(records.some((r) => r.level === "error"));
    await cache.close();
  });
});
