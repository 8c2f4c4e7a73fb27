/**
 * The README's exit-code table is a copy of the CLI's one table
 * (`EXIT_CODES` in cli/_exit.ts): every code, in order, with its meaning.
 */

import assert from "node:assert/strict";
import { EXIT_CODES } from "../../cli/_exit.ts";

Deno.test("the README's exit-code table lists every code of cli/_exit.ts, in order, with its meaning", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const rows = [...readme.matchAll(/^\| (\d+) +\| ([^|]+?) +\|$/gm)].map((m) => ({
    code: Number(m[1]),
    meaning: m[2],
  }));
  assert.deepEqual(rows.map((r) => r.code), EXIT_CODES.map((e) => e.code));
  for (const [i, e] of EXIT_CODES.entries()) {
    assert.ok(rows[i].meaning.startsWith(e.meaning), `${e.code}: ${rows[i].meaning}`);
  }
  assert.ok(readme.includes("`EXIT_CODES` in `cli/_exit.ts`"), "the README names its source");
});
