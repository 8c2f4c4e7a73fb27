import assert from "node:assert/strict";
import { MemorySecretManager } from "../../backends/memory.ts";
import { createCliManager } from "../../cli/_deps.ts";
import { TEST_KEY_B64 } from "../audit/_fixtures.ts";
import { withHarness } from "./_capture.ts";

const CANARY = "CANARY-cli-audit-3f9a0b7c";

Deno.test("the CLI hands the factory SECRET_AUDIT_ON_FAILURE=fail unless the environment sets it", async () => {
  const seen: (string | undefined)[] = [];
  const create = (o: { env: Record<string, string | undefined> }) => {
    seen.push(o.env.SECRET_AUDIT_ON_FAILURE);
    return Promise.resolve(new MemorySecretManager());
  };
  for (const value of [undefined, "", "  "]) {
    await createCliManager({ SECRET_BACKEND: "file", SECRET_AUDIT_ON_FAILURE: value }, create);
  }
  await createCliManager({ SECRET_BACKEND: "file", SECRET_AUDIT_ON_FAILURE: "warn" }, create);
  assert.deepEqual(seen, ["fail", "fail", "fail", "warn"]);
});

/** Audit settings whose sink cannot write: a JSON-lines "file" that is a folder, or no database. */
function brokenAudits(dir: string): [string, Record<string, string>][] {
  return [
    ["jsonl", { SECRET_AUDIT: "jsonl", SECRET_AUDIT_SERVICE: "cli", SECRET_AUDIT_FILE: dir }],
    ["postgres", {
      SECRET_AUDIT: "postgres",
      SECRET_AUDIT_SERVICE: "cli",
      KEYWARD_AUDIT_KEY: TEST_KEY_B64,
      DATABASE_URL: "postgres://nobody:x@127.0.0.1:1/none",
    }],
  ];
}

Deno.test("with SECRET_AUDIT_ON_FAILURE=warn an unwritable audit is reported on standard error", async () => {
  await withHarness(async (h) => {
    assert.equal((await h.run(["set", "db/password"], { stdin: CANARY })).code, 0);
    for (const [mode, audit] of brokenAudits(h.dir)) {
      Object.assign(h.env, audit, { SECRET_AUDIT_ON_FAILURE: "warn" });
      const r = await h.run(["get", "db/password"]);
      assert.equal(r.code, 0, `${mode}: ${r.stderr}`);
      assert.equal(r.stdout, `${CANARY}\n`);
      assert.match(r.stderr, /^(warning|error) \(keyward\.audit[.\w]*\): .*audit/im, mode);
      assert.ok(!r.stderr.includes(CANARY), r.stderr);
      for (const k of Object.keys(audit)) delete h.env[k];
    }
  });
});

// withAudit's onFailure: "fail", which the CLI selects by default, refuses to serve a value it
// cannot audit.
Deno.test({
  name: "an audit trail that cannot be written makes the CLI refuse to print the value",
  async fn() {
    await withHarness(async (h) => {
      assert.equal((await h.run(["set", "db/password"], { stdin: CANARY })).code, 0);
      for (const [mode, audit] of brokenAudits(h.dir)) {
        Object.assign(h.env, audit);
        const r = await h.run(["get", "db/password"]);
        assert.notEqual(r.code, 0, `${mode}: the value was served unaudited`);
        assert.equal(r.code, 4, `${mode}: ${r.stderr}`);
        assert.equal(r.stdout, "", `${mode}: the value was printed`);
        assert.match(r.stderr, /audit/i);
        assert.ok(!r.stderr.includes(CANARY), r.stderr);
        for (const k of Object.keys(audit)) delete h.env[k];
      }
    });
  },
});
