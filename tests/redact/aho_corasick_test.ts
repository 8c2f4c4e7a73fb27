import assert from "node:assert/strict";
import fc from "fast-check";
import { type AcMatch, AhoCorasick } from "../../redact/_aho_corasick.ts";

/**
 * The reference: at each position, from the left, the longest pattern that
 * starts there (the lowest id among equal patterns); scanning resumes after it.
 */
function naive(patterns: readonly string[], text: string): AcMatch[] {
  const result: AcMatch[] = [];
  let i = 0;
  while (i < text.length) {
    let best = -1;
    patterns.forEach((p, id) => {
      if (p.length === 0 || !text.startsWith(p, i)) return;
      if (best === -1 || p.length > patterns[best].length) best = id;
    });
    if (best === -1) {
      i++;
      continue;
    }
    result.push({ start: i, end: i + patterns[best].length, id: best });
    i += patterns[best].length;
  }
  return result;
}

/** The automaton's matches with the default step budget, with none (plain pass only) and with a small one (switching midway). */
function allWays(ac: AhoCorasick, text: string): AcMatch[][] {
  return [ac.matches(text), ac.matches(text, 0), ac.matches(text, 7)];
}

// Few code units, so patterns overlap, share prefixes and suffixes, and
// occur in the text. "😀" and "😁" share their high surrogate; the lone
// halves let patterns and texts split a pair.
const unit = fc.constantFrom("a", "b", "c", "é", "😀", "😁", "\ud83d", "\ude00", "-");
const word = fc.string({ unit, minLength: 1, maxLength: 6 });
const text = fc.string({ unit, maxLength: 80 });

/** Patterns from random words, plus prefixes, suffixes and repeats of them, plus slices of the text. */
const patternsAndText = fc.tuple(
  fc.array(word, { minLength: 1, maxLength: 12 }),
  text,
  fc.array(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom("prefix", "suffix", "slice", "twice")), {
    maxLength: 10,
  }),
).map(([words, t, derivations]) => {
  const patterns = [...words];
  for (const [a, b, how] of derivations) {
    const base = patterns[a % patterns.length];
    const cut = 1 + (b % base.length);
    if (how === "prefix") patterns.push(base.slice(0, cut));
    else if (how === "suffix") patterns.push(base.slice(-cut));
    else if (how === "twice") patterns.push(base + base);
    else if (t.length > 0) {
      const from = a % t.length;
      patterns.push(t.slice(from, from + 1 + (b % 8)));
    }
  }
  return { patterns, text: t };
});

Deno.test("property: the automaton finds what a naive leftmost-longest search finds", () => {
  fc.assert(
    fc.property(patternsAndText, ({ patterns, text }) => {
      const ac = new AhoCorasick(patterns);
      const expected = naive(patterns, text);
      for (const found of allWays(ac, text)) assert.deepEqual(found, expected);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: the automaton agrees with the naive search on texts full of near-misses", () => {
  // A text built from the patterns themselves, cut and glued, so that most
  // positions start a partial match that fails late.
  fc.assert(
    fc.property(
      fc.array(word, { minLength: 1, maxLength: 8 }),
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 30 }),
      (patterns, cuts) => {
        const text = cuts.map(([p, from, to]) => {
          const s = patterns[p % patterns.length];
          return s.slice(from % s.length, (from % s.length) + 1 + (to % s.length));
        }).join("");
        const ac = new AhoCorasick(patterns);
        const expected = naive(patterns, text);
        for (const found of allWays(ac, text)) assert.deepEqual(found, expected);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("property: large pattern sets (dense levels, long edge lists) match like the naive search", () => {
  // 16 letters and hundreds of patterns: the root and the next levels become
  // dense rows, deeper states records with long sorted edge lists.
  const letter = fc.constantFrom(..."abcdefghijklmnop");
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: letter, minLength: 1, maxLength: 9 }), {
        minLength: 200,
        maxLength: 600,
      }),
      fc.string({ unit: letter, maxLength: 300 }),
      (patterns, text) => {
        const ac = new AhoCorasick(patterns);
        const expected = naive(patterns, text);
        for (const found of allWays(ac, text)) assert.deepEqual(found, expected);
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("property: patterns over hundreds of distinct code units match like the naive search", () => {
  // More than 256 classes: the start filter keeps only the low byte of each.
  const wide = fc.integer({ min: 0x4e00, max: 0x4e00 + 600 }).map((c) => String.fromCharCode(c));
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: wide, minLength: 1, maxLength: 5 }), {
        minLength: 1,
        maxLength: 300,
      }),
      fc.array(fc.nat(), { maxLength: 20 }),
      (patterns, picks) => {
        const text = picks.map((p) => patterns[p % patterns.length] + "\u4e00x").join("");
        const ac = new AhoCorasick(patterns);
        const expected = naive(patterns, text);
        for (const found of allWays(ac, text)) assert.deepEqual(found, expected);
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("duplicate patterns report the lowest id; empty patterns never match", () => {
  const ac = new AhoCorasick(["", "abc", "xabcx", "abc", "bc"]);
  for (const found of allWays(ac, "abc xabcx bc")) {
    assert.deepEqual(found, [
      { start: 0, end: 3, id: 1 },
      { start: 4, end: 9, id: 2 },
      { start: 10, end: 12, id: 4 },
    ]);
  }
  assert.deepEqual(new AhoCorasick([""]).matches("anything"), []);
  assert.deepEqual(new AhoCorasick([]).matches("anything"), []);
});

Deno.test("a deep state with many children finds each of them", () => {
  // One path, then a dozen branches: the shared prefix is not worth dense
  // rows, so the branching state keeps a sorted edge list, bisected.
  const branches = [..."ABCDEFGHIJKL"];
  const patterns = branches.map((b) => `abcd${b}`);
  const ac = new AhoCorasick(patterns);
  assert.equal(ac.denseStates, 1);
  const text = "abcdA abcdZ abcdF abcdL abcd abcdG";
  const expected = naive(patterns, text);
  assert.deepEqual(expected.map((m) => m.id), [0, 5, 11, 6]);
  for (const found of allWays(ac, text)) assert.deepEqual(found, expected);
});

Deno.test("adversarial text against a long near-miss pattern still matches correctly", () => {
  // Every position starts a walk that fails only at the last unit: the walks
  // run out of budget and the plain pass takes over.
  const long = `${"a".repeat(200)}b`;
  const ac = new AhoCorasick([long, "aaab"]);
  const text = `${"a".repeat(5_000)}b`;
  const expected = [{ start: 4_800, end: 5_001, id: 0 }];
  assert.deepEqual(naive([long, "aaab"], text), expected);
  assert.deepEqual(ac.matches(text), expected);
  const exact = `${"a".repeat(200)}b`;
  assert.deepEqual(ac.matches(`x${exact}`), [{ start: 1, end: 202, id: 0 }]);
});

Deno.test("a large pattern set keeps its shallow states dense and the rest as records", () => {
  const letters = "abcdefghijklmnopqrstuvwxyz0123456789";
  let seed = 1;
  const next = (): number => (seed = (seed * 48271) % 0x7fffffff) / 0x7fffffff;
  const patterns = Array.from(
    { length: 5_000 },
    () => Array.from({ length: 20 }, () => letters[Math.floor(next() * letters.length)]).join(""),
  );
  const ac = new AhoCorasick(patterns);
  // Root, 36 states one unit deep, ~1,300 two deep: dense; the chains below: records.
  assert.ok(ac.denseStates > 37 && ac.denseStates < 2_000, `${ac.denseStates} dense states`);
  assert.ok(ac.states > 90_000);
  const text = `${patterns[17]}-${patterns[4_321].slice(0, 19)}-${patterns[4_999]}`;
  assert.deepEqual(ac.matches(text).map((m) => m.id), [17, 4_999]);
});
