import assert from "node:assert/strict";
import { InvalidSecretNameError, MemorySecretManager, withNamespace } from "../../mod.ts";

Deno.test("withNamespace() refuses an invalid namespace", () => {
  assert.throws(() => withNamespace(new MemorySecretManager(), "a//b"), InvalidSecretNameError);
  assert.throws(() => withNamespace(new MemorySecretManager(), ".keyward"), /reserved/);
});

Deno.test("withNamespace() counts the namespace in the 512-character limit", async () => {
  const ns = withNamespace(new MemorySecretManager(), "prod");
  await assert.rejects(ns.setSecret("x".repeat(510), "value-123456"), /namespace/);
  await ns.setSecret("x".repeat(507), "value-123456");
});

Deno.test("withNamespace() never lists names outside the namespace", async () => {
  const m = new MemorySecretManager({
    initial: { "prod/a": "v-1234567", "production/b": "v-1234567", "c": "v-1234567" },
  });
  const prod = withNamespace(m, "prod");
  assert.deepEqual(await prod.listSecrets(), ["a"]);
  const meta = await prod.describeSecret("a");
  assert.equal(meta.versions[0].name, "a");
});
