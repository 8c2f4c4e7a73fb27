import assert from "node:assert/strict";
import {
  ConfigError,
  ManagerClosedError,
  MemorySecretManager,
  SecretAccessError,
  SecretNotFoundError,
  type ServeEvent,
  withCache,
} from "../../mod.ts";
import { FaultyManager } from "../../testing.ts";
import { FakeClock, GatedManager, recordText, settle, withLogs } from "./_helpers.ts";

const TTL = 60_000;
const STALE = 600_000;
const CANARY = `canary-${crypto.randomUUID()}`;

function setup(initial: Record<string, string | Record<string, string>> = {}) {
  const clock = new FakeClock();
  const inner = new MemorySecretManager({ initial, now: clock.now });
  const backend = new FaultyManager(inner);
  const events: ServeEvent[] = [];
  const cache = withCache(backend, {
    ttlMs: TTL,
    staleIfErrorMs: STALE,
    now: clock.now,
    onServe: (e) => events.push(e),
  });
  return { clock, inner, backend, cache, events };
}

Deno.test("getSecret() serves fresh hits without calling the backend", async () => {
  const { backend, cache, events, clock } = setup({ "db/password": CANARY });
  assert.equal(await cache.getSecret("db/password"), CANARY);
  for (let i = 0; i < 5; i++) {
    clock.advance(TTL / 10);
    assert.equal(await cache.getSecret("db/password"), CANARY);
  }
  assert.equal(backend.totalCalls, 1);
  const s = cache.stats();
  assert.deepEqual({ hits: s.hits, misses: s.misses, size: s.size }, {
    hits: 5,
    misses: 1,
    size: 1,
  });
  assert.equal(events.length, 5);
  assert.deepEqual(events[0], { name: "db/password", source: "cache" });
});

Deno.test("getSecret() refetches once the entry has expired", async () => {
  const { backend, cache, inner, clock } = setup({ "db/password": "pw-one-00001" });
  await cache.getSecret("db/password");
  await inner.setSecret("db/password", "pw-two-00002");
  clock.advance(TTL / 2);
  assert.equal(await cache.getSecret("db/password"), "pw-one-00001");
  assert.equal(backend.calls.get, 1);
  clock.advance(TTL / 2);
  assert.equal(await cache.getSecret("db/password"), "pw-two-00002");
  assert.equal(backend.calls.get, 2);
});

for (const fault of ["down", "timeout", "throttle"] as const) {
  Deno.test(`getSecret() serves the stale value while the backend is ${fault}, and says so`, async () => {
    await withLogs(async (records) => {
      const { backend, cache, events, clock } = setup({ "broker/key": CANARY });
      await cache.getSecret("broker/key", { field: "value" });
      backend.fault = fault;
      clock.advance(TTL + STALE); // the last instant of the window
      assert.equal(await cache.getSecret("broker/key", { field: "value" }), CANARY);
      assert.equal(await cache.getSecret("broker/key", { field: "value" }), CANARY);
      assert.equal(backend.calls.get, 2, "the second read gets the stale value without waiting");
      assert.equal(cache.stats().staleServes, 2);
      assert.deepEqual(events, [
        { name: "broker/key", source: "stale", field: "value" },
        { name: "broker/key", source: "stale", field: "value" },
      ]);
      const warnings = records.filter((r) => r.level === "warning");
      assert.ok(warnings.length >= 1);
      assert.equal(warnings[0].properties.secret, "broker/key");
      assert.deepEqual(warnings[0].category, ["keyward", "cache"]);
      for (const r of records) assert.ok(!recordText(r).includes(CANARY), "a log held the value");
    });
  });
}

Deno.test("during an outage, reads get the stale value at once and one read retries every staleRetryMs", async () => {
  const { backend, cache, inner, clock } = setup({ "broker/key": CANARY });
  await cache.getSecret("broker/key");
  backend.fault = "down";
  clock.advance(TTL + 1);
  assert.equal(await cache.getSecret("broker/key"), CANARY);
  assert.equal(backend.calls.get, 2);
  for (let i = 0; i < 3; i++) {
    clock.advance(1_000);
    assert.equal(await cache.getSecret("broker/key"), CANARY);
  }
  assert.equal(backend.calls.get, 2, "no backend call within staleRetryMs of the failure");
  clock.advance(2_000); // 5 s after the failure
  assert.equal(await cache.getSecret("broker/key"), CANARY);
  assert.equal(backend.calls.get, 3, "one read retried the backend");
  await inner.setSecret("broker/key", "rotated-value-0002");
  backend.fault = "none";
  clock.advance(5_000);
  assert.equal(await cache.getSecret("broker/key"), "rotated-value-0002", "recovered");
  assert.equal(await cache.getSecret("broker/key"), "rotated-value-0002");
  assert.equal(backend.calls.get, 4, "fresh again: hits make no call");
  assert.equal(cache.stats().staleServes, 5);
});

Deno.test("while one read retries a failing backend, other reads get the stale value without waiting", async () => {
  const clock = new FakeClock();
  const faulty = new FaultyManager(new MemorySecretManager({ initial: { "broker/key": CANARY } }));
  const gated = new GatedManager(faulty);
  const cache = withCache(gated.manager, { ttlMs: TTL, staleIfErrorMs: STALE, now: clock.now });
  const first = cache.getSecret("broker/key");
  gated.releaseAll();
  await first;
  faulty.fault = "down";
  clock.advance(TTL + 1);
  const failing = cache.getSecret("broker/key");
  await settle();
  gated.releaseAll();
  assert.equal(await failing, CANARY);
  clock.advance(6_000);
  const retry = cache.getSecret("broker/key"); // waits for the backend
  await settle();
  assert.equal(gated.pending.length, 1, "the retry is at the backend");
  assert.equal(await cache.getSecret("broker/key"), CANARY, "served without waiting for the retry");
  assert.equal(gated.pending.length, 1, "no second backend call");
  gated.releaseAll();
  assert.equal(await retry, CANARY);
  assert.throws(() => withCache(faulty, { staleRetryMs: -1 }), ConfigError);
});

Deno.test("a denial during an outage is never hidden behind the stale value", async () => {
  const { backend, cache, clock } = setup({ "broker/key": CANARY });
  await cache.getSecret("broker/key");
  backend.fault = "down";
  clock.advance(TTL + 1);
  assert.equal(await cache.getSecret("broker/key"), CANARY, "served stale while unreachable");
  backend.fault = "deny";
  clock.advance(5_000); // the retry read
  await assert.rejects(
    cache.getSecret("broker/key"),
    (e) => e instanceof SecretAccessError && e.reason === "denied",
  );
  await assert.rejects(
    cache.getSecret("broker/key"),
    (e) => e instanceof SecretAccessError && e.reason === "denied",
    "the next read asks the backend again instead of serving stale",
  );
  assert.equal(backend.calls.get, 4);
});

Deno.test("staleRetryMs: 0 makes every read past expiry ask the failing backend", async () => {
  const clock = new FakeClock();
  const backend = new FaultyManager(new MemorySecretManager({ initial: { "broker/key": CANARY } }));
  const cache = withCache(backend, {
    ttlMs: TTL,
    staleIfErrorMs: STALE,
    staleRetryMs: 0,
    now: clock.now,
  });
  await cache.getSecret("broker/key");
  backend.fault = "down";
  clock.advance(TTL + 1);
  assert.equal(await cache.getSecret("broker/key"), CANARY);
  assert.equal(await cache.getSecret("broker/key"), CANARY);
  assert.equal(backend.calls.get, 3);
});

Deno.test("getSecret() surfaces the outage once the stale window is over", async () => {
  await withLogs(async (records) => {
    const { backend, cache, clock } = setup({ "broker/key": CANARY });
    await cache.getSecret("broker/key");
    backend.fault = "down";
    clock.advance(TTL + STALE + 1);
    const err = await cache.getSecret("broker/key").then(() => null, (e) => e);
    assert.ok(err instanceof SecretAccessError);
    assert.equal(err.reason, "unreachable");
    assert.ok(!String(err.message).includes(CANARY));
    assert.equal(cache.stats().staleServes, 0);
    assert.ok(records.some((r) => r.level === "error" && r.properties.secret === "broker/key"));
  });
});

Deno.test("getSecret() never hides a missing secret behind a stale value, and forgets it", async () => {
  const { backend, cache, inner, clock } = setup({ "db/password": CANARY });
  await cache.getSecret("db/password");
  await inner.deleteSecret("db/password");
  clock.advance(TTL);
  await assert.rejects(cache.getSecret("db/password"), SecretNotFoundError);
  assert.equal(cache.stats().size, 0);
  // The entry is gone, so an outage now has nothing to fall back on.
  backend.fault = "down";
  await assert.rejects(cache.getSecret("db/password"), SecretAccessError);
  assert.equal(cache.stats().staleServes, 0);
});

Deno.test("getSecret() never hides a denial behind a stale value", async () => {
  const { backend, cache, clock } = setup({ "db/password": CANARY });
  await cache.getSecret("db/password");
  backend.fault = "deny";
  clock.advance(TTL);
  const err = await cache.getSecret("db/password").then(() => null, (e) => e);
  assert.ok(err instanceof SecretAccessError);
  assert.equal(err.reason, "denied");
  assert.equal(cache.stats().staleServes, 0);
});

Deno.test("getSecret() refuses invalid input before any I/O", async () => {
  const { backend, cache } = setup({ "db/password": CANARY });
  await assert.rejects(cache.getSecret("../etc"), /invalid secret name/);
  await assert.rejects(
    cache.getSecret("db/password", { stage: "bogus" as "current" }),
    ConfigError,
  );
  assert.equal(backend.totalCalls, 0);
});

Deno.test("1,000 concurrent cold reads make one backend call", async () => {
  const { backend, cache } = setup({ "db/password": CANARY });
  const reads = Array.from({ length: 1000 }, () => cache.getSecret("db/password"));
  assert.equal(cache.stats().inFlight, 1);
  const values = await Promise.all(reads);
  assert.ok(values.every((v) => v === CANARY));
  assert.equal(backend.calls.get, 1);
  assert.equal(cache.stats().inFlight, 0);
  assert.equal(cache.stats().misses, 1000);
});

Deno.test("concurrent reads share one failure, and the next read tries again", async () => {
  const { backend, cache } = setup({ "db/password": CANARY });
  backend.fault = "down";
  const results = await Promise.allSettled(
    Array.from({ length: 1000 }, () => cache.getSecret("db/password")),
  );
  assert.ok(results.every((r) => r.status === "rejected"));
  const first = (results[0] as PromiseRejectedResult).reason;
  assert.ok(first instanceof SecretAccessError);
  assert.ok(results.every((r) => (r as PromiseRejectedResult).reason === first));
  assert.equal(backend.calls.get, 1);
  assert.equal(cache.stats().refreshErrors, 1);
  backend.fault = "none";
  assert.equal(await cache.getSecret("db/password"), CANARY);
  assert.equal(backend.calls.get, 2);
});

Deno.test("an entry read in the last tenth of its life is refreshed in the background, once", async () => {
  const { backend, cache, inner, clock } = setup({ "db/password": "pw-one-00001" });
  await cache.getSecret("db/password");
  await inner.setSecret("db/password", "pw-two-00002");
  clock.advance(TTL * 0.9 - 1);
  assert.equal(await cache.getSecret("db/password"), "pw-one-00001");
  assert.equal(backend.calls.get, 1, "not yet in the last tenth");
  clock.advance(1);
  // Served at once from the cache; the refresh runs behind it.
  assert.equal(await cache.getSecret("db/password"), "pw-one-00001");
  assert.equal(await cache.getSecret("db/password"), "pw-one-00001");
  await cache.whenIdle();
  assert.equal(backend.calls.get, 2);
  assert.equal(await cache.getSecret("db/password"), "pw-two-00002");
  // The refreshed entry lives a full TTL from its refresh.
  clock.advance(TTL * 0.85);
  assert.equal(await cache.getSecret("db/password"), "pw-two-00002");
  assert.equal(backend.calls.get, 2);
});

Deno.test("a failed refresh-ahead does not surface and is not repeated", async () => {
  await withLogs(async (records) => {
    const { backend, cache, clock } = setup({ "db/password": CANARY });
    await cache.getSecret("db/password");
    backend.fault = "down";
    clock.advance(TTL * 0.95);
    assert.equal(await cache.getSecret("db/password"), CANARY);
    await cache.whenIdle();
    assert.equal(await cache.getSecret("db/password"), CANARY);
    await cache.whenIdle();
    assert.equal(backend.calls.get, 2);
    assert.equal(cache.stats().refreshErrors, 1);
    const warning = records.find((r) =>
      r.level === "warning" && r.properties.secret === "db/password"
    );
    assert.ok(warning);
    // The warning names the failure's code (it said "error" for every failure before).
    assert.equal(warning.properties.code, "access");
  });
});

Deno.test("stage, version and field reads are cached apart", async () => {
  const { backend, cache, inner } = setup({ "db/login": { user: "app", password: "pw-1-000001" } });
  const v2 = await inner.setSecret("db/login", { user: "app2", password: "pw-2-000002" });
  const reads = [
    [undefined, JSON.stringify({ password: "pw-2-000002", user: "app2" })],
    [{ field: "user" }, "app2"],
    [{ field: "password" }, "pw-2-000002"],
    [{ stage: "previous" as const, field: "user" }, "app"],
    [{ version: "1", field: "password" }, "pw-1-000001"],
    [{ version: v2.version, field: "password" }, "pw-2-000002"],
  ] as const;
  for (let round = 0; round < 2; round++) {
    for (const [opts, want] of reads) {
      assert.equal(await cache.getSecret("db/login", opts), want, JSON.stringify(opts));
    }
  }
  assert.equal(backend.calls.get, reads.length);
  // An explicit current stage is the same read as no stage.
  await cache.getSecret("db/login", { stage: "current", field: "user" });
  assert.equal(backend.calls.get, reads.length);
  assert.equal(cache.stats().size, reads.length);
});

Deno.test("the least recently used entry is evicted first", async () => {
  const clock = new FakeClock();
  const backend = new FaultyManager(
    new MemorySecretManager({
      initial: { a: "value-a-0001", b: "value-b-0001", c: "value-c-0001" },
    }),
  );
  const cache = withCache(backend, { maxEntries: 2, now: clock.now });
  await cache.getSecret("a");
  await cache.getSecret("b");
  await cache.getSecret("a"); // a is now more recent than b
  await cache.getSecret("c"); // evicts b
  assert.equal(cache.stats().evictions, 1);
  const before = backend.calls.get;
  await cache.getSecret("a");
  await cache.getSecret("c");
  assert.equal(backend.calls.get, before, "a and c are still cached");
  await cache.getSecret("b");
  assert.equal(backend.calls.get, before + 1, "b was evicted");
  assert.equal(cache.stats().evictions, 2, "reading b evicted a, the least recent");
  assert.equal(cache.stats().size, 2);
});

Deno.test("forceFetch refreshes once and surfaces a failure instead of the stale value", async () => {
  const { backend, cache, inner, clock } = setup({ "broker/key": "key-one-0001" });
  await cache.getSecret("broker/key");
  await inner.setSecret("broker/key", "key-two-0002");
  // The broker rejected key-one: the caller forces a fetch.
  assert.equal(await cache.getSecret("broker/key", { forceFetch: true }), "key-two-0002");
  assert.equal(await cache.getSecret("broker/key"), "key-two-0002");
  assert.equal(backend.calls.get, 2);
  clock.advance(TTL + 1);
  backend.fault = "down";
  await assert.rejects(cache.getSecret("broker/key", { forceFetch: true }), SecretAccessError);
  // Without forceFetch the stale value still rides the outage...
  assert.equal(await cache.getSecret("broker/key"), "key-two-0002");
  backend.fault = "none";
  // ...and the caller can fall back to the previous credential.
  assert.equal(await cache.getSecret("broker/key", { stage: "previous" }), "key-one-0001");
});

Deno.test("concurrent forceFetch reads share one backend call", async () => {
  const { backend, cache } = setup({ "broker/key": CANARY });
  await cache.getSecret("broker/key");
  await Promise.all(
    Array.from({ length: 50 }, () => cache.getSecret("broker/key", { forceFetch: true })),
  );
  assert.equal(backend.calls.get, 2);
});

Deno.test("writes, promotions and deletions through the cache drop every read of the name", async () => {
  const { backend, cache } = setup({
    "db/login": { user: "app", password: "pw-1-000001" },
    "other/x": "other-000001",
  });
  await cache.getSecret("db/login", { field: "user" });
  await cache.getSecret("db/login", { field: "password" });
  await cache.getSecret("other/x");
  await cache.setSecret("db/login", { user: "app2", password: "pw-2-000002" });
  assert.equal(cache.stats().size, 1, "only other/x is left");
  assert.equal(await cache.getSecret("db/login", { field: "user" }), "app2");

  const pending = await cache.setSecret("db/login", { user: "app3", password: "pw-3-000003" }, {
    stage: "pending",
  });
  await cache.getSecret("db/login", { field: "user" });
  await cache.promote("db/login", pending.version);
  assert.equal(await cache.getSecret("db/login", { field: "user" }), "app3");

  await cache.deleteSecret("db/login");
  await assert.rejects(cache.getSecret("db/login", { field: "user" }), SecretNotFoundError);
  const calls = backend.calls.get;
  assert.equal(await cache.getSecret("other/x"), "other-000001");
  assert.equal(backend.calls.get, calls, "other names stay cached");
});

Deno.test("a failed write still drops the name (it may have landed)", async () => {
  const { backend, cache } = setup({ "db/password": CANARY });
  await cache.getSecret("db/password");
  backend.fault = "timeout";
  await assert.rejects(cache.setSecret("db/password", "new-value-0001"), SecretAccessError);
  assert.equal(cache.stats().size, 0);
});

Deno.test("invalidate() and clear() drop what they name", async () => {
  const { backend, cache } = setup({ "a/one": "value-1-0001", "a/two": "value-2-0002" });
  await cache.getSecret("a/one");
  await cache.getSecret("a/one", { field: "value" });
  await cache.getSecret("a/two");
  cache.invalidate("a/one");
  assert.equal(cache.stats().size, 1);
  await cache.getSecret("a/two");
  assert.equal(backend.calls.get, 3);
  cache.clear();
  assert.equal(cache.stats().size, 0);
  await cache.getSecret("a/two");
  assert.equal(backend.calls.get, 4);
});

Deno.test("a read in flight when the name is written does not cache the old value", async () => {
  const inner = new MemorySecretManager({ initial: { "db/password": "pw-old-00001" } });
  const gated = new GatedManager(inner);
  const cache = withCache(gated.manager);
  const read = cache.getSecret("db/password");
  assert.equal(cache.stats().inFlight, 1);
  await inner.setSecret("db/password", "pw-new-00002");
  cache.invalidate("db/password");
  assert.equal(cache.stats().inFlight, 0);
  gated.releaseAll();
  assert.equal(await read, "pw-old-00001", "a read started before the write may see the old value");
  assert.equal(cache.stats().size, 0, "the old value was not cached");
  const next = cache.getSecret("db/password");
  await settle();
  gated.releaseAll();
  assert.equal(await next, "pw-new-00002");
});

Deno.test("an aborted reader leaves the shared fetch to the others", async () => {
  const inner = new MemorySecretManager({ initial: { "db/password": CANARY } });
  const gated = new GatedManager(inner);
  const cache = withCache(gated.manager);
  const controller = new AbortController();
  const a = cache.getSecret("db/password", { signal: controller.signal });
  const b = cache.getSecret("db/password");
  controller.abort(new DOMException("gave up", "AbortError"));
  await assert.rejects(a, /gave up/);
  await settle();
  gated.releaseAll();
  assert.equal(await b, CANARY);
  assert.equal(gated.pending.length, 0);
  await assert.rejects(cache.getSecret("db/password", { signal: controller.signal }), /gave up/);
});

Deno.test("a throwing onServe listener does not break a hit", async () => {
  await withLogs(async (records) => {
    const backend = new MemorySecretManager({ initial: { "db/password": CANARY } });
    const cache = withCache(backend, {
      onServe: () => {
        throw new Error("listener bug");
      },
    });
    await cache.getSecret("db/password");
    assert.equal(await cache.getSecret("db/password"), CANARY);
    assert.ok(records.some((r) => r.level === "error"));
  });
});

Deno.test("list and describe pass through uncached", async () => {
  const { backend, cache } = setup({ "a/one": "value-1-0001" });
  assert.deepEqual(await cache.listSecrets("a/"), ["a/one"]);
  assert.equal((await cache.describeSecret("a/one")).versions.length, 1);
  await cache.listSecrets("a/");
  assert.equal(backend.calls.list, 2);
  assert.equal(backend.calls.describe, 1);
});

Deno.test("withCache() refuses bad options with a ConfigError naming the option", () => {
  const m = new MemorySecretManager();
  assert.throws(() => withCache(m, { ttlMs: -1 }), /ttlMs/);
  assert.throws(() => withCache(m, { ttlMs: 0 }), /ttlMs/);
  assert.throws(() => withCache(m, { ttlMs: 1.5 }), ConfigError);
  assert.throws(() => withCache(m, { staleIfErrorMs: -5 }), /staleIfErrorMs/);
  assert.throws(() => withCache(m, { maxEntries: 0 }), /maxEntries/);
  assert.throws(() => withCache(m, { now: 5 as unknown as () => number }), /now/);
});

Deno.test("a closed cache refuses calls and closes its backend", async () => {
  const { cache, inner } = setup({ "db/password": CANARY });
  await cache.getSecret("db/password");
  await cache.close();
  await assert.rejects(cache.getSecret("db/password"), ManagerClosedError);
  await assert.rejects(cache.listSecrets(), ManagerClosedError);
  await assert.rejects(cache.describeSecret("db/password"), ManagerClosedError);
  await assert.rejects(cache.setSecret("db/password", "x-00000001"), ManagerClosedError);
  await assert.rejects(cache.subscribe({} as never), ManagerClosedError);
  await assert.rejects(inner.getSecret("db/password"), ManagerClosedError);
  await cache.close();
});

Deno.test("a hit among the newest half is not moved, and is evicted only after more than half the cache was used since", async () => {
  const backend = new FaultyManager(
    new MemorySecretManager({
      initial: Object.fromEntries("abcdefg".split("").map((n) => [n, `value-${n}-0001`])),
    }),
  );
  const cache = withCache(backend, { maxEntries: 4 });
  for (const n of "abcd") await cache.getSecret(n);
  await cache.getSecret("a"); // old: moved to the newest end
  await cache.getSecret("d"); // among the newest half: stays where it is
  await cache.getSecret("e"); // evicts b
  await cache.getSecret("f"); // evicts c
  const calls = backend.calls.get;
  await cache.getSecret("d");
  await cache.getSecret("a");
  assert.equal(backend.calls.get, calls, "a and d survived b and c");
  await cache.getSecret("g"); // d was read before a moved again; e, f, g came after it
  await cache.getSecret("b");
  assert.equal(cache.stats().evictions, 4);
  assert.equal(cache.stats().size, 4);
});
