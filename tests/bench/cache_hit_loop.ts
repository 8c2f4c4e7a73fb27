/**
 * The cache hit ratios of tests/bench/cache_bench.ts from a plain loop, with
 * no harness cost per iteration: each subject is awaited `iterations` times
 * (default 1,000,000) in a `for` loop, the subjects interleaved, `rounds`
 * rounds (default 7); the median ns per call and its ratio to the floor are
 * printed. `Deno.bench` adds about 100 ns to every iteration, which makes a
 * slow subject look closer to the floor than it is; these ratios are the ones
 * to quote for "how much slower", the `Deno.bench` rows for absolute figures
 * (minus its "empty" row).
 *
 * Run: `deno run --allow-env --allow-read --allow-net=127.0.0.1 tests/bench/cache_hit_loop.ts [iterations] [rounds]`
 *
 * @module
 */

import { HIT_SUBJECTS } from "./_cache_subjects.ts";

const iterations = Number(Deno.args[0] ?? 1_000_000);
const rounds = Number(Deno.args[1] ?? 7);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function nsPerCall(subject: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) await subject();
  return ((performance.now() - started) * 1e6) / iterations;
}

if (import.meta.main) {
  const subjects = Object.entries(HIT_SUBJECTS);
  const samples = new Map<string, number[]>(subjects.map(([name]) => [name, []]));
  for (const [, subject] of subjects) await nsPerCall(subject); // warm-up (JIT)
  for (let r = 0; r < rounds; r++) {
    for (const [name, subject] of subjects) samples.get(name)!.push(await nsPerCall(subject));
  }
  const floorName = subjects[0][0];
  const floor = median(samples.get(floorName)!);
  console.log(
    `cache hit, plain loop: median of ${rounds} rounds of ${iterations} awaited calls (${Deno.version.deno})\n`,
  );
  console.log("| subject | ns per call | ratio to the floor |");
  console.log("|---|---:|---:|");
  for (const [name] of subjects) {
    const m = median(samples.get(name)!);
    console.log(`| ${name} | ${m.toFixed(0)} | ${(m / floor).toFixed(2)} |`);
  }
}
