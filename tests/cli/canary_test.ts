import assert from "node:assert/strict";
import { withHarness } from "./_capture.ts";

const CANARY = "CANARY-cli-value-b41d07e2";
const FIELD_CANARY = "CANARY-cli-field-9c5e13aa";

Deno.test("no command but get ever prints a secret's value", async () => {
  await withHarness(async (h) => {
    const printed: string[] = [];
    const run = async (args: string[], stdin?: string) => {
      const r = await h.run(args, stdin === undefined ? {} : { stdin });
      printed.push(`${r.stdout}${r.stderr}`);
      return r;
    };
    // Every command that is not `get`, in text and JSON, succeeding and failing.
    for (const json of [[], ["--json"]]) {
      await run(["set", "canary/plain", ...json], `${CANARY}\n`);
      await run(["set", "canary/plain", "--stage", "pending", ...json], `${CANARY}-pending`);
      await run(
        ["set", "canary/fields", "--field", "user", "--field", "password", ...json],
        `user=app\npassword=${FIELD_CANARY}\n`,
      );
      await run(["set", "canary/plain", "--if-version", "999", ...json], `${CANARY}-conflict`);
      await run(
        ["set", "canary/fields", "--field", "password", ...json],
        `password=${FIELD_CANARY}\nuser=${CANARY}\n`,
      );
      await run(["set", "canary/fields", "--field", "password", ...json], `${FIELD_CANARY}\n`);
      await run(["set", "canary/plain", CANARY, ...json]);
      await run(["set", "canary/huge", ...json], `${CANARY}${"x".repeat(70_000)}`);
      await run(["list", ...json]);
      await run(["list", "canary/", ...json]);
      await run(["describe", "canary/plain", ...json]);
      await run(["describe", "canary/fields", ...json]);
      await run(["promote", "canary/plain", "1", ...json]);
      await run(["promote", "canary/plain", "2", ...json]);
      await run(["delete", "canary/plain", "--recovery-days", "7", "--yes", ...json]);
      await run(["keygen", "--out", `${h.dir}/k${json.length}.key`, ...json]);
      await run(["--help", ...json]);
      for (const c of ["get", "list", "set", "describe", "promote", "delete", "keygen"]) {
        await run([c, "--help", ...json]);
      }
      // get's failures print no value either.
      await run(["get", "canary/plain", "--field", "password", ...json]);
      await run(["get", "canary/fields", "--field", "missing", ...json]);
      await run(["get", "canary/plain", "--version", "42", ...json]);
    }
    await run(["delete", "canary/fields", "--yes"]);
    const all = printed.join("\n");
    assert.ok(!all.includes(CANARY), all);
    assert.ok(!all.includes(FIELD_CANARY), all);

    // The positive control: get does print it, so the check above can fail.
    await run(["set", "canary/plain"], CANARY);
    assert.equal((await h.run(["get", "canary/plain"])).stdout, `${CANARY}\n`);
  });
});
