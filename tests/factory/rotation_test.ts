import assert from "node:assert/strict";
import { createSecretManager } from "../../factory.ts";
import { ConfigError } from "../../mod.ts";
import { FakeVaultServer } from "../fakes/vault_server.ts";
import { openTestDatabase } from "../_postgres.ts";

const db = await openTestDatabase("factory_rotation");

Deno.test("factory: SECRET_ROTATION_EVENTS is checked, naming the setting", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ SECRET_BACKEND: "memory", SECRET_ROTATION_EVENTS: "kafka" }, /one of: off, postgres/],
    [{ SECRET_BACKEND: "memory", SECRET_ROTATION_EVENTS: "postgres" }, /needs the cache/],
    [
      {
        SECRET_BACKEND: "vault",
        VAULT_ADDR: "http://127.0.0.1:1",
        VAULT_TOKEN: "test-token-1",
        SECRET_ROTATION_EVENTS: "postgres",
        SECRET_CACHE_TTL_MS: "0",
      },
      /needs the cache/,
    ],
    [
      {
        SECRET_BACKEND: "vault",
        VAULT_ADDR: "http://127.0.0.1:1",
        VAULT_TOKEN: "test-token-1",
        SECRET_ROTATION_EVENTS: "postgres",
      },
      /SECRET_ROTATION_DATABASE_SECRET .* or DATABASE_URL/,
    ],
  ];
  for (const [env, message] of cases) {
    await assert.rejects(createSecretManager({ env }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, message);
      return true;
    });
  }
});

Deno.test({
  name: "factory: a promotion made through one instance reaches a running instance over Postgres",
  ignore: db === null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const server = await FakeVaultServer.start();
    const canary = `canary-${crypto.randomUUID()}`;
    // The factory listens on the fixed keyward_rotation channel, shared by every run against this
    // database: a name of this run's own keeps other runs' events apart.
    const name = `broker/key-${crypto.randomUUID().slice(0, 8)}`;
    try {
      const env = {
        SECRET_BACKEND: "vault",
        VAULT_ADDR: server.url,
        VAULT_TOKEN: server.rootToken,
        SECRET_ROTATION_EVENTS: "postgres",
        DATABASE_URL: db!.url,
      };
      const service = await createSecretManager({ env });
      const operator = await createSecretManager({ env });
      await operator.setSecret(name, "first-value-0001");
      assert.equal(await service.getSecret(name), "first-value-0001"); // now cached for an hour
      const pending = await operator.setSecret(name, canary, { stage: "pending" });
      await operator.promote(name, pending.version);
      const deadline = Date.now() + 5_000;
      let seen = await service.getSecret(name);
      while (seen !== canary && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        seen = await service.getSecret(name);
      }
      assert.equal(seen, canary, "the running instance serves the promoted value");
      await operator.close();
      await service.close();
    } finally {
      await server.close();
      await db!.close();
    }
  },
});
