import assert from "node:assert/strict";
import { contractSuite, MemorySecretManager } from "../../testing.ts";

for (const c of contractSuite({ create: () => new MemorySecretManager() })) {
  Deno.test(`memory: ${c.name}`, c.fn);
}

Deno.test("memory: initial secrets are readable as version 1", async () => {
  const m = new MemorySecretManager({
    initial: { "a/b": "initial-value-1", "a/c": { k: "v-123456" } },
  });
  assert.equal(await m.getSecret("a/b"), "initial-value-1");
  assert.equal(await m.getSecret("a/c", { field: "k" }), "v-123456");
  assert.equal((await m.describeSecret("a/b")).versions[0].version, "1");
});

Deno.test("memory: old versions without a stage are dropped past maxVersions", async () => {
  const m = new MemorySecretManager({ maxVersions: 3 });
  for (let i = 0; i < 6; i++) await m.setSecret("a/b", `value-${i}-abcdef`);
  const meta = await m.describeSecret("a/b");
  assert.deepEqual(meta.versions.map((v) => v.version), ["4", "5", "6"]);
  assert.throws(() => new MemorySecretManager({ maxVersions: 0 }), /maxVersions/);
});

Deno.test("memory: an aborted signal rejects the call", async () => {
  const m = new MemorySecretManager({ initial: { "a/b": "initial-value-1" } });
  const ctl = new AbortController();
  ctl.abort(new Error("stop"));
  await assert.rejects(m.getSecret("a/b", { signal: ctl.signal }), /stop/);
});

Deno.test("memory: the clock stamps versions", async () => {
  let now = 1_000_000;
  const m = new MemorySecretManager({ now: () => now });
  await m.setSecret("a/b", "value-1-abcdef");
  now += 5000;
  const v2 = await m.setSecret("a/b", "value-2-abcdef");
  assert.equal(v2.createdAt.getTime(), 1_005_000);
  const meta = await m.describeSecret("a/b");
  assert.equal(meta.createdAt?.getTime(), 1_000_000);
  assert.equal(meta.updatedAt?.getTime(), 1_005_000);
});

Deno.test("memory: inherited property names are not versions", async () => {
  const m = new MemorySecretManager({ initial: { "a/b": "initial-value-1" } });
  for (const v of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
    await assert.rejects(m.getSecret("a/b", { version: v }), { name: "SecretNotFoundError" });
    await assert.rejects(m.promote("a/b", v), { name: "SecretNotFoundError" });
  }
  assert.equal(await m.getSecret("a/b"), "initial-value-1");
});
