/**
 * The subjects of the cache hit benchmarks, shared by tests/bench/cache_bench.ts
 * (`Deno.bench`) and tests/bench/cache_hit_loop.ts (a plain loop):
 *
 * - floor: an async function returning a `Map` lookup plus a `Date.now()`
 *   check, the least any async cache can do;
 * - keyward: `withCache(...).getSecret()` on a fresh entry (LRU bookkeeping,
 *   refresh-ahead check, stats included);
 * - powertools: `@aws-lambda-powertools/parameters` `getSecret` with its
 *   cache, over a real `SecretsManagerClient` whose middleware answers from
 *   memory (no network), so what is measured is its cache hit.
 *
 * @module
 */

import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DEFAULT_PROVIDERS } from "@aws-lambda-powertools/parameters/base";
import { getSecret, SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { MemorySecretManager, type ServeEvent, withCache } from "../../mod.ts";

export const NAME = "bench/api_key";
export const VALUE = "bench-value-0000000000000000";

// keyward
export const keyward = withCache(new MemorySecretManager({ initial: { [NAME]: VALUE } }));
export const counters = { served: 0, peerBackendCalls: 0 };
export const keywardAudited = withCache(new MemorySecretManager({ initial: { [NAME]: VALUE } }), {
  onServe: (_e: ServeEvent) => {
    counters.served++;
  },
});
await keyward.getSecret(NAME);
await keywardAudited.getSecret(NAME);
await keyward.getSecret(NAME, { field: "value" });

// the floor
const floorMap = new Map([[NAME, { value: VALUE, expiresAt: Date.now() + 3_600_000 }]]);
// deno-lint-ignore require-await
export async function floor(name: string): Promise<string> {
  const e = floorMap.get(name);
  if (e !== undefined && Date.now() < e.expiresAt) return e.value;
  throw new Error("miss");
}

// the peer: a real client, answered in memory by a short-circuiting middleware
const client = new SecretsManagerClient({
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDBENCH", secretAccessKey: "bench-only" },
});
client.middlewareStack.add(
  () => () => {
    counters.peerBackendCalls++;
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

/** Every hit subject, by the name the reports give it. */
export const HIT_SUBJECTS: Record<string, () => Promise<unknown>> = {
  "floor: async Map lookup + Date.now() check": () => floor(NAME),
  "keyward withCache getSecret() hit": () => keyward.getSecret(NAME),
  "keyward withCache getSecret() hit, with onServe (audit hook)": () =>
    keywardAudited.getSecret(NAME),
  "keyward withCache getSecret() hit, { field }": () => keyward.getSecret(NAME, { field: "value" }),
  "powertools getSecret() cache hit (max age from its env setting)": () => getSecret(NAME),
  "powertools getSecret() cache hit, { maxAge: 3600 }": () => getSecret(NAME, { maxAge: 3600 }),
};
