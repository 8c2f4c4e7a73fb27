/**
 * The stale path: the backend goes down after a read; the endpoint keeps
 * serving the last good value (and its version) from `withCache`, says so
 * in the audit row and the metrics, and `/readyz` stays ready with the
 * reason.
 */

import assert from "node:assert/strict";
import { type CacheOptions, type SecretManager, withCache } from "../../mod.ts";
import { FaultyManager, MemorySecretManager } from "../../testing.ts";
import { createServerApp, staticTokens } from "../../server.ts";
import { RecordingAuditSink } from "../../testing.ts";
import { auth, makeToken } from "./_helpers.ts";

type CacheFactory = (backend: SecretManager, options: CacheOptions) => SecretManager;

const served = new Set<string>();

async function staleScenario(makeCache: CacheFactory): Promise<void> {
  let now = 1_000_000;
  const backend = new FaultyManager(
    new MemorySecretManager({ initial: { "database/app": "pw-stale-0123456" } }),
  );
  const reader = await makeToken({ roles: ["read", "metrics"] });
  const audit = new RecordingAuditSink();
  const hook: { onServe?: (e: { name: string; source: "cache" | "stale" }) => void } = {};
  const cache = makeCache(backend, {
    ttlMs: 1_000,
    staleIfErrorMs: 60_000,
    now: () => now,
    onServe: (e) => {
      served.add(e.name);
      hook.onServe?.(e);
    },
  });
  const server = createServerApp({
    manager: cache,
    tokens: staticTokens([reader.entry]),
    audit,
    now: () => now,
  });
  hook.onServe = server.onServe;
  const get = () => server.app.request("/v1/secrets/database/app", { headers: auth(reader.token) });
  const fresh = await (await get()).json();
  assert.equal((await get()).status, 200); // a cache hit
  backend.fault = "down";
  now += 5_000; // past the TTL, within staleIfErrorMs
  const res = await get();
  assert.equal(res.status, 200);
  const stale = await res.json();
  assert.deepEqual(stale, fresh);
  // The backend read and the stale serve are one event each; the cache hit
  // is counted and written (with its count) when the minute ends or on flush.
  assert.deepEqual(audit.events.map((e) => e.source), ["backend", "stale"]);
  await server.flush();
  assert.deepEqual(
    audit.events.map((e) => `${e.source}:${e.count}:${e.version}`),
    ["backend:1:1", "stale:1:1", "cache:1:1"],
  );
  const metrics = await (await server.app.request("/metrics", { headers: auth(reader.token) }))
    .text();
  assert.match(metrics, /keyward_stale_serves_total 1/);
  assert.match(metrics, /keyward_cache_hits_total 1/);
  const readyz = await server.app.request("/readyz");
  assert.equal(readyz.status, 200);
  assert.match((await readyz.json()).reason, /served from the cache/);
  // A name never read has nothing to fall back on: 503, never a guess.
  const missing = await server.app.request("/v1/secrets/database/other", {
    headers: auth(reader.token),
  });
  assert.equal(missing.status, 503);
  assert.equal((await missing.json()).error.code, "backend_unavailable");
}

Deno.test(
  "the backend down: the endpoint serves the stale value and version from withCache, audited and counted",
  () => staleScenario((backend, options) => withCache(backend, options)),
);
