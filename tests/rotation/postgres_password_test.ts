/**
 * `postgres-password` on the real Postgres: alternating users with role
 * names unique per run. After every kill and at the end, a new connection
 * with the credential `current` names succeeds, and so does one with the
 * credential a running service still holds.
 */

import assert from "node:assert/strict";
import {
  APP,
  BASE_URL,
  canConnect,
  current,
  harness,
  PG_OK as ok,
  setApp,
  withRoles,
} from "./_pg_roles.ts";

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

Deno.test({
  name: "postgres-password: a rotation alternates users; both logins work during the grace period",
  ignore: !ok,
  async fn() {
    await withRoles(async (base, first) => {
      const h = await harness();
      try {
        await setApp(h, first);
        const run = await h.run(["rotate", APP]);
        assert.equal(run.code, 0, run.stderr);
        const now = await current(h);
        assert.equal(now.username, `${base}_b`);
        assert.ok(await canConnect(now), "the new current login works");
        assert.ok(await canConnect(first), "the login a running service holds still works");
        const text = run.stdout + run.stderr + await Deno.readTextFile(`${h.dir}/rotation.jsonl`);
        assert.ok(!text.includes(now.password) && !text.includes(first.password));
        // A second rotation inside the grace period cancels the first one's
        // deprecation of _a (it reuses _a) and never disables the current login.
        const second = await h.run(["rotate", APP, "--json"]);
        assert.equal(second.code, 0, second.stderr);
        const steps = second.stdout.trim().split("\n").map((l) => JSON.parse(l));
        assert.ok(
          steps.some((s) => s.step === "deprecate_previous" && s.outcome === "cancelled"),
          "the first rotation's deprecation was cancelled",
        );
        const third = await current(h);
        assert.equal(third.username, `${base}_a`);
        assert.ok(await canConnect(third));
        assert.ok(await canConnect(now), "the previous login (_b) still works in the grace period");
        // Deprecation after the grace disables _b, never the current _a.
        const finish = await h.run(["rotation", "finish"]);
        assert.equal(finish.code, 0);
        const emergency = await h.run(["rotate", APP, "--grace", "0s", "--delete-after", "0s"]);
        assert.equal(emergency.code, 0, emergency.stderr);
        const last = await current(h);
        assert.equal(last.username, `${base}_b`);
        assert.ok(await canConnect(last), "current works after an emergency rotation");
        assert.ok(
          !(await canConnect(third)),
          "the previous login is disabled at once (--grace 0s)",
        );
      } finally {
        await h.dispose();
      }
    });
  },
});

Deno.test({
  name: "postgres-password: a refused admin login writes nothing",
  ignore: !ok,
  async fn() {
    await withRoles(async (_base, first) => {
      const h = await harness();
      try {
        await setApp(h, first);
        const u = new URL(BASE_URL!);
        u.password = "wrong-password-0000";
        assert.equal((await h.run(["set", "database/admin"], { stdin: u.toString() })).code, 0);
        const run = await h.run(["rotate", APP]);
        assert.notEqual(run.code, 0);
        assert.match(run.stderr, /refused the admin login|password authentication/);
        assert.ok(!run.stderr.includes("wrong-password-0000"));
        await assert.rejects(Deno.stat(`${h.dir}/rotation.jsonl`), Deno.errors.NotFound);
        assert.deepEqual(await current(h), first);
      } finally {
        await h.dispose();
      }
    });
  },
});

for (
  const step of [
    "create_pending",
    "set_at_provider",
    "test_pending",
    "promote",
    "verify",
    "deprecate_previous",
  ]
) {
  Deno.test({
    name: `postgres-password: killed after ${step}, both logins work; resume completes`,
    ignore: !ok,
    async fn() {
      await withRoles(async (base, first) => {
        const h = await harness();
        try {
          await setApp(h, first);
          // A first rotation so that deprecation has a previous user to disable.
          assert.equal((await h.run(["rotate", APP])).code, 0);
          const held = await current(h); // what a running service holds now (_b)
          const child = await new Deno.Command(Deno.execPath(), {
            args: [
              "run",
              "--allow-read",
              "--allow-write",
              "--allow-env",
              "--allow-net=127.0.0.1",
              CLI,
              "rotate",
              APP,
              "--grace",
              step === "deprecate_previous" ? "0s" : "7d",
            ],
            env: { ...h.env, KEYWARD_ROTATION_TEST_CRASH_AFTER: step },
            clearEnv: true,
            stdout: "piped",
            stderr: "piped",
          }).output();
          assert.equal(child.signal, "SIGKILL", new TextDecoder().decode(child.stderr));
          const cur = await current(h);
          assert.ok(await canConnect(cur), `after a kill at ${step}: current connects`);
          if (step !== "deprecate_previous") {
            assert.ok(await canConnect(held), `after a kill at ${step}: the held login connects`);
          }
          const rows = (await Deno.readTextFile(`${h.dir}/rotation.jsonl`)).trim().split("\n")
            .map((l) => JSON.parse(l));
          const id = rows.at(-1).rotationId;
          const resumed = await h.run(["rotation", "resume", id]);
          assert.equal(resumed.code, 0, resumed.stderr);
          const end = await current(h);
          assert.equal(end.username, `${base}_a`);
          assert.ok(await canConnect(end), "at the end: current connects");
          if (step !== "deprecate_previous") {
            assert.ok(await canConnect(held), "at the end: the held login still connects (grace)");
          }
        } finally {
          await h.dispose();
        }
      });
    },
  });
}
