/**
 * CI's coverage gate (tests/_coverage_gate.ts): every source folder present,
 * at least 90% of its lines each.
 */

import assert from "node:assert/strict";
import { gate, includePattern, MINIMUM, parseLcov, SOURCE_FOLDERS } from "./_coverage_gate.ts";

const LCOV = [
  "SF:file:///repo/core/a.ts",
  "LF:100",
  "LH:95",
  "end_of_record",
  "SF:file:///repo/core/b.ts",
  "LF:100",
  "LH:90",
  "end_of_record",
  "SF:file:///repo/cache/c.ts",
  "LF:50",
  "LH:40",
  "end_of_record",
  "SF:file:///repo/tests/core/a_test.ts",
  "LF:10",
  "LH:0",
  "end_of_record",
].join("\n");

Deno.test("the gate passes a folder at 90% or more, fails one below, and one without data", () => {
  const files = parseLcov(LCOV, "/repo/");
  assert.deepEqual(files.map((f) => f.file), [
    "core/a.ts",
    "core/b.ts",
    "cache/c.ts",
    "tests/core/a_test.ts",
  ]);
  const present = new Set(["core", "cache", "audit"]);
  const results = gate(files, ["core", "cache", "audit", "server"], (f) => present.has(f));
  assert.deepEqual(results.map((r) => [r.folder, r.status, Number(r.percent.toFixed(1))]), [
    ["core", "ok", 92.5], // tests/core/ does not count for core/
    ["cache", "below", 80],
    ["audit", "no-data", 100], // present but its tests did not run
    ["server", "skipped", 0], // not in this checkout (built on another branch)
  ]);
  assert.equal(MINIMUM, 90);
});

Deno.test("the gate covers every source folder the issue names, and .ci/run uses its pattern", async () => {
  for (
    const folder of ["core", "backends", "cache", "audit", "redact", "rotation", "config", "server"]
  ) {
    assert.ok(SOURCE_FOLDERS.includes(folder), folder);
  }
  const pattern = new RegExp(includePattern());
  assert.match("file:///work/keyward/backends/file.ts", pattern);
  assert.doesNotMatch("file:///work/keyward/mod.ts", pattern);
  const run = await Deno.readTextFile(new URL("../.ci/run", import.meta.url));
  assert.match(run, /_coverage_gate\.ts --include-pattern/);
  assert.match(run, /deno coverage coverage --include="\$include"/);
});
