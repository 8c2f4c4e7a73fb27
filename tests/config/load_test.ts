import assert from "node:assert/strict";
import { z } from "zod";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { MemorySecretManager, Secret } from "../../mod.ts";
import { ConfigProblemsError, loadConfig, postgresUrl } from "../../config.ts";
import { FaultyManager } from "../../testing.ts";

const CANARY = "canary-load-config-7f3a9c2e";

async function problemsOf(run: () => Promise<unknown>): Promise<ConfigProblemsError> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ConfigProblemsError) return err;
    throw err;
  }
  throw new Error("loadConfig did not fail");
}

Deno.test("loadConfig() returns typed settings, secrets as Secret and the versions read", async () => {
  const manager = new MemorySecretManager();
  await manager.setSecret("database/app", { username: "app_a", password: CANARY });
  await manager.setSecret("webhook/signing", "whsec-0123456789");
  await manager.setSecret("webhook/signing", "whsec-9876543210");
  const config = await loadConfig({
    settings: z.object({
      HOST: z.string().default("127.0.0.1"),
      PORT: z.coerce.number().int(),
      DRY_RUN: z.enum(["true", "false"]).transform((v) => v === "true"),
    }),
    secrets: {
      db: { name: "database/app", fields: ["username", "password"] as const },
      hook: "webhook/signing",
    },
    manager,
    env: { PORT: "8787", DRY_RUN: "true", UNRELATED: "x" },
  });
  assert.deepEqual(config.settings, { HOST: "127.0.0.1", PORT: 8787, DRY_RUN: true });
  assert.ok(config.secrets.db.password instanceof Secret);
  assert.equal(config.secrets.db.password.reveal(), CANARY);
  assert.equal(config.secrets.hook.reveal(), "whsec-9876543210");
  assert.deepEqual(config.versions, { "database/app": "1", "webhook/signing": "2" });
  assert.ok(!JSON.stringify(config).includes(CANARY));
});

Deno.test("loadConfig() reports every problem at once, settings by variable and secrets by name", async () => {
  const manager = new MemorySecretManager();
  await manager.setSecret("database/app", { username: "app_a" });
  await manager.setSecret("webhook/plain", CANARY);
  const err = await problemsOf(() =>
    loadConfig({
      settings: z.object({ PORT: z.coerce.number().int(), LOG_LEVEL: z.enum(["info", "debug"]) }),
      secrets: {
        db: { name: "database/app", fields: ["username", "password"] as const },
        broker: { name: "alpaca/api_key", fields: ["key_id", "secret_key"] as const },
        hook: { name: "webhook/plain", fields: ["value2"] as const },
        missing: "missing/one",
      },
      manager,
      env: { PORT: "eighty", LOG_LEVEL: CANARY },
    })
  );
  assert.deepEqual(
    err.problems.map((p) => [p.kind, p.key]),
    [
      ["setting", "LOG_LEVEL"],
      ["setting", "PORT"],
      ["secret", "alpaca/api_key"],
      ["secret", "database/app"],
      ["secret", "missing/one"],
      ["secret", "webhook/plain"],
    ],
  );
  assert.match(err.message, /database\/app: lacks field\(s\) password/);
  assert.match(err.message, /missing\/one: not found/);
  assert.equal(err.code, "config");
  assert.ok(!err.message.includes(CANARY), "no value in the message");
  assert.ok(!JSON.stringify(err.problems).includes(CANARY));
});

Deno.test("loadConfig() refuses secret-looking settings unless declared bootstrap or allowed", async () => {
  const settings = z.object({
    PORT: z.string(),
    DB_PASSWORD: z.string().optional(),
    DATABASE_URL: z.string().optional(),
    SIGNING_KEY: z.string().optional(),
    SORT_KEY: z.string().optional(),
    VAULT_TOKEN: z.string().optional(),
  });
  const env = {
    PORT: "1",
    DB_PASSWORD: CANARY,
    DATABASE_URL: `postgres://app:${CANARY}@db/app`,
    SIGNING_KEY: "q8Zr2vLm0pWx7TnB4kYdQ9aa",
    SORT_KEY: "created_at",
    VAULT_TOKEN: "hvs.bootstrap",
  };
  const err = await problemsOf(() => loadConfig({ settings, env }));
  assert.deepEqual(err.problems.map((p) => p.key), [
    "DATABASE_URL",
    "DB_PASSWORD",
    "SIGNING_KEY",
    "VAULT_TOKEN",
  ]);
  assert.ok(!err.message.includes(CANARY));

  const ok = await loadConfig({
    settings,
    env: { PORT: "1", SORT_KEY: "created_at", VAULT_TOKEN: "hvs.bootstrap" },
    bootstrap: ["VAULT_TOKEN"],
  });
  assert.equal(ok.settings.SORT_KEY, "created_at");
  const onEnv = await loadConfig({ settings, env, allowSecretSettings: true });
  assert.equal(onEnv.settings.DB_PASSWORD, CANARY);
});

Deno.test("loadConfig() reports an unreachable backend as an access problem per secret", async () => {
  const manager = new FaultyManager(new MemorySecretManager({ initial: { "a/b": CANARY } }));
  manager.fault = "down";
  const err = await problemsOf(() =>
    loadConfig({ settings: z.object({}), secrets: { a: "a/b" }, manager, env: {} })
  );
  assert.equal(err.problems.length, 1);
  assert.equal(err.problems[0].code, "access");
  assert.ok(!err.message.includes(CANARY));
});

Deno.test("loadConfig() needs a manager when secrets are declared", async () => {
  await assert.rejects(
    () => loadConfig({ settings: z.object({}), secrets: { a: "a/b" }, env: {} }),
    /no `manager`/,
  );
});

Deno.test("postgresUrl() percent-encodes every awkward password and never prints it", () => {
  for (const password of ["Sup3r/Secr3t#pw", "a@b", "100%", "what?", "with space", CANARY]) {
    const url = postgresUrl(
      { host: "127.0.0.1", port: 5432, database: "keyward_test", params: { sslmode: "disable" } },
      { username: new Secret("app_b"), password: new Secret(password) },
    );
    assert.equal(String(url), "[REDACTED]");
    assert.equal(JSON.stringify({ url }), '{"url":"[REDACTED]"}');
    const parsed = new URL(url.reveal());
    assert.equal(decodeURIComponent(parsed.password), password);
    assert.equal(decodeURIComponent(parsed.username), "app_b");
    assert.equal(parsed.port, "5432");
    assert.equal(parsed.searchParams.get("sslmode"), "disable");
  }
  assert.throws(
    () => postgresUrl({ host: "db", database: "x" }, { username: "u", password: "" }),
    (err: Error) => /password is empty/.test(err.message),
  );
  assert.throws(
    () =>
      postgresUrl({ host: "db", port: 70000, database: "x" }, { username: "u", password: CANARY }),
    (err: Error) => /port/.test(err.message) && !err.message.includes(CANARY),
  );
});

Deno.test("a validator typed by @standard-schema/spec fits loadConfig's SettingsSchema", async () => {
  const spec: StandardSchemaV1<unknown, { PORT: string }> = {
    "~standard": {
      version: 1,
      vendor: "test",
      validate: (v) => {
        const port = (v as Record<string, string | undefined>).PORT;
        return port
          ? { value: { PORT: port } }
          : { issues: [{ message: "required", path: ["PORT"] }] };
      },
    },
  };
  const config = await loadConfig({ settings: spec, env: { PORT: "1" } });
  const port: string = config.settings.PORT;
  assert.equal(port, "1");
  const err = await problemsOf(() => loadConfig({ settings: spec, env: {} }));
  assert.deepEqual(err.problems, [{ kind: "setting", key: "PORT", message: "required" }]);
});
