import assert from "node:assert/strict";
import { FileSecretManager, type FsPort, generateFileKey } from "../../backends/file.ts";
import { nodeFsPort } from "../../backends/_fs_port.ts";
import {
  InvalidSecretNameError,
  ManagerClosedError,
  SecretConflictError,
  SecretNotFoundError,
} from "../../mod.ts";

// Issue 13's interface on the file backend: readSecret (value, version,
// stage), deprecateVersion (metadata) and destroyVersion (the value leaves
// the file); both lifecycle calls refuse the current version.

async function withStore(
  body: (secrets: FileSecretManager, path: string, key: string) => Promise<void>,
  now: () => number = Date.now,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-file-lifecycle-test-" });
  const key = generateFileKey();
  const secrets = new FileSecretManager({ path: `${dir}/store.json`, key, now });
  try {
    await body(secrets, `${dir}/store.json`, key);
  } finally {
    await secrets.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** current = v2 (second), previous = v1 (first). */
async function rotated(secrets: FileSecretManager): Promise<void> {
  await secrets.setSecret("db/login", { user: "app", password: "first-password-1" });
  const next = await secrets.setSecret(
    "db/login",
    { user: "app", password: "second-password-2" },
    { stage: "pending" },
  );
  await secrets.promote("db/login", next.version);
}

Deno.test("file: readSecret() returns the value with its version id and stage", async () => {
  await withStore(async (secrets) => {
    await secrets.setSecret("api/token", "tok-first-0001");
    const pending = await secrets.setSecret("api/token", "tok-second-0002", { stage: "pending" });
    assert.deepEqual(await secrets.readSecret("api/token"), {
      value: "tok-first-0001",
      version: "1",
      stage: "current",
    });
    assert.deepEqual(await secrets.readSecret("api/token", { stage: "pending" }), {
      value: "tok-second-0002",
      version: pending.version,
      stage: "pending",
    });
    await secrets.promote("api/token", pending.version);
    // The engine learns the promoted id by reading current.
    assert.deepEqual(await secrets.readSecret("api/token"), {
      value: "tok-second-0002",
      version: "2",
      stage: "current",
    });
    assert.deepEqual(await secrets.readSecret("api/token", { version: "1" }), {
      value: "tok-first-0001",
      version: "1",
      stage: "previous",
    });
    await rotated(secrets);
    const field = await secrets.readSecret("db/login", { field: "password", stage: "previous" });
    assert.deepEqual(field, { value: "first-password-1", version: "1", stage: "previous" });
    await assert.rejects(secrets.readSecret("api/token", { version: "9" }), SecretNotFoundError);
  });
});

Deno.test("file: deprecateVersion() records deprecatedAt, shown by describeSecret and kept in the file", async () => {
  let clock = Date.UTC(2026, 11, 1);
  await withStore(async (secrets, path, key) => {
    await rotated(secrets);
    clock = Date.UTC(2026, 11, 8);
    await secrets.deprecateVersion("db/login", "1");
    clock = Date.UTC(2026, 11, 9);
    await secrets.deprecateVersion("db/login", "1"); // again: the first date is kept
    const reopened = new FileSecretManager({ path, key });
    const meta = await reopened.describeSecret("db/login");
    const v1 = meta.versions.find((v) => v.version === "1")!;
    const v2 = meta.versions.find((v) => v.version === "2")!;
    assert.equal(v1.deprecatedAt?.getTime(), Date.UTC(2026, 11, 8));
    assert.equal(v2.deprecatedAt, undefined);
    assert.deepEqual(v1.stages, ["previous"]);
    assert.equal(
      await reopened.getSecret("db/login", { version: "1", field: "password" }),
      "first-password-1",
      "a deprecated value stays readable by version until destroyed",
    );
    await reopened.close();
  }, () => clock);
});

Deno.test("file: destroyVersion() removes that version's value from the file", async () => {
  await withStore(async (secrets, path, key) => {
    await rotated(secrets);
    const before = JSON.parse(await Deno.readTextFile(path));
    const sealedV1 = before.secrets["db/login"].versions["1"].data.ct as string;
    await secrets.destroyVersion("db/login", "1");
    const text = await Deno.readTextFile(path);
    assert.ok(!text.includes(sealedV1), "the destroyed version's ciphertext left the file");
    const after = JSON.parse(text);
    assert.deepEqual(Object.keys(after.secrets["db/login"].versions), ["2"]);
    assert.deepEqual(after.secrets["db/login"].stages, { current: "2" });
    const reopened = new FileSecretManager({ path, key });
    await assert.rejects(reopened.getSecret("db/login", { version: "1" }), SecretNotFoundError);
    await assert.rejects(
      reopened.getSecret("db/login", { stage: "previous" }),
      SecretNotFoundError,
    );
    assert.equal(await reopened.getSecret("db/login", { field: "password" }), "second-password-2");
    assert.deepEqual((await reopened.describeSecret("db/login")).versions.map((v) => v.version), [
      "2",
    ]);
    // A new version after a destroy gets a fresh id, never the destroyed one.
    assert.equal(
      (await reopened.setSecret("db/login", { user: "app", password: "third-3" })).version,
      "3",
    );
    await assert.rejects(reopened.destroyVersion("db/login", "1"), SecretNotFoundError);
    await reopened.close();
  });
});

Deno.test("file: deprecating or destroying the current version is refused and the file is untouched", async () => {
  await withStore(async (secrets, path) => {
    await rotated(secrets);
    const before = await Deno.readFile(path);
    for (const call of [secrets.deprecateVersion, secrets.destroyVersion]) {
      await assert.rejects(call.call(secrets, "db/login", "2"), (err) => {
        assert.ok(err instanceof SecretConflictError, String(err));
        assert.match(err.message, /current version/);
        assert.ok(!err.message.includes("second-password-2"));
        return true;
      });
      await assert.rejects(call.call(secrets, "db/login", "7"), SecretNotFoundError);
      await assert.rejects(call.call(secrets, "db/missing", "1"), SecretNotFoundError);
    }
    assert.deepEqual(await Deno.readFile(path), before);
  });
});

Deno.test("file: the lifecycle calls refuse a bad name, a bad version or a closed manager before any I/O", async () => {
  let calls = 0;
  const port = Object.fromEntries(
    Object.entries(nodeFsPort).map(([op, fn]) => [op, (...args: unknown[]) => {
      calls += 1;
      return (fn as (...a: unknown[]) => unknown)(...args);
    }]),
  ) as unknown as FsPort;
  const secrets = new FileSecretManager({
    path: "/nonexistent/keyward/store.json",
    key: generateFileKey(),
    fsPort: port,
  });
  await assert.rejects(secrets.deprecateVersion("../etc", "1"), InvalidSecretNameError);
  await assert.rejects(secrets.destroyVersion("../etc", "1"), InvalidSecretNameError);
  await assert.rejects(secrets.readSecret("../etc"), InvalidSecretNameError);
  await assert.rejects(secrets.destroyVersion("db/login", ""));
  await secrets.close();
  await assert.rejects(secrets.deprecateVersion("db/login", "1"), ManagerClosedError);
  await assert.rejects(secrets.readSecret("db/login"), ManagerClosedError);
  assert.equal(calls, 0);
});
