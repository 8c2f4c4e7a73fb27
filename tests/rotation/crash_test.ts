/**
 * Crash at each step: the rotation runs in a subprocess that kills itself
 * (SIGKILL) right after a step succeeded (KEYWARD_ROTATION_TEST_CRASH_AFTER),
 * then `rotation resume <id>` completes it.
 */

import assert from "node:assert/strict";
import { CliHarness } from "../cli/_capture.ts";

const NAME = "webhooks/signing";
const CANARY = "canary-whsec-crash-5e8d2b7a";
const CLI = new URL("../../cli.ts", import.meta.url).pathname;
const STEPS = [
  "create_pending",
  "set_at_provider",
  "test_pending",
  "promote",
  "verify",
  "deprecate_previous",
  "schedule_deletion",
];

for (const step of STEPS) {
  Deno.test(`killed right after ${step}: resume completes the rotation`, async () => {
    const h = await CliHarness.create();
    Object.assign(h.env, {
      SECRET_ROTATION_LOG_FILE: `${h.dir}/rotation.jsonl`,
      SECRET_ROTATION_LOCK_DIR: `${h.dir}/locks`,
      KEYWARD_ROTATION_POLICY: `${h.dir}/none.json`,
      USER: "ops-crash",
    });
    await Deno.writeTextFile(
      `${h.dir}/none.json`,
      JSON.stringify({ rules: [{ prefix: "webhooks/", rotator: "random" }] }),
    );
    try {
      assert.equal((await h.run(["set", NAME], { stdin: CANARY })).code, 0);
      const child = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-write",
          "--allow-env",
          "--allow-net=127.0.0.1",
          CLI,
          "rotate",
          NAME,
          "--grace",
          "0s",
          "--delete-after",
          "0s",
          "--json",
        ],
        env: { ...h.env, KEYWARD_ROTATION_TEST_CRASH_AFTER: step, NO_COLOR: "1" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(child.signal, "SIGKILL", new TextDecoder().decode(child.stderr));
      const rows = (await Deno.readTextFile(`${h.dir}/rotation.jsonl`)).trim().split("\n")
        .map((l) => JSON.parse(l));
      const last = rows.at(-1);
      assert.equal(`${last.step}:${last.status}`, `${step}:succeeded`, "killed right after it");
      const id = last.rotationId;
      // Whatever step it died after, readers still get a working value.
      const during = (await h.run(["get", NAME])).stdout.trim();
      assert.ok(during.length > 0);
      const status = JSON.parse((await h.run(["rotation", "status", id, "--json"])).stdout);
      const phase = status.rotations[0].phase;
      if (step === "schedule_deletion") {
        assert.equal(phase, "completed");
      } else {
        assert.ok(["running", "scheduled"].includes(phase), phase);
      }
      const resumed = await h.run(["rotation", "resume", id, "--json"]);
      assert.equal(resumed.code, 0, resumed.stderr);
      const summary = JSON.parse(resumed.stdout.trim().split("\n").at(-1)!);
      assert.ok(["completed", "nothing_to_do"].includes(summary.outcome), summary.outcome);
      const after = JSON.parse((await h.run(["rotation", "status", id, "--json"])).stdout);
      assert.equal(after.rotations[0].phase, "completed");
      const current = (await h.run(["get", NAME])).stdout.trim();
      assert.notEqual(current, CANARY);
      const all = await Deno.readTextFile(`${h.dir}/rotation.jsonl`);
      assert.ok(!all.includes(CANARY) && !all.includes(current), "no value in the log");
      // Every started step of the rotation ended (the killed run ended its step before dying).
      const done = all.trim().split("\n").map((l) => JSON.parse(l));
      for (const s of STEPS) {
        assert.ok(
          done.some((r: { step: string; status: string }) =>
            r.step === s && r.status === "succeeded"
          ),
          `${s} succeeded`,
        );
      }
      // A new rotation is accepted: the dead process left no live lock.
      const next = await h.run(["rotate", NAME]);
      assert.equal(next.code, 0, next.stderr);
    } finally {
      await h.dispose();
    }
  });
}
