/**
 * Issue 12 item 17: every task names its permissions (never `-A` or
 * `--allow-all`), runs without prompting, and the README says why each grant.
 */

import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);

Deno.test("every task is scoped, runs with --no-prompt and is explained in the README", async () => {
  const tasks: Record<string, string> = JSON.parse(
    await Deno.readTextFile(new URL("deno.json", root)),
  ).tasks;
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const section = readme.slice(readme.indexOf("## Tasks and permissions"));
  assert.ok(section.length > 0, "README has no 'Tasks and permissions' section");
  for (const [name, command] of Object.entries(tasks)) {
    assert.doesNotMatch(command, /(^|\s)(-A|--allow-all)(\s|$)/, name);
    for (const run of command.split("&&").map((c) => c.trim())) {
      if (/^deno (run|test|bench)\b/.test(run)) {
        assert.match(run, /--no-prompt/, `${name}: ${run}`);
      }
    }
    assert.ok(section.includes(`| \`${name}\``), `README does not explain task ${name}`);
  }
});

Deno.test("db:migrate may read only DATABASE_URL and the PG* variables", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  assert.match(tasks["db:migrate"], /--allow-env=DATABASE_URL,PG\*(\s|$)/);
  assert.doesNotMatch(tasks["db:migrate"], /--allow-(read|write)/);
});

Deno.test("secrets and rotate grant the same permissions, --allow-run included (restart hooks run from rotate and rotation resume)", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const grants = (task: string) =>
    task.split(/\s+/).filter((w) => w.startsWith("--allow-") || w === "--no-prompt").sort();
  assert.deepEqual(grants(tasks.rotate), grants(tasks.secrets));
  assert.ok(grants(tasks.secrets).includes("--allow-run"));
  assert.match(tasks.rotate, /cli\.ts rotate$/);
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const row = readme.split("\n").find((l) => l.startsWith("| `secrets`"));
  assert.match(row ?? "", /\brun\b/, "the README says why secrets may run programs");
});

Deno.test("ci-local runs what CI runs: .ci/run, whose deno commands are scoped and never prompt", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  assert.equal(tasks["ci-local"], "bash .ci/run");
  const script = await Deno.readTextFile(new URL(".ci/run", root));
  // Continuation lines joined, so a command's flags are on one line.
  const lines = script.replace(/\\\n\s*/g, " ").split("\n").filter((l) => !/^\s*#/.test(l));
  const runs = lines.filter((l) => /\bdeno (run|test|bench)\b/.test(l));
  assert.ok(runs.length >= 3, "CI runs deno commands");
  for (const line of runs) {
    assert.match(line, /--no-prompt/, line);
    assert.doesNotMatch(line, /(^|\s)(-A|--allow-all)(\s|$)/, line);
  }
  // The README's test command is what CI runs.
  assert.match(script, /npx -y deno@2\.9\.6 task test/);
});
