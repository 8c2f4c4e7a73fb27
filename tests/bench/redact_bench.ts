/**
 * Redacting a 10 KB log line with 100 (baseline), 1,000 and 10,000
 * registered values: one pass over the text through the automaton, so the
 * cost should not grow with the number of values. Also the build (first
 * redaction after the registrations) at 1,000 and 10,000 values.
 *
 * Run: deno bench --allow-read --allow-env tests/bench/redact_bench.ts
 */

import { Redactor } from "../../redact/redactor.ts";

/** A deterministic pseudo-random generator (mulberry32), so every run builds the same values. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

function randomText(next: () => number, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return s;
}

function redactorWith(count: number): { redactor: Redactor; values: string[] } {
  const next = rng(count);
  const redactor = new Redactor();
  const values: string[] = [];
  for (let i = 0; i < count; i++) {
    const value = randomText(next, 32);
    values.push(value);
    redactor.register(`bench/secret-${i}`, value);
  }
  return { redactor, values };
}

/** A 10 KB JSON-ish log line holding three registered values. */
function logLine(values: string[]): string {
  const next = rng(7);
  const parts: string[] = [];
  let size = 0;
  let planted = 0;
  while (size < 10_240) {
    const part = planted < 3 && parts.length % 40 === 20
      ? `"token":"${values[(planted++ * 997) % values.length]}"`
      : `"k${parts.length}":"${randomText(next, 24)} ${randomText(next, 12)}"`;
    parts.push(part);
    size += part.length + 1;
  }
  return `{${parts.join(",")}}`.slice(0, 10_240);
}

for (const count of [100, 1_000, 10_000]) {
  const { redactor, values } = redactorWith(count);
  const line = logLine(values);
  // Build the automaton before measuring: registration cost is not redaction cost.
  const warm = redactor.redact(line);
  if (!warm.includes("[REDACTED:bench/secret-")) throw new Error("the line holds no value");
  Deno.bench({
    name: `redact a 10 KB line, ${count.toLocaleString("en")} registered values`,
    group: "redact-10kb",
    baseline: count === 100,
    fn: () => {
      redactor.redact(line);
    },
  });
}

// Build cost: the first redaction after registering every value (encoded
// forms and the automaton), against the same with 1,000 values.
for (const count of [1_000, 10_000]) {
  const { values } = redactorWith(count);
  Deno.bench({
    name: `build after ${count.toLocaleString("en")} registrations`,
    group: "build",
    baseline: count === 1_000,
    n: 10,
    warmup: 2,
    fn: () => {
      const redactor = new Redactor();
      values.forEach((value, i) => redactor.register(`bench/secret-${i}`, value));
      if (redactor.redact(values[0]) === values[0]) throw new Error("not redacted");
    },
  });
}

// For contrast: one search per value (what the automaton replaces).
for (const count of [100, 1_000, 10_000]) {
  const { values } = redactorWith(count);
  const line = logLine(values);
  Deno.bench({
    name: `one replaceAll per value, ${count.toLocaleString("en")} values`,
    group: "naive-10kb",
    baseline: count === 100,
    n: count === 10_000 ? 50 : undefined,
    fn: () => {
      let out = line;
      for (let i = 0; i < values.length; i++) {
        out = out.replaceAll(values[i], `[REDACTED:bench/secret-${i}]`);
      }
      if (out.length === 0) throw new Error("unreachable");
    },
  });
}
