import assert from "node:assert/strict";
import { MemorySecretManager } from "../../mod.ts";
import {
  envTemplate,
  malformedEnvLines,
  planEnvImport,
  runEnvImport,
  templateMarkers,
} from "../../config.ts";
import { FaultyManager } from "../../testing.ts";

const CANARY = "canary-env-import-51c0ffee";

const SEED = {
  ALPACA_API_KEY_ID: "PKTEST0000000000AAAA",
  ALPACA_API_SECRET_KEY: CANARY,
  DATABASE_URL: "postgresql+asyncpg://app:Sup3r/Secr3t#pw@db.internal:5433/orders",
  WEBHOOK_SECRET: "whsec_0123456789abcdef",
  PORT: "8080",
  LOG_LEVEL: "info",
  SORT_KEY: "created_at",
  VAULT_TOKEN: "hvs.FAKE-not-a-token",
};

Deno.test("planEnvImport() groups the broker pair and the database credential, keeps settings", () => {
  const plan = planEnvImport(SEED);
  assert.deepEqual(plan.problems, []);
  assert.deepEqual(plan.secrets.map((s) => [s.name, s.from]), [
    ["alpaca/api_key", { key_id: "ALPACA_API_KEY_ID", secret_key: "ALPACA_API_SECRET_KEY" }],
    ["database/app", { username: "DATABASE_URL", password: "DATABASE_URL" }],
    ["webhook/secret", { value: "WEBHOOK_SECRET" }],
  ]);
  assert.deepEqual(plan.secrets[1].value, { username: "app", password: "Sup3r/Secr3t#pw" });
  assert.equal(plan.secrets[2].value, "whsec_0123456789abcdef");
  const keep = plan.settings.flatMap((s) => s.keep ?? []);
  assert.deepEqual(keep.sort(), [
    "DATABASE_HOST=db.internal",
    "DATABASE_NAME=orders",
    "DATABASE_PORT=5433",
    "LOG_LEVEL=info",
    "PORT=8080",
    "SORT_KEY=created_at",
  ]);
  const vault = plan.settings.find((s) => s.variable === "VAULT_TOKEN");
  assert.match(vault!.reason, /bootstrap/);
  assert.equal(vault!.keep, undefined, "a bootstrap credential is never kept as a setting line");
});

Deno.test("planEnvImport() takes ALPACA_API_SECRET as the pair's secret and leaves a half pair ungrouped", () => {
  const plan = planEnvImport({ ALPACA_API_KEY_ID: "PK0000000000", ALPACA_API_SECRET: "s-1" });
  assert.deepEqual(plan.secrets.map((s) => s.name), ["alpaca/api_key"]);
  const half = planEnvImport({ ALPACA_API_KEY_ID: "PK0000000000" });
  assert.deepEqual(half.secrets.map((s) => s.name), ["alpaca/api_key_id"]);
});

Deno.test("the map file and template markers override the rules; --only filters", () => {
  const plan = planEnvImport(
    { SORT_KEY: "created_at", LEGACY_PW: "pw-1", ODD: "x", WEBHOOK_SECRET: "whsec_1" },
    {
      map: {
        variables: { LEGACY_PW: { secret: "legacy/app", field: "password" }, ODD: "secret" },
      },
      markers: templateMarkers(
        "# SORT_KEY -> app/sort_key\nSORT_KEY=<secret>\nWEBHOOK_SECRET=keep-me\n",
      ),
    },
  );
  assert.deepEqual(plan.secrets.map((s) => s.name), ["app/sort_key", "legacy/app", "odd"]);
  assert.deepEqual(plan.secrets[1].value, { password: "pw-1" });
  assert.ok(
    plan.settings.some((s) => s.variable === "WEBHOOK_SECRET" && s.reason === "marked a setting"),
  );
  const only = planEnvImport(SEED, { only: "alpaca/" });
  assert.deepEqual(only.secrets.map((s) => s.name), ["alpaca/api_key"]);
});

Deno.test("planEnvImport() reports a variable that maps to an invalid name", () => {
  const plan = planEnvImport({ "Db_Token": "x1", "_TOKEN": "t" });
  assert.equal(plan.problems.length, 2);
  assert.ok(plan.problems.every((p) => !p.message.includes("x1")));
});

Deno.test("runEnvImport() creates, then changes nothing, then reports a conflict unless --overwrite", async () => {
  const manager = new MemorySecretManager();
  const plan = planEnvImport(SEED);
  const first = await runEnvImport(manager, plan);
  assert.deepEqual(
    first.rows.filter((r) => r.action !== "skipped-setting").map((r) => [r.name, r.action]),
    [["alpaca/api_key", "created"], ["database/app", "created"], ["webhook/secret", "created"]],
  );
  assert.equal(await manager.getSecret("alpaca/api_key", { field: "secret_key" }), CANARY);
  const second = await runEnvImport(manager, plan);
  assert.ok(
    second.rows.filter((r) => r.action !== "skipped-setting").every((r) =>
      r.action === "unchanged"
    ),
  );
  assert.equal((await manager.describeSecret("webhook/secret")).versions.length, 1);

  const changed = planEnvImport({ ...SEED, WEBHOOK_SECRET: "whsec_changed_000000" });
  const third = await runEnvImport(manager, changed);
  assert.equal(third.rows.find((r) => r.name === "webhook/secret")!.action, "conflict");
  assert.equal(await manager.getSecret("webhook/secret"), "whsec_0123456789abcdef");
  const dry = await runEnvImport(manager, changed, { dryRun: true, overwrite: true });
  assert.equal(dry.rows.find((r) => r.name === "webhook/secret")!.action, "would-update");
  assert.equal(await manager.getSecret("webhook/secret"), "whsec_0123456789abcdef");
  const forced = await runEnvImport(manager, changed, { overwrite: true });
  assert.equal(forced.rows.find((r) => r.name === "webhook/secret")!.action, "updated");
  assert.equal(await manager.getSecret("webhook/secret"), "whsec_changed_000000");
  assert.ok(!JSON.stringify([first, second, third, forced]).includes(CANARY));
});

Deno.test("runEnvImport() stops at an unreachable backend and reports what was written before", async () => {
  const inner = new MemorySecretManager();
  const manager = new FaultyManager(inner);
  const plan = planEnvImport(SEED);
  let calls = 0;
  const report = await runEnvImport(manager, plan, {
    onProgress: (done) => {
      calls = done;
      if (done === 1) manager.fault = "down";
    },
  });
  assert.deepEqual(report.rows.map((r) => [r.name, r.action]), [
    ["alpaca/api_key", "created"],
    ["database/app", "failed"],
  ]);
  assert.equal(report.aborted?.code, "access");
  assert.equal(calls, 2);
  assert.deepEqual(await inner.listSecrets(), ["alpaca/api_key"]);
});

Deno.test("malformedEnvLines() names the line of a malformed entry and accepts multi-line values", () => {
  const text = '\uFEFFA=1\n# comment\nexport B="two\nlines"\nthis is wrong\nC: 3\n\nD=\'open\n';
  assert.deepEqual(malformedEnvLines(text), [
    { line: 5, message: "not a KEY=VALUE line" },
    { message: "a quoted value is not closed before the end of the file" },
  ]);
});

Deno.test("envTemplate() keeps settings and replaces every secret by a placeholder naming its secret", () => {
  const text = envTemplate(SEED, planEnvImport(SEED));
  for (
    const value of Object.values(SEED).filter((v) => !["8080", "info", "created_at"].includes(v))
  ) {
    assert.ok(!text.includes(value), "no secret value in the template");
  }
  assert.match(
    text,
    /# ALPACA_API_KEY_ID -> alpaca\/api_key field key_id\nALPACA_API_KEY_ID=<secret>/,
  );
  assert.match(text, /# WEBHOOK_SECRET -> webhook\/secret\nWEBHOOK_SECRET=<secret>/);
  assert.match(text, /DATABASE_HOST=db\.internal/);
  assert.match(text, /PORT=8080/);
  assert.match(text, /VAULT_TOKEN=<secret>/);
  // the template's markers read back to the same plan
  const again = planEnvImport(SEED, { markers: templateMarkers(text) });
  assert.deepEqual(again.secrets.map((s) => s.name), [
    "alpaca/api_key",
    "database/app",
    "webhook/secret",
  ]);
});
