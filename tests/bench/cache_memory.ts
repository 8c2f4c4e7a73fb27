/**
 * Memory per cached entry: the heap a `withCache` cache holds for each of
 * 100,000 cached secrets, next to a bare `Map` holding the same entries (the
 * floor of any TTL cache: `Map<name, { value, expiresAt }>`).
 *
 * What is counted: the bytes the cache adds per entry. The names and the
 * values are allocated before the first measurement and held by the script
 * (a backend or a caller holds them anyway), so neither side pays for its
 * strings; the backend (an in-memory stub answering pre-built reads) is
 * filled before the first measurement too. Each figure is the growth of
 * `Deno.memoryUsage().heapUsed` between two full garbage collections, divided
 * by the number of entries; every side is measured `rounds` times (default 3)
 * and the median is printed.
 *
 * Run: `deno run --v8-flags=--expose-gc tests/bench/cache_memory.ts [entries] [rounds]`
 *
 * @module
 */

import type { ReadOptions, SecretManager, SecretRead, ServeEvent } from "../../mod.ts";
import { MemorySecretManager, withCache } from "../../mod.ts";

const N = Number(Deno.args[0] ?? 100_000);
const ROUNDS = Number(Deno.args[1] ?? 3);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");

const names: string[] = [];
const values: string[] = [];
for (let i = 0; i < N; i++) {
  names.push(`bench/secret-${String(i).padStart(6, "0")}`);
  values.push(`value-${String(i).padStart(6, "0")}-0123456789abcdef`);
}
/** The backend's answers, built once: the cache's copies are what is measured. */
const reads = new Map<string, SecretRead>(
  names.map((n, i) => [n, { value: values[i], version: "1", stage: "current" }]),
);
// The stub delegates everything but reads to a MemorySecretManager (an empty one).
const rest = new MemorySecretManager();
const backend: SecretManager = Object.assign(Object.create(rest), {
  readSecret(name: string, _opts?: ReadOptions): Promise<SecretRead> {
    const r = reads.get(name);
    return r ? Promise.resolve(r) : Promise.reject(new Error(`no ${name}`));
  },
  getSecret(name: string): Promise<string> {
    return Promise.resolve(reads.get(name)!.value);
  },
});

function heap(): number {
  gc!();
  gc!();
  return Deno.memoryUsage().heapUsed;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Bytes per entry held by what `fill` builds (kept alive until measured). */
async function perEntry(fill: () => Promise<unknown>): Promise<number> {
  const before = heap();
  const held = await fill();
  const after = heap();
  if (held === undefined) throw new Error("nothing held");
  return (after - before) / N;
}

const sides: Record<string, () => Promise<unknown>> = {
  "bare Map: name -> { value, expiresAt }": () => {
    const map = new Map<string, { value: string; expiresAt: number }>();
    const now = Date.now();
    for (let i = 0; i < N; i++) map.set(names[i], { value: values[i], expiresAt: now + 300_000 });
    return Promise.resolve(map);
  },
  "withCache (getSecret)": async () => {
    const cache = withCache(backend, { maxEntries: N });
    for (let i = 0; i < N; i++) await cache.getSecret(names[i]);
    if (cache.stats().size !== N) throw new Error(`size ${cache.stats().size}`);
    return cache;
  },
  "withCache (getSecret, then one hit each, onServe set)": async () => {
    let served = 0;
    const cache = withCache(backend, {
      maxEntries: N,
      onServe: (_e: ServeEvent) => void served++,
    });
    for (let i = 0; i < N; i++) await cache.getSecret(names[i]);
    for (let i = 0; i < N; i++) await cache.getSecret(names[i]);
    if (served < N) throw new Error(`served ${served}`);
    return cache;
  },
  "withCache (getSecret { field })": async () => {
    const cache = withCache(backend, { maxEntries: N });
    for (let i = 0; i < N; i++) await cache.getSecret(names[i], { field: "value" });
    return cache;
  },
};

if (import.meta.main) {
  const results: Record<string, number> = {};
  for (const [name, fill] of Object.entries(sides)) {
    const samples: number[] = [];
    for (let r = 0; r < ROUNDS; r++) samples.push(await perEntry(fill));
    results[name] = median(samples);
  }
  const floor = results["bare Map: name -> { value, expiresAt }"];
  console.log(
    `memory per cached entry: heap growth / ${N} entries, median of ${ROUNDS} (${Deno.version.deno}; ` +
      "names and values held outside)\n",
  );
  console.log("| what | bytes per entry | ratio to the bare Map |");
  console.log("|---|---:|---:|");
  for (const [name, bytes] of Object.entries(results)) {
    console.log(`| ${name} | ${bytes.toFixed(0)} B | ${(bytes / floor).toFixed(2)} |`);
  }
}
