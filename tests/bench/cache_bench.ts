/**
 * The cache's hit path against its floor and against the peer users pick
 * today, under `Deno.bench`. Run: `deno task bench tests/bench/cache_bench.ts`
 * (results and ratios in docs/PERFORMANCE.md; the subjects are described in
 * tests/bench/_cache_subjects.ts).
 *
 * `Deno.bench` adds its own cost to every iteration (about 100 ns on the
 * project's machine), which compresses the ratios it prints: the "empty"
 * row measures that cost, to subtract from each row; tests/bench/cache_hit_loop.ts
 * gives the same ratios from a plain loop.
 */

import { MemorySecretManager, withCache } from "../../mod.ts";
import { counters, HIT_SUBJECTS, keyward, NAME, VALUE } from "./_cache_subjects.ts";

Deno.bench({
  name: "empty: an async no-op (Deno.bench's own cost per iteration)",
  group: "hit",
  async fn() {},
});

for (const [name, subject] of Object.entries(HIT_SUBJECTS)) {
  Deno.bench({
    name,
    group: "hit",
    baseline: subject === HIT_SUBJECTS["floor: async Map lookup + Date.now() check"],
    async fn() {
      if (await subject() !== VALUE) throw new Error();
    },
  });
}

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
  if (s.misses !== 2 || counters.peerBackendCalls > 2 || counters.served === 0) {
    console.error(
      `cache_bench: unexpected misses (keyward ${s.misses}, peer ${counters.peerBackendCalls})`,
    );
  }
});
