/**
 * Two rotations of one secret at the same time (one refused, exit 5, with
 * the running rotation's id), and Ctrl-C between steps (the running step
 * ends, the resume command is printed, exit 130). The first rotation is
 * held inside a restart hook that waits for a file the test creates, so
 * nothing depends on timing.
 */

import assert from "node:assert/strict";
import { CliHarness } from "../cli/_capture.ts";

const NAME = "webhooks/signing";
const CANARY = "canary-whsec-concurrent-8a1f";
const CLI = new URL("../../cli.ts", import.meta.url).pathname;

async function harness(): Promise<CliHarness> {
  const h = await CliHarness.create();
  Object.assign(h.env, {
    SECRET_ROTATION_LOG_FILE: `${h.dir}/rotation.jsonl`,
    SECRET_ROTATION_LOCK_DIR: `${h.dir}/locks`,
    KEYWARD_ROTATION_POLICY: `${h.dir}/policy.json`,
    USER: "ops-concurrent",
  });
  // The hook waits until the test creates `go` (at most 60 s).
  const wait = `for i in $(seq 600); do [ -e '${h.dir}/go' ] && exit 0; sleep 0.1; done; exit 1`;
  await Deno.writeTextFile(
    `${h.dir}/policy.json`,
    JSON.stringify({
      rules: [{
        prefix: "webhooks/",
        rotator: "random",
        restart: [{ service: "worker", command: ["sh", "-c", wait] }],
      }],
    }),
  );
  assert.equal((await h.run(["set", NAME], { stdin: CANARY })).code, 0);
  return h;
}

async function untilLogShows(h: CliHarness, re: RegExp): Promise<string> {
  for (;;) {
    const text = await Deno.readTextFile(`${h.dir}/rotation.jsonl`).catch(() => "");
    const m = re.exec(text);
    if (m) return m[1] ?? m[0];
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("two concurrent rotations of one secret: the second is refused with the first's id (exit 5)", async () => {
  const h = await harness();
  try {
    const first = h.run(["rotate", NAME]);
    const id = await untilLogShows(
      h,
      /"rotationId":"([0-9a-f-]{36})","secretName":"webhooks\/signing","step":"promote","status":"started"/,
    );
    const second = await h.run(["rotate", NAME]);
    assert.equal(second.code, 5, second.stderr);
    assert.ok(second.stderr.includes(id), second.stderr);
    await Deno.writeTextFile(`${h.dir}/go`, "");
    const done = await first;
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stderr, /restart hook worker exited 0/);
  } finally {
    await h.dispose();
  }
});

Deno.test("Ctrl-C during a step: the step ends, the rotation stops, the resume command is printed", async () => {
  const h = await harness();
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-run",
        CLI,
        "rotate",
        NAME,
      ],
      env: { ...h.env, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await untilLogShows(h, /"step":"promote","status":"started"/);
    child.kill("SIGINT");
    await Deno.writeTextFile(`${h.dir}/go`, "");
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 130, stderr);
    const resume = /deno task secrets rotation resume ([0-9a-f-]{36})/.exec(stderr);
    assert.ok(resume, stderr);
    const rows = (await Deno.readTextFile(`${h.dir}/rotation.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(`${rows.at(-1).step}:${rows.at(-1).status}`, "promote:succeeded");
    const resumed = await h.run(["rotation", "resume", resume[1]]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /verify +succeeded/);
  } finally {
    await h.dispose();
  }
});
