/**
 * The engine over a manager that cannot read, deprecate or destroy single
 * versions (a backend or wrapper that answers `UnsupportedOperationError`):
 * rotations still work through `describeSecret` and `getSecret`, and the log
 * says what the backend could not do. Plus the rotation settings' errors an
 * operator meets.
 */

import assert from "node:assert/strict";
import { MemorySecretManager } from "../../backends/memory.ts";
import { ConfigError, SecretNotFoundError, UnsupportedOperationError } from "../../core/errors.ts";
import type { SecretManager, SecretRead } from "../../core/types.ts";
import {
  deprecateVersion,
  destroyVersion,
  parseValue,
  readVersioned,
} from "../../rotation/_versions.ts";
import { rotationSettings } from "../../rotation/_settings.ts";
import { oneRule, testEngine } from "./_helpers.ts";

const NAME = "webhooks/legacy";
const CANARY = "canary-legacy-9d2e61b0c4a7";

/**
 * A manager (a wrapper over a memory manager, as a third-party wrapper would
 * be) whose version lifecycle calls are unsupported: only the interface's
 * plain reads, writes and `describeSecret` work.
 */
function withoutLifecycle(inner: MemorySecretManager): SecretManager {
  const unsupported = (operation: string) => (name: string) =>
    Promise.reject(new UnsupportedOperationError(operation, { backend: "legacy", secret: name }));
  const overrides: Record<string, unknown> = {
    readSecret: unsupported("readSecret"),
    deprecateVersion: unsupported("deprecateVersion"),
    destroyVersion: unsupported("destroyVersion"),
  };
  return new Proxy(inner, {
    get(target, prop) {
      if (typeof prop === "string" && prop in overrides) return overrides[prop];
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  }) as SecretManager;
}

Deno.test("a manager without version lifecycle: the rotation completes and the log says what it could not do", async () => {
  const inner = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const manager = withoutLifecycle(inner);
  const { engine, log } = testEngine(manager, {
    policy: oneRule({ prefix: "webhooks/", rotator: "random", options: { length: 32 } }),
  });
  const result = await engine.rotate(NAME, { graceMs: 0, deleteAfterMs: 0 });
  assert.equal(result.outcome, "completed");
  const current = await manager.getSecret(NAME);
  assert.equal(current.length, 32);
  const rows = await log.entries();
  const done = (step: string) =>
    rows.find((r) => r.step === step && r.status === "succeeded")?.notes ?? "";
  assert.match(done("deprecate_previous"), /cannot mark versions deprecated/);
  assert.match(done("schedule_deletion"), /cannot destroy one version; nothing was destroyed/);
  assert.equal(
    await inner.getSecret(NAME, { stage: "previous" }),
    CANARY,
    "nothing was destroyed",
  );
  const text = JSON.stringify(rows);
  assert.ok(!text.includes(CANARY) && !text.includes(current), "no value in the log");
});

Deno.test("readVersioned without readSecret: a stage or a version by id, a missing stage is not found", async () => {
  const manager = withoutLifecycle(
    new MemorySecretManager({ initial: { [NAME]: "first-value-000" } }),
  );
  await manager.setSecret(NAME, "second-value-000");
  const cur = await readVersioned(manager, NAME, { stage: "current" });
  assert.equal(cur.value, "second-value-000");
  assert.equal(cur.stage, "current");
  const prev = await readVersioned(manager, NAME, { stage: "previous" });
  assert.equal(prev.value, "first-value-000");
  assert.notEqual(prev.version, cur.version);
  const byId = await readVersioned(manager, NAME, { version: prev.version });
  assert.deepEqual(byId, { value: "first-value-000", version: prev.version });
  await assert.rejects(
    () => readVersioned(manager, NAME, { stage: "pending" }),
    (err) => err instanceof SecretNotFoundError && /pending/.test(err.message),
  );
});

Deno.test("a backend failure in the lifecycle calls is not mistaken for 'unsupported'", async () => {
  const down = new Error("backend unavailable");
  class Failing extends MemorySecretManager {
    override readSecret(): Promise<SecretRead> {
      return Promise.reject(down);
    }
    override deprecateVersion(): Promise<void> {
      return Promise.reject(down);
    }
    override destroyVersion(name: string, version: string): Promise<void> {
      return version === "gone"
        ? Promise.reject(new SecretNotFoundError({ secret: name, version }))
        : Promise.reject(down);
    }
  }
  const manager = new Failing({ initial: { [NAME]: CANARY } });
  await assert.rejects(() => readVersioned(manager, NAME, { stage: "current" }), (e) => e === down);
  await assert.rejects(() => deprecateVersion(manager, NAME, "1"), (e) => e === down);
  await assert.rejects(() => destroyVersion(manager, NAME, "1"), (e) => e === down);
  assert.equal(await destroyVersion(manager, NAME, "gone"), true, "an unknown version is done");
  const plain = withoutLifecycle(new MemorySecretManager({ initial: { [NAME]: CANARY } }));
  assert.equal(await deprecateVersion(plain, NAME, "1"), false);
  assert.equal(await destroyVersion(plain, NAME, "1"), false);
});

Deno.test("parseValue: only a JSON record of strings becomes fields", () => {
  assert.deepEqual(parseValue('{"username":"app_a","password":"x"}'), {
    username: "app_a",
    password: "x",
  });
  assert.equal(parseValue('{"port":5432}'), '{"port":5432}', "a non-string field stays text");
  assert.equal(parseValue("{not json"), "{not json");
  assert.equal(parseValue('["a"]'), '["a"]');
  assert.equal(parseValue("plain"), "plain");
});

Deno.test("rotation settings: defaults, the postgres log's connection, a bad value names the setting", () => {
  const d = rotationSettings({});
  assert.equal(d.log, "file");
  assert.equal(d.policyExplicit, false);
  assert.equal(d.logDatabaseSecret, undefined);
  const pg = rotationSettings({
    SECRET_ROTATION_LOG: "postgres",
    SECRET_ROTATION_LOG_DATABASE_SECRET: "database/rotation_log",
    KEYWARD_ROTATION_POLICY: "/etc/keyward/policy.json",
  });
  assert.equal(pg.log, "postgres");
  assert.equal(pg.logDatabaseSecret, "database/rotation_log");
  assert.equal(pg.policyPath, "/etc/keyward/policy.json");
  assert.equal(pg.policyExplicit, true);
  assert.equal(
    rotationSettings({ SECRET_ROTATION_LOG: "postgres", DATABASE_URL: "postgres://h/db" })
      .databaseUrl,
    "postgres://h/db",
  );
  assert.throws(
    () => rotationSettings({ SECRET_ROTATION_LOG: "postgres" }),
    (err) =>
      err instanceof ConfigError &&
      /SECRET_ROTATION_LOG=postgres needs SECRET_ROTATION_LOG_DATABASE_SECRET/.test(err.message),
  );
  assert.throws(
    () => rotationSettings({ SECRET_ROTATION_LOG: "mysql" }),
    (err) => err instanceof ConfigError && /SECRET_ROTATION_LOG/.test(err.message),
  );
  assert.equal(
    rotationSettings({ KEYWARD_ROTATION_TEST_CRASH_AFTER: "promote" }).crashAfter,
    "promote",
  );
});
