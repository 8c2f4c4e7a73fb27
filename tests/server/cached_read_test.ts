/**
 * The endpoint directly over `withCache` (as `deno task serve` and the load
 * benchmark run it): a read the cache holds fresh is answered at once (no
 * promise on the way), counted and audited as a hit, and reads with a stage
 * or field still get their own values, never the cached current one.
 */
import assert from "node:assert/strict";
import { type ServeListener, withCache } from "../../mod.ts";
import { createServerApp, staticTokens } from "../../server.ts";
import { FaultyManager, RecordingAuditSink } from "../../testing.ts";
import { auth, makeToken, seeded } from "./_helpers.ts";

const CANARY = `canary-${crypto.randomUUID()}`;

async function setup() {
  const reader = await makeToken({ service: "signal", stages: ["current", "previous"] });
  const metrics = await makeToken({ roles: ["metrics"] });
  const memory = seeded({
    "database/app": `${CANARY}-1`,
    "database/login": { username: "app", password: `${CANARY}-pw` },
  });
  await memory.setSecret("database/app", `${CANARY}-2`);
  const backend = new FaultyManager(memory);
  let forward: ServeListener = () => {};
  const cache = withCache(backend, { ttlMs: 3_600_000, onServe: (e) => forward(e) });
  const audit = new RecordingAuditSink();
  const server = createServerApp({
    manager: cache,
    tokens: staticTokens([reader.entry, metrics.entry]),
    audit,
    backendName: "memory",
    ratePerSecond: 1000,
  });
  forward = server.onServe;
  const get = (path: string, token = reader.token) =>
    server.app.fetch(new Request(`http://localhost${path}`, { headers: auth(token) }));
  return { server, cache, backend, audit, get, metrics };
}

Deno.test("a read the cache holds fresh is answered at once, with the same answer, counted and audited as a hit", async () => {
  const s = await setup();
  const first = s.get("/v1/secrets/database/app");
  assert.ok(first instanceof Promise, "a miss waits for the backend");
  const miss = await first;
  const hits = [s.get("/v1/secrets/database/app"), s.get("/v1/secrets/database/app")];
  for (const hit of hits) {
    assert.ok(hit instanceof Response, "a fresh hit is answered synchronously");
    assert.equal(hit.status, 200);
    assert.equal(hit.headers.get("cache-control"), "no-store");
    assert.equal(hit.headers.get("content-type"), "application/json");
  }
  const body = { name: "database/app", value: `${CANARY}-2`, version: "2", stage: "current" };
  assert.deepEqual(await miss.json(), body);
  for (const hit of hits) assert.deepEqual(await (hit as Response).json(), body);
  assert.equal(s.backend.calls.get, 1);
  await s.server.flush();
  assert.deepEqual(
    s.audit.events.map((e) => [e.service, e.secretName, e.outcome, e.source, e.version, e.count]),
    [["signal", "database/app", "ok", "backend", "2", 1], [
      "signal",
      "database/app",
      "ok",
      "cache",
      "2",
      2,
    ]],
  );
  const text = await (await s.get("/metrics", s.metrics.token)).text();
  assert.match(text, /keyward_cache_hits_total 2\n/);
  assert.match(text, /keyward_cache_misses_total 1\n/);
  assert.ok(!JSON.stringify(s.audit.events).includes(CANARY) && !text.includes(CANARY));
  await s.cache.close();
});

Deno.test("with the current value cached, ?stage=previous and ?field= still answer their own values", async () => {
  const s = await setup();
  await (await s.get("/v1/secrets/database/app")).body?.cancel();
  await (await s.get("/v1/secrets/database/login")).body?.cancel();
  const previous = await s.get("/v1/secrets/database/app?stage=previous");
  assert.deepEqual(await previous.json(), {
    name: "database/app",
    value: `${CANARY}-1`,
    version: "1",
    stage: "previous",
  });
  const field = await s.get("/v1/secrets/database/login?field=username");
  assert.equal((await field.json()).value, "app");
  // A write through the cache drops the entry: the next read has the new value, then hits.
  await s.cache.setSecret("database/app", `${CANARY}-3`);
  assert.equal((await (await s.get("/v1/secrets/database/app")).json()).value, `${CANARY}-3`);
  const hit = s.get("/v1/secrets/database/app");
  assert.ok(hit instanceof Response);
  assert.equal((await hit.json()).version, "3");
  await s.cache.close();
});

Deno.test("a closed cache: the read is refused as before, never answered from a leftover entry", async () => {
  const s = await setup();
  await (await s.get("/v1/secrets/database/app")).body?.cancel();
  await s.cache.close();
  const res = await s.get("/v1/secrets/database/app");
  assert.equal(res.status, 500);
  assert.equal((await res.json()).error.code, "internal");
});
