/**
 * The cache's hit path against its floor and against the peer users pick
 * today. Run: `deno task bench tests/bench/cache_bench.ts` (results and
 * ratios in docs/PERFORMANCE.md).
 *
 * - floor: an async function returning a `Map` lookup plus a `Date.now()`
 *   check, the least any async cache can do;
 * - keyward: `withCache(...).getSecret()` on a fresh entry (LRU bookkeeping,
 *   refresh-ahead check, stats included);
 * - powertools: `@aws-lambda-powertools/parameters` `getSecret` with its
 *   cache, over a real `SecretsManagerClient` whose middleware answers from
 *   memory (no network), so what is measured is its cache hit.
 */

import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DEFAULT_PROVIDERS } from "@aws-lambda-powertools/parameters/base";
import { getSecret, SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { MemorySecretManager, type ServeEvent, withCache } from "../../mod.ts";

const NAME = "bench/api_key";
const VALUE = "bench-value-0000000000000000";

// keyward
const keyward = withCache(new MemorySecretManager({ initial: { [NAME]: VALUE } }));
let served = 0;
const keywardAudited = withCache(new MemorySecretManager({ initial: { [NAME]: VALUE } }), {
  onServe: (_e: ServeEvent) => {
    served++;
  },
});
await keyward.getSecret(NAME);
await keywardAudited.getSecret(NAME);
await keyward.getSecret(NAME, { field: "value" });

// the floor
const floorMap = new Map([[NAME, { value: VALUE, expiresAt: Date.now() + 3_600_000 }]]);
// deno-lint-ignore require-await
async function floor(name: string): Promise<string> {
  const e = floorMap.get(name);
  if (e !== undefined && Date.now() < e.expiresAt) return e.value;
  throw new Error("miss");
}

// the peer: a real client, answered in memory by a short-circuiting middleware
const client = new SecretsManagerClient({
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDBENCH", secretAccessKey: "bench-only" },
});
let peerBackendCalls = 0;
client.middlewareStack.add(
  () => () => {
    peerBackendCalls++;
    return Promise.resolve({
      output: { SecretString: VALUE, $metadata: {} },
      response: {},
    });
  },
  { step: "initialize", name: "answerFromMemory", priority: "high" },
);
// The peer's default max age (5 s) would expire during the run: give it an hour,
// as a user would, through its documented setting (read on every call).
Deno.env.set("POWERTOOLS_PARAMETERS_MAX_AGE", "3600");
(DEFAULT_PROVIDERS as Record<string, unknown>).secrets = new SecretsProvider({
  awsSdkV3Client: client,
});
if (await getSecret(NAME) !== VALUE) throw new Error("peer set-up failed");
if (await getSecret(NAME, { maxAge: 3600 }) !== VALUE) throw new Error("peer set-up failed");

Deno.bench({
  name: "floor: async Map lookup + Date.now() check",
  group: "hit",
  baseline: true,
  async fn() {
    if (await floor(NAME) !== VALUE) throw new Error();
  },
});

Deno.bench({
  name: "keyward withCache getSecret() hit",
  group: "hit",
  async fn() {
    if (await keyward.getSecret(NAME) !== VALUE) throw new Error();
  },
});

Deno.bench({
  name: "keyward withCache getSecret() hit, with onServe (audit hook)",
  group: "hit",
  async fn() {
    if (await keywardAudited.getSecret(NAME) !== VALUE) throw new Error();
  },
});

Deno.bench({
  name: "keyward withCache getSecret() hit, { field }",
  group: "hit",
  async fn() {
    if (await keyward.getSecret(NAME, { field: "value" }) !== VALUE) throw new Error();
  },
});

Deno.bench({
  name: "powertools getSecret() cache hit (max age from its env setting)",
  group: "hit",
  async fn() {
    if (await getSecret(NAME) !== VALUE) throw new Error();
  },
});

Deno.bench({
  name: "powertools getSecret() cache hit, { maxAge: 3600 }",
  group: "hit",
  async fn() {
    if (await getSecret(NAME, { maxAge: 3600 }) !== VALUE) throw new Error();
  },
});

// Issue 12 item 16: cold reads of one name, all waiting on one flight. With a
// shared AbortSignal the cost must stay linear (one abort listener per signal,
// not one per waiting caller); compare each "shared signal" row with its
// "no signal" row.
const waitersBackend = new MemorySecretManager({ initial: { [NAME]: VALUE } });
async function coldWave(readers: number, signal: AbortSignal | undefined): Promise<void> {
  const cache = withCache(waitersBackend);
  const opts = signal ? { signal } : undefined;
  const reads: Promise<string>[] = [];
  for (let i = 0; i < readers; i++) reads.push(cache.getSecret(NAME, opts));
  await Promise.all(reads);
}
const sharedSignal = new AbortController().signal;
for (const readers of [1_000, 8_000]) {
  Deno.bench({
    name: `${readers} concurrent cold reads, no signal`,
    group: `shared signal x${readers}`,
    baseline: true,
    async fn() {
      await coldWave(readers, undefined);
    },
  });
  Deno.bench({
    name: `${readers} concurrent cold reads, one shared signal`,
    group: `shared signal x${readers}`,
    async fn() {
      await coldWave(readers, sharedSignal);
    },
  });
}

globalThis.addEventListener("unload", () => {
  // Every measured call was a hit: no backend call past the warm-up.
  const s = keyward.stats();
  if (s.misses !== 2 || peerBackendCalls > 2 || served === 0) {
    console.error(`cache_bench: unexpected misses (keyward ${s.misses}, peer ${peerBackendCalls})`);
  }
});
