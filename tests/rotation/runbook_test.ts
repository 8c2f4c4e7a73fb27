/**
 * Runs the runbook's `sh` command blocks, in order, against the embedded
 * file backend (the `json` block is the policy). `<rotation-id>` is the id
 * of the latest rotation; a trailing `# exit N` is the expected exit code.
 */

import assert from "node:assert/strict";
import { CliHarness } from "../cli/_capture.ts";

const RUNBOOK = new URL("../../docs/RUNBOOKS/secret-rotation.md", import.meta.url);

function blocks(markdown: string, lang: string): string[] {
  const out: string[] = [];
  const re = new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g");
  for (const m of markdown.matchAll(re)) out.push(m[1]);
  return out;
}

function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

Deno.test("the rotation runbook's command blocks run against the file backend", async () => {
  const md = await Deno.readTextFile(RUNBOOK);
  const h = await CliHarness.create();
  Object.assign(h.env, {
    SECRET_ROTATION_LOG_FILE: `${h.dir}/rotation.jsonl`,
    SECRET_ROTATION_LOCK_DIR: `${h.dir}/locks`,
    KEYWARD_ROTATION_POLICY: `${h.dir}/keyward.rotation.json`,
    USER: "runbook",
  });
  try {
    const [policy] = blocks(md, "json");
    await Deno.writeTextFile(`${h.dir}/keyward.rotation.json`, policy);
    let ran = 0;
    let lastId = "";
    for (const block of blocks(md, "sh")) {
      for (const raw of block.split("\n")) {
        const line = raw.trim();
        if (line === "") continue;
        const expected = /#\s*exit (\d+)\s*$/.exec(line);
        let command = line.replace(/\s+#.*$/, "");
        let stdin: string | undefined;
        const piped = /^printf '([^']*)' \| (.*)$/.exec(command);
        if (piped) {
          stdin = piped[1];
          command = piped[2];
        }
        command = command.replaceAll("<rotation-id>", lastId);
        const argv = words(command);
        assert.deepEqual(argv.slice(0, 2), ["deno", "task"], line);
        const args = argv[2] === "rotate" ? ["rotate", ...argv.slice(3)] : argv.slice(3);
        assert.equal(argv[2] === "rotate" || argv[2] === "secrets", true, line);
        const run = await h.run(args, stdin === undefined ? {} : { stdin });
        assert.equal(run.code, expected ? Number(expected[1]) : 0, `${line}\n${run.stderr}`);
        const id = /rotation ([0-9a-f-]{36})/.exec(run.stdout + run.stderr);
        if (id) lastId = id[1];
        ran++;
      }
    }
    assert.ok(ran >= 10, `ran ${ran} commands`);
    assert.notEqual(lastId, "");
  } finally {
    await h.dispose();
  }
});
