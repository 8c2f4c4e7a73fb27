/**
 * CI's coverage gate: reads an lcov report of core/ and backends/, prints the
 * line coverage of each file, and fails below 90% overall or 80% for a file.
 */
const [path] = Deno.args;
const text = await Deno.readTextFile(path);
const files: { file: string; found: number; hit: number }[] = [];
let current: { file: string; found: number; hit: number } | undefined;
for (const line of text.split("\n")) {
  if (line.startsWith("SF:")) current = { file: line.slice(3), found: 0, hit: 0 };
  else if (line.startsWith("LF:") && current) current.found = Number(line.slice(3));
  else if (line.startsWith("LH:") && current) current.hit = Number(line.slice(3));
  else if (line === "end_of_record" && current) {
    files.push(current);
    current = undefined;
  }
}
const root = Deno.cwd() + "/";
let found = 0;
let hit = 0;
const failures: string[] = [];
for (const f of files.sort((a, b) => a.file.localeCompare(b.file))) {
  const rel = f.file.replace(/^file:\/\//, "").replace(root, "");
  if (!/^(core|backends)\//.test(rel)) continue;
  found += f.found;
  hit += f.hit;
  const pct = f.found === 0 ? 100 : (100 * f.hit) / f.found;
  console.log(`${pct.toFixed(1).padStart(6)}%  ${rel}`);
  if (pct < 80) failures.push(`${rel} is at ${pct.toFixed(1)}% (minimum 80%)`);
}
const total = found === 0 ? 0 : (100 * hit) / found;
console.log(`${total.toFixed(1).padStart(6)}%  overall (core/ and backends/)`);
if (found === 0) failures.push("no coverage data for core/ or backends/");
if (total < 90) failures.push(`overall coverage is ${total.toFixed(1)}% (minimum 90%)`);
if (failures.length) {
  console.error(failures.join("\n"));
  Deno.exit(1);
}
