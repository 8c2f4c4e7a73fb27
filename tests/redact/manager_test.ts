import assert from "node:assert/strict";
import { MemorySecretManager } from "../../backends/memory.ts";
import { KeywardError } from "../../core/errors.ts";
import { Redactor } from "../../redact/redactor.ts";
import { withRedaction } from "../../redact/manager.ts";

Deno.test("withRedaction() registers the current, pending and previous values it reads", async () => {
  const redactor = new Redactor();
  const secrets = withRedaction(new MemorySecretManager(), redactor);
  const inner = new MemorySecretManager({ initial: { "api/token": "token-v1-aaaa" } });
  const reader = withRedaction(inner, redactor);
  await inner.setSecret("api/token", "token-v2-bbbb");
  const pending = await inner.setSecret("api/token", "token-v3-cccc", { stage: "pending" });
  assert.equal(
    redactor.redact("token-v1-aaaa token-v2-bbbb token-v3-cccc").includes("REDACTED"),
    false,
  );
  await reader.getSecret("api/token");
  await reader.getSecret("api/token", { stage: "pending" });
  await reader.getSecret("api/token", { stage: "previous" });
  assert.equal(
    redactor.redact("token-v1-aaaa token-v2-bbbb token-v3-cccc"),
    "[REDACTED:api/token] [REDACTED:api/token] [REDACTED:api/token]",
  );
  assert.ok(pending.version);
  await secrets.close();
});

Deno.test("withRedaction() registers each field and the JSON text of a multi-field secret", async () => {
  const redactor = new Redactor();
  const inner = new MemorySecretManager({
    initial: { "broker/keys": { key_id: "key-id-0001", secret: "broker-secret-0001" } },
  });
  const reader = withRedaction(inner, redactor);
  const json = await reader.getSecret("broker/keys");
  assert.equal(redactor.redact(json), "[REDACTED:broker/keys]");
  assert.equal(
    redactor.redact("id key-id-0001 secret broker-secret-0001"),
    "id [REDACTED:broker/keys] secret [REDACTED:broker/keys]",
  );
});

Deno.test("withRedaction() registers a field read with { field } only", async () => {
  const redactor = new Redactor();
  const inner = new MemorySecretManager({
    initial: { "db/login": { user: "app-user-01", password: "db-password-01" } },
  });
  const reader = withRedaction(inner, redactor);
  await reader.getSecret("db/login", { field: "password" });
  assert.equal(redactor.redact("db-password-01 app-user-01"), "[REDACTED:db/login] app-user-01");
});

Deno.test("withRedaction() registers written values, fields and JSON text, before the write", async () => {
  const redactor = new Redactor();
  const reader = withRedaction(new MemorySecretManager(), redactor);
  await reader.setSecret("api/plain", "plain-value-01");
  await reader.setSecret("db/login", { user: "app-user-02", password: "db-password-02" });
  assert.equal(redactor.redact("plain-value-01"), "[REDACTED:api/plain]");
  assert.equal(
    redactor.redact("app-user-02/db-password-02"),
    "[REDACTED:db/login]/[REDACTED:db/login]",
  );
  assert.equal(
    redactor.redact(JSON.stringify({ password: "db-password-02", user: "app-user-02" })),
    "[REDACTED:db/login]",
  );
  // A pending write to a missing secret fails, yet its value is already masked.
  await assert.rejects(
    reader.setSecret("missing/name", "refused-value-03", { stage: "pending" }),
    (e) => e instanceof KeywardError && e.code === "not_found",
  );
  assert.equal(redactor.redact("refused-value-03"), "[REDACTED:missing/name]");
});

Deno.test("deleteSecret() through the wrapper forgets the secret's values", async () => {
  const redactor = new Redactor();
  const reader = withRedaction(new MemorySecretManager(), redactor);
  await reader.setSecret("tmp/one", "deleted-value-1");
  await reader.setSecret("tmp/two", "kept-value-0002");
  await reader.deleteSecret("tmp/one");
  assert.equal(
    redactor.redact("deleted-value-1 kept-value-0002"),
    "deleted-value-1 [REDACTED:tmp/two]",
  );
  assert.equal(redactor.has("tmp/one"), false);
});

Deno.test("a failed deleteSecret() keeps the values", async () => {
  const redactor = new Redactor();
  const reader = withRedaction(new MemorySecretManager(), redactor);
  await reader.setSecret("tmp/one", "kept-value-0003");
  await assert.rejects(reader.deleteSecret("tmp/one", { recoveryDays: 7 }));
  assert.equal(redactor.redact("kept-value-0003"), "[REDACTED:tmp/one]");
});

Deno.test("listing, describing and promoting pass through unchanged", async () => {
  const redactor = new Redactor();
  const reader = withRedaction(new MemorySecretManager(), redactor);
  await reader.setSecret("a/b", "value-a-b-0001");
  const v2 = await reader.setSecret("a/b", "value-a-b-0002", { stage: "pending" });
  assert.deepEqual(await reader.listSecrets("a/"), ["a/b"]);
  assert.equal((await reader.promote("a/b", v2.version)).version, v2.version);
  assert.deepEqual((await reader.describeSecret("a/b")).versions.map((v) => v.stages), [
    ["previous"],
    ["current"],
  ]);
  await reader.close();
  await assert.rejects(
    reader.getSecret("a/b"),
    (e) => e instanceof KeywardError && e.code === "closed",
  );
});
