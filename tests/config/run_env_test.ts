import assert from "node:assert/strict";
import { MemorySecretManager } from "../../mod.ts";
import { buildRunEnv, fillTemplate } from "../../config.ts";

Deno.test("buildRunEnv() maps the prefix's secrets to variables and fills templates percent-encoded", async () => {
  const manager = new MemorySecretManager();
  await manager.setSecret("test/webhook/secret", "whsec-0123456789");
  await manager.setSecret("test/database/app", { username: "app b", password: "p/w#1@%?" });
  await manager.setSecret("prod/webhook/secret", "never-handed-over-0001");
  const run = await buildRunEnv(manager, {
    prefix: "test/",
    map: {
      env: {
        DATABASE_URL: {
          secret: "test/database/app",
          template: "postgres://{username}:{password}@127.0.0.1:5432/keyward_test",
        },
      },
    },
  });
  assert.equal(run.env.WEBHOOK_SECRET, "whsec-0123456789");
  assert.deepEqual(JSON.parse(run.env.DATABASE_APP), { password: "p/w#1@%?", username: "app b" });
  const url = new URL(run.env.DATABASE_URL);
  assert.equal(decodeURIComponent(url.password), "p/w#1@%?");
  assert.equal(decodeURIComponent(url.username), "app b");
  assert.ok(!Object.values(run.env).includes("never-handed-over-0001"));
  assert.ok(run.values.includes("p/w#1@%?") && run.values.includes(run.env.DATABASE_URL));
  assert.deepEqual(run.versions, { "test/database/app": "1", "test/webhook/secret": "1" });
});

Deno.test("fillTemplate() names a missing field and never the values", () => {
  assert.throws(
    () => fillTemplate("{user}:{password}", { password: "canary-fill-0001" }, "database/app"),
    (err: Error) => /field user/.test(err.message) && !err.message.includes("canary-fill-0001"),
  );
});
