/**
 * `deno task check`: formatting, lint, the type check, the doc lint and the
 * runnable examples of every entry in deno.json `exports`, then the publish
 * dry run. The entries and the source folders are read from deno.json and
 * the tree, so a new entry is checked without editing this list.
 *
 * @module
 */

const root = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
const entries = [...new Set(Object.values(config.exports as Record<string, string>))]
  .map((p) => p.replace(/^\.\//, ""));
/** Source folders: every top-level folder holding TypeScript, but tests, docs and examples. */
const folders: string[] = [];
for await (const e of Deno.readDir(root)) {
  if (!e.isDirectory || e.name.startsWith(".")) continue;
  if (["tests", "docs", "examples", "coverage", "node_modules"].includes(e.name)) continue;
  let ts = false;
  for await (const f of Deno.readDir(new URL(`${e.name}/`, root))) {
    if (f.isFile && f.name.endsWith(".ts")) ts = true;
  }
  if (ts) folders.push(e.name);
}
folders.sort();
const rootEntries = entries.filter((e) => !e.includes("/"));

const steps: string[][] = [
  ["fmt", "--check"],
  ["lint"],
  ["check", ...entries],
  ["doc", "--lint", ...entries],
  [
    "test",
    "--doc",
    "--no-prompt",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-net=127.0.0.1,localhost",
    "--allow-sys",
    ...rootEntries,
    ...folders,
  ],
  ["publish", "--dry-run", "--allow-dirty"],
];
for (const args of steps) {
  console.log(`\n$ deno ${args.join(" ")}`);
  const { code } = await new Deno.Command("deno", {
    args,
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    console.error(`check failed at: deno ${args[0]} (exit ${code})`);
    Deno.exit(code);
  }
}
