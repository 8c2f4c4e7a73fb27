/**
 * `readFresh`: the cache's synchronous hit path (the endpoint's cached reads
 * use it; `getSecret` and `readSecret` answer their hits through it).
 */
import assert from "node:assert/strict";
import { MemorySecretManager, type SecretRead, type ServeEvent, withCache } from "../../mod.ts";
import { FaultyManager } from "../../testing.ts";
import { FakeClock } from "./_helpers.ts";

const TTL = 60_000;
const CANARY = `canary-${crypto.randomUUID()}`;

type Fresh = { readFresh(key: string, whole: boolean): string | SecretRead | undefined };

function setup() {
  const clock = new FakeClock();
  const backend = new FaultyManager(
    new MemorySecretManager({ initial: { "db/password": CANARY }, now: clock.now }),
  );
  const events: ServeEvent[] = [];
  const cache = withCache(backend, { ttlMs: TTL, now: clock.now, onServe: (e) => events.push(e) });
  return { clock, backend, cache, events, fresh: cache as unknown as Fresh };
}

Deno.test("readFresh answers a fresh entry at once, counted and reported as a hit, without the backend", async () => {
  const { backend, cache, events, fresh } = setup();
  assert.equal(fresh.readFresh("db/password", true), undefined, "nothing cached yet");
  assert.equal(backend.totalCalls, 0, "a miss does not go to the backend");
  assert.equal(cache.stats().misses, 0, "nor is it counted as a read");
  const read = await cache.readSecret("db/password");
  const hit = fresh.readFresh("db/password", true);
  assert.ok(!(hit instanceof Promise));
  assert.deepEqual(hit, read);
  assert.equal(read.value, CANARY);
  assert.equal(fresh.readFresh("db/password", false), CANARY);
  assert.equal(backend.totalCalls, 1);
  assert.equal(cache.stats().hits, 2);
  assert.deepEqual(events, [
    { name: "db/password", source: "cache" },
    { name: "db/password", source: "cache" },
  ]);
});

Deno.test("readFresh leaves expired entries and closed caches to readSecret, which behaves as before", async () => {
  const { backend, cache, clock, fresh } = setup();
  await cache.getSecret("db/password");
  clock.advance(TTL);
  assert.equal(fresh.readFresh("db/password", true), undefined, "expired");
  assert.equal(backend.totalCalls, 1, "readFresh never refetches");
  assert.equal((await cache.readSecret("db/password")).value, CANARY);
  assert.equal(backend.totalCalls, 2, "readSecret does");
  assert.equal((fresh.readFresh("db/password", true) as SecretRead).value, CANARY, "fresh again");
  await cache.close();
  assert.equal(fresh.readFresh("db/password", true), undefined, "closed");
  await assert.rejects(cache.readSecret("db/password"), { code: "closed" });
});
