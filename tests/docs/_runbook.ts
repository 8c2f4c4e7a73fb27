/**
 * Running a runbook's ```sh blocks in a test: the blocks in order, a bash
 * prelude that makes `deno task secrets|migrate` (also `deno task -q ...`)
 * run this checkout's CLI with the `secrets` task's own permissions, and a
 * runner with a clean environment.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The ```sh blocks of a markdown text, in order. */
export function shBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const re = /^```sh\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(markdown); m !== null; m = re.exec(markdown)) blocks.push(m[1]);
  return blocks;
}

/** A bash prelude that makes `deno task secrets|migrate` run this checkout's CLI. */
export async function prelude(): Promise<string> {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks;
  const secrets = String(tasks.secrets).replace(/ cli\.ts$/, "");
  assert.match(secrets, /^deno run --no-prompt /);
  const run = secrets.replace(/^deno /, `"${Deno.execPath()}" `) +
    ` --config "${ROOT}deno.json" "${ROOT}cli.ts"`;
  return `set -euo pipefail
deno() {
  if [ "$1" = task ] && [ "$2" = -q ]; then shift 2; set -- task "$@"; fi
  if [ "$1" = task ] && [ "$2" = secrets ]; then shift 2; ${run} "$@"; return; fi
  if [ "$1" = task ] && [ "$2" = migrate ]; then shift 2; ${run} migrate "$@"; return; fi
  echo "the runbook test runs only deno task secrets|migrate, not: $*" >&2; return 99
}
`;
}

export async function sh(dir: string, env: Record<string, string>, script: string) {
  const out = await new Deno.Command("bash", {
    args: ["-c", script],
    cwd: dir,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}
