import assert from "node:assert/strict";
import {
  ConfigError,
  KeywardError,
  SecretAccessError,
  SecretNotFoundError,
  SecretWriteError,
  UnsupportedOperationError,
} from "../../mod.ts";
import { contractSuite } from "../../testing.ts";
import {
  decodeFileKey,
  FileSecretManager,
  type FsPort,
  generateFileKey,
  readKeyFile,
  writeKeyFile,
} from "../../backends/file.ts";
import { nodeFsPort } from "../../backends/_fs_port.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;

/** The node:fs port with every operation counted. */
function countingPort(): { port: FsPort; count: () => number } {
  let calls = 0;
  const port = {} as Record<string, unknown>;
  for (const [op, fn] of Object.entries(nodeFsPort)) {
    port[op] = (...args: unknown[]) => {
      calls += 1;
      return (fn as (...a: unknown[]) => unknown)(...args);
    };
  }
  return { port: port as unknown as FsPort, count: () => calls };
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-file-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function isAccess(reason: string, path?: string) {
  return (err: unknown): true => {
    assert.ok(err instanceof SecretAccessError, `expected SecretAccessError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    assert.equal(err.backend, "file");
    if (path) assert.ok(err.message.includes(path), `names the store: ${err.message}`);
    return true;
  };
}

// ---- the contract suite ----

const io = countingPort();
const dirs = new WeakMap<object, string>();
for (
  const c of contractSuite({
    create: async () => {
      const dir = await Deno.makeTempDir({ prefix: "keyward-file-contract-" });
      const m = new FileSecretManager({
        path: `${dir}/store.json`,
        key: generateFileKey(),
        fsPort: io.port,
      });
      dirs.set(m, dir);
      return m;
    },
    ioCount: io.count,
    dispose: async (m) => {
      await m.close();
      await Deno.remove(dirs.get(m)!, { recursive: true });
    },
  })
) {
  Deno.test(`file: ${c.name}`, c.fn);
}

// ---- the raw file ----

Deno.test("file: the store never holds a value in clear, for plain, field and pending versions", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/store.json`;
    const canary = `CANARY-${crypto.randomUUID()}`;
    const m = new FileSecretManager({ path, key: generateFileKey() });
    await m.setSecret("canary/plain", `${canary}-plain`);
    await m.setSecret("canary/login", { user: `${canary}-user`, password: `${canary}-pw` });
    await m.setSecret("canary/plain", `${canary}-pending`, { stage: "pending" });
    await m.setSecret("canary/plain", `${canary}-newer`);
    const raw = await Deno.readTextFile(path);
    assert.ok(raw.includes("canary/plain") && raw.includes("canary/login"), "names are in clear");
    assert.ok(!raw.includes(canary), "no value in clear");
    assert.ok(!raw.includes(btoa(canary).slice(0, 20)), "no value merely base64-encoded");
    assert.ok(!raw.includes("password"), "field names are encrypted with the values");
    assert.equal(await m.getSecret("canary/plain", { stage: "pending" }), `${canary}-pending`);
    assert.equal(await m.getSecret("canary/login", { field: "user" }), `${canary}-user`);
    const doc = JSON.parse(raw);
    assert.equal(doc.format, "keyward-file-store");
    assert.equal(doc.version, 1);
    assert.ok(doc.keyCheck.iv && doc.keyCheck.ct);
    const nonces = Object.values(doc.secrets).flatMap((s) =>
      Object.values((s as { versions: Record<string, { data: { iv: string } }> }).versions)
        .map((v) => v.data.iv)
    );
    assert.equal(nonces.length, 4);
    assert.equal(new Set([...nonces, doc.keyCheck.iv]).size, 5, "a fresh nonce per write");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const leftovers = [];
    for await (const e of Deno.readDir(dir)) leftovers.push(e.name);
    assert.deepEqual(leftovers, ["store.json"], "no temp or lock file is left behind");
    await m.close();
  });
});

Deno.test("file: a missing store is empty, reads do not create it, the first write creates it and its directory", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/nested/deeper/store.json`;
    const m = new FileSecretManager({ path, key: generateFileKey() });
    assert.equal(m.path, path);
    assert.deepEqual(await m.listSecrets(), []);
    await assert.rejects(m.getSecret("a/b"), SecretNotFoundError);
    await assert.rejects(m.describeSecret("a/b"), SecretNotFoundError);
    await assert.rejects(m.deleteSecret("a/b"), SecretNotFoundError);
    await assert.rejects(Deno.stat(`${dir}/nested`), Deno.errors.NotFound);
    await m.setSecret("a/b", "first-value-000001");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/nested/deeper`)).mode! & 0o077, 0);
    assert.equal(await m.getSecret("a/b"), "first-value-000001");
    await m.close();
  });
});

Deno.test("file: another manager with the same key reads what was written, versions and stages included", async () => {
  await withDir(async (dir) => {
    const key = generateFileKey();
    const path = `${dir}/store.json`;
    let now = 1_700_000_000_000;
    const writer = new FileSecretManager({ path, key, now: () => now });
    const v1 = await writer.setSecret("db/login", { user: "app", password: "persist-pw-000001" });
    now += 60_000;
    const p = await writer.setSecret("db/login", { user: "app", password: "persist-pw-000002" }, {
      stage: "pending",
    });
    const reader = new FileSecretManager({ path, key: decodeFileKey(key) });
    assert.equal(await reader.getSecret("db/login", { field: "password" }), "persist-pw-000001");
    assert.equal(
      await reader.getSecret("db/login", { stage: "pending", field: "password" }),
      "persist-pw-000002",
    );
    const meta = await reader.describeSecret("db/login");
    assert.equal(meta.backend, "file");
    assert.deepEqual(meta.versions.map((v) => [v.version, v.stages, v.createdAt.getTime()]), [
      [v1.version, ["current"], 1_700_000_000_000],
      [p.version, ["pending"], 1_700_000_060_000],
    ]);
    await writer.close();
    await reader.close();
  });
});

Deno.test("file: deleteSecret() removes every version's ciphertext from the file at once", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/store.json`;
    const m = new FileSecretManager({ path, key: generateFileKey() });
    for (let i = 0; i < 3; i++) await m.setSecret("del/key", `delete-me-00000${i}`);
    await m.setSecret("del/key", "delete-me-pending", { stage: "pending" });
    await m.setSecret("keep/key", "keep-me-000001");
    const before = JSON.parse(await Deno.readTextFile(path));
    const ciphertexts = Object.values(
      before.secrets["del/key"].versions as Record<string, { data: { ct: string } }>,
    ).map((v) => v.data.ct);
    assert.equal(ciphertexts.length, 4);
    await m.deleteSecret("del/key");
    const raw = await Deno.readTextFile(path);
    assert.ok(!raw.includes("del/key"));
    for (const ct of ciphertexts) assert.ok(!raw.includes(ct), "old ciphertext is gone");
    assert.equal(await m.getSecret("keep/key"), "keep-me-000001");
    await assert.rejects(
      m.deleteSecret("keep/key", { recoveryDays: 7 }),
      UnsupportedOperationError,
    );
    assert.equal(await m.getSecret("keep/key"), "keep-me-000001");
    await m.close();
  });
});

Deno.test("file: versions past maxVersions are dropped with their ciphertext, labelled ones kept", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/store.json`;
    const m = new FileSecretManager({ path, key: generateFileKey(), maxVersions: 3 });
    for (let i = 1; i <= 6; i++) await m.setSecret("a/b", `pruned-value-00000${i}`);
    const meta = await m.describeSecret("a/b");
    assert.deepEqual(meta.versions.map((v) => v.version), ["4", "5", "6"]);
    await assert.rejects(m.getSecret("a/b", { version: "1" }), SecretNotFoundError);
    const doc = JSON.parse(await Deno.readTextFile(path));
    assert.deepEqual(Object.keys(doc.secrets["a/b"].versions), ["4", "5", "6"]);
    await m.close();
  });
});

Deno.test("file: names like __proto__ and constructor are ordinary names, and unknown versions are not found", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/store.json`;
    const m = new FileSecretManager({ path, key: generateFileKey() });
    await m.setSecret("__proto__", "proto-value-000001");
    await m.setSecret("constructor/x", "ctor-value-000001");
    assert.equal(await m.getSecret("__proto__"), "proto-value-000001");
    assert.deepEqual(await m.listSecrets(), ["__proto__", "constructor/x"]);
    await assert.rejects(m.getSecret("__proto__", { version: "constructor" }), SecretNotFoundError);
    await assert.rejects(m.promote("__proto__", "toString"), SecretNotFoundError);
    await assert.rejects(m.getSecret("constructor"), SecretNotFoundError);
    assert.equal(await m.getSecret("__proto__"), "proto-value-000001");
    await m.close();
  });
});

// ---- wrong key, damaged store ----

/** Every operation, as thunks (each call starts when it is awaited). */
const ALL_OPERATIONS = (m: FileSecretManager): (() => Promise<unknown>)[] => [
  () => m.getSecret("svc/token"),
  () => m.getSecret("svc/token", { stage: "previous" }),
  () => m.readSecret("svc/token"),
  () => m.listSecrets(),
  () => m.describeSecret("svc/token"),
  () => m.setSecret("svc/token", "would-overwrite-000001"),
  () => m.setSecret("svc/other", "would-add-000001"),
  () => m.promote("svc/token", "1"),
  () => m.deprecateVersion("svc/token", "1"),
  () => m.destroyVersion("svc/token", "1"),
  () => m.deleteSecret("svc/token"),
];

Deno.test("file: a wrong key is a SecretAccessError (key) on every operation and the store is untouched", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/store.json`;
    const right = new FileSecretManager({ path, key: generateFileKey() });
    await right.setSecret("svc/token", "right-key-value-000001");
    await right.setSecret("svc/token", "right-key-value-000002");
    const before = await Deno.readFile(path);
    const wrong = new FileSecretManager({ path, key: generateFileKey() });
    for (const op of ALL_OPERATIONS(wrong)) await assert.rejects(op(), isAccess("key", path));
    assert.deepEqual(await Deno.readFile(path), before, "the store is byte-for-byte unchanged");
    assert.equal(await right.getSecret("svc/token"), "right-key-value-000002");
    await right.close();
    await wrong.close();
  });
});

Deno.test("file: a wrong key is detected on a store that holds no secret", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/store.json`;
    const right = new FileSecretManager({ path, key: generateFileKey() });
    await right.setSecret("tmp/x", "temporary-value-000001");
    await right.deleteSecret("tmp/x");
    assert.deepEqual(await right.listSecrets(), []);
    const before = await Deno.readFile(path);
    const wrong = new FileSecretManager({ path, key: generateFileKey() });
    await assert.rejects(wrong.listSecrets(), isAccess("key", path));
    await assert.rejects(wrong.setSecret("tmp/y", "new-value-000001"), isAccess("key", path));
    assert.deepEqual(await Deno.readFile(path), before);
  });
});

/** A damage function that edits the store's JSON. */
// deno-lint-ignore no-explicit-any
function editDoc(edit: (doc: any) => unknown): (bytes: Uint8Array) => Uint8Array {
  return (bytes) => {
    const doc = JSON.parse(new TextDecoder().decode(bytes));
    edit(doc);
    return new TextEncoder().encode(JSON.stringify(doc));
  };
}

/** Writes a store with two secrets, applies `damage` to its bytes, and returns both. */
async function damagedStore(
  dir: string,
  damage: (bytes: Uint8Array) => Uint8Array,
): Promise<{ path: string; key: string; bytes: Uint8Array }> {
  const path = `${dir}/store.json`;
  const key = generateFileKey();
  const m = new FileSecretManager({ path, key });
  await m.setSecret("svc/token", "damage-value-000001");
  await m.setSecret("svc/token", "damage-value-000002");
  await m.setSecret("svc/other", "damage-other-000001");
  await m.close();
  const bytes = damage(await Deno.readFile(path));
  await Deno.writeFile(path, bytes);
  return { path, key, bytes };
}

for (
  const [label, damage] of [
    ["a truncated store", (b: Uint8Array) => b.slice(0, Math.floor(b.length / 2))],
    ["an emptied store file", () => new Uint8Array(0)],
    ["a store overwritten with random bytes", () => crypto.getRandomValues(new Uint8Array(700))],
    ["a JSON file that is not a store", () => new TextEncoder().encode('{"name":"not-a-store"}')],
    [
      "a store of an unknown format version",
      (b: Uint8Array) =>
        new TextEncoder().encode(new TextDecoder().decode(b).replace('"version":1', '"version":9')),
    ],
    [
      "a store whose stage label points at no version",
      editDoc((doc) => doc.secrets["svc/token"].stages.current = "77"),
    ],
    ["a store of another cipher", editDoc((doc) => doc.cipher = "ChaCha20-Poly1305")],
    ["a store without its secrets table", editDoc((doc) => doc.secrets = [])],
    ["a store without its key check", editDoc((doc) => delete doc.keyCheck)],
    [
      "a store holding an invalid secret name",
      editDoc((doc) => doc.secrets["../escape"] = doc.secrets["svc/other"]),
    ],
    ["a store with a malformed secret entry", editDoc((doc) => doc.secrets["svc/other"] = 7)],
    [
      "a store whose version counter went backwards",
      editDoc((doc) => doc.secrets["svc/token"].nextVersion = 2),
    ],
    [
      "a store with a version id that is not a number",
      editDoc((doc) => doc.secrets["svc/token"].versions.x = doc.secrets["svc/token"].versions[1]),
    ],
    [
      "a store with a malformed version",
      editDoc((doc) => doc.secrets["svc/token"].versions[1].createdAt = "yesterday"),
    ],
    [
      "a store with an unknown stage",
      editDoc((doc) => doc.secrets["svc/token"].stages.staging = "1"),
    ],
    [
      "a store with a short nonce",
      editDoc((doc) => doc.secrets["svc/other"].versions[1].data.iv = "AAAA"),
    ],
  ] as const
) {
  Deno.test(`file: ${label} is a SecretAccessError (damaged) and is never rewritten`, async () => {
    await withDir(async (dir) => {
      const { path, key, bytes } = await damagedStore(dir, damage);
      const m = new FileSecretManager({ path, key });
      for (const op of ALL_OPERATIONS(m)) {
        await assert.rejects(op(), (err) => {
          isAccess("damaged", path)(err);
          assert.ok(!(err as Error).message.includes("damage-value"));
          return true;
        });
      }
      assert.deepEqual(await Deno.readFile(path), bytes, "the store is byte-for-byte unchanged");
      await m.close();
    });
  });
}

Deno.test("file: an edited ciphertext fails to open as damaged, naming the version", async () => {
  await withDir(async (dir) => {
    const { path, key, bytes } = await damagedStore(dir, (b) => {
      const doc = JSON.parse(new TextDecoder().decode(b));
      const data = doc.secrets["svc/token"].versions["2"].data;
      data.ct = (data.ct[0] === "A" ? "B" : "A") + data.ct.slice(1);
      return new TextEncoder().encode(JSON.stringify(doc));
    });
    const m = new FileSecretManager({ path, key });
    await assert.rejects(m.getSecret("svc/token"), (err) => {
      isAccess("damaged", path)(err);
      assert.equal((err as SecretAccessError).version, "2");
      return true;
    });
    assert.equal(await m.getSecret("svc/token", { version: "1" }), "damage-value-000001");
    assert.equal(await m.getSecret("svc/other"), "damage-other-000001");
    assert.deepEqual(await Deno.readFile(path), bytes);
    await m.close();
  });
});

Deno.test("file: a ciphertext swapped between names or between versions fails to open", async () => {
  await withDir(async (dir) => {
    const { path, key } = await damagedStore(dir, (b) => {
      const doc = JSON.parse(new TextDecoder().decode(b));
      const token = doc.secrets["svc/token"].versions;
      const other = doc.secrets["svc/other"].versions;
      [token["1"].data, other["1"].data] = [other["1"].data, token["1"].data];
      return new TextEncoder().encode(JSON.stringify(doc));
    });
    const m = new FileSecretManager({ path, key });
    await assert.rejects(m.getSecret("svc/other"), isAccess("damaged", path));
    await assert.rejects(m.getSecret("svc/token", { version: "1" }), isAccess("damaged", path));
    assert.equal(await m.getSecret("svc/token"), "damage-value-000002", "untouched versions open");
    await m.close();
  });
  await withDir(async (dir) => {
    const { path, key } = await damagedStore(dir, (b) => {
      const doc = JSON.parse(new TextDecoder().decode(b));
      const v = doc.secrets["svc/token"].versions;
      [v["1"].data, v["2"].data] = [v["2"].data, v["1"].data];
      return new TextEncoder().encode(JSON.stringify(doc));
    });
    const m = new FileSecretManager({ path, key });
    await assert.rejects(m.getSecret("svc/token"), isAccess("damaged", path));
    await assert.rejects(m.getSecret("svc/token", { stage: "previous" }), isAccess("damaged"));
    await m.close();
  });
});

Deno.test("file: a failed write is a SecretWriteError naming the store, leaves it as it was and releases the lock", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/store.json`;
    const key = generateFileKey();
    const ok = new FileSecretManager({ path, key });
    await ok.setSecret("a/b", "before-failure-000001");
    const before = await Deno.readFile(path);
    const failing: FsPort = {
      ...nodeFsPort,
      writeFileAtomic: () =>
        Promise.reject(Object.assign(new Error("no space: before-failure"), { code: "ENOSPC" })),
    };
    const m = new FileSecretManager({ path, key, fsPort: failing });
    await assert.rejects(m.setSecret("a/b", "after-failure-000001"), (err) => {
      assert.ok(err instanceof SecretWriteError);
      assert.ok(err.message.includes(path));
      assert.ok(!err.message.includes("after-failure"));
      assert.equal(
        (err.cause as Error).message.includes("before-failure"),
        false,
        "cause scrubbed",
      );
      return true;
    });
    assert.deepEqual(await Deno.readFile(path), before);
    await assert.rejects(Deno.stat(`${path}.lock`), Deno.errors.NotFound);
    assert.equal(await ok.setSecret("a/b", "after-recovery-000001").then((v) => v.version), "2");
    await ok.close();
    await m.close();
  });
});

Deno.test("file: a store that cannot be read or written is a clear error naming it", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/store.json`);
    const m = new FileSecretManager({ path: `${dir}/store.json`, key: generateFileKey() });
    await assert.rejects(m.listSecrets(), isAccess("unreachable", `${dir}/store.json`));
    await assert.rejects(m.setSecret("a/b", "unwritable-000001"), isAccess("unreachable"));
    await Deno.writeTextFile(`${dir}/plain-file`, "not a directory\n");
    const n = new FileSecretManager({
      path: `${dir}/plain-file/store.json`,
      key: generateFileKey(),
    });
    await assert.rejects(n.setSecret("a/b", "unwritable-000002"), (err) => {
      assert.ok(err instanceof SecretWriteError);
      assert.match(
        err.message,
        /directory of the store .*plain-file\/store\.json cannot be created/,
      );
      return true;
    });
    await m.close();
    await n.close();
  });
});

Deno.test("file: the node:fs port reports missing and existing files and fails on the rest", async () => {
  await withDir(async (dir) => {
    const fs = nodeFsPort;
    const bytes = new TextEncoder().encode("port-bytes\n");
    assert.equal(await fs.readFile(`${dir}/missing`), undefined);
    await assert.rejects(fs.readFile(dir), (e) => (e as { code?: string }).code === "EISDIR");
    assert.equal(await fs.createExclusive(`${dir}/a`, bytes, 0o600), true);
    assert.equal(await fs.createExclusive(`${dir}/a`, bytes, 0o600), false);
    await assert.rejects(fs.createExclusive(`${dir}/no/such/dir/a`, bytes, 0o600));
    assert.equal(await fs.stat(`${dir}/a/below-a-file`), undefined);
    assert.equal((await fs.stat(dir))?.isDirectory, true);
    assert.equal(await fs.rename(`${dir}/missing`, `${dir}/b`), false);
    assert.equal(await fs.link(`${dir}/a`, `${dir}/c`), true);
    assert.equal(await fs.link(`${dir}/a`, `${dir}/c`), false);
    await assert.rejects(fs.link(`${dir}/missing`, `${dir}/d`));
    await Deno.mkdir(`${dir}/target-is-a-directory`);
    await assert.rejects(fs.writeFileAtomic(`${dir}/target-is-a-directory`, bytes, 0o600));
    await assert.rejects(fs.rename(`${dir}/a`, `${dir}/target-is-a-directory`));
    const left = [];
    for await (const e of Deno.readDir(dir)) left.push(e.name);
    assert.deepEqual(left.sort(), ["a", "c", "target-is-a-directory"], "the temp file is removed");
    await fs.writeFileAtomic(`${dir}/a`, bytes, 0o600);
    assert.deepEqual(await fs.readFile(`${dir}/a`), bytes);
    await fs.remove(`${dir}/a`);
    await fs.remove(`${dir}/a`);
    assert.equal(await fs.stat(`${dir}/a`), undefined);
  });
});

// ---- locking ----

Deno.test("file: a write waits for another writer's lock and fails with a timeout naming it", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/store.json`;
    const m = new FileSecretManager({ path, key: generateFileKey(), lockTimeoutMs: 60 });
    await m.setSecret("a/b", "locked-value-000001");
    const before = await Deno.readFile(path);
    await Deno.writeTextFile(`${path}.lock`, "held by another writer\n");
    const started = performance.now();
    await assert.rejects(m.setSecret("a/b", "locked-value-000002"), (err) => {
      isAccess("timeout", `${path}.lock`)(err);
      assert.match((err as Error).message, /lockTimeoutMs/);
      return true;
    });
    assert.ok(performance.now() - started >= 50, "it waited for the lock");
    assert.equal(await Deno.readTextFile(`${path}.lock`), "held by another writer\n");
    assert.deepEqual(await Deno.readFile(path), before);
    assert.equal(await m.getSecret("a/b"), "locked-value-000001", "reads need no lock");
    await Deno.remove(`${path}.lock`);
    await m.setSecret("a/b", "locked-value-000003");
    assert.equal(await m.getSecret("a/b"), "locked-value-000003");
    await m.close();
  });
});

Deno.test("file: a lock older than staleLockMs is broken and the write goes through", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/store.json`;
    const m = new FileSecretManager({ path, key: generateFileKey(), staleLockMs: 60_000 });
    await Deno.writeTextFile(`${path}.lock`, "left by a crashed writer\n");
    const hourAgo = new Date(Date.now() - 3_600_000);
    await Deno.utime(`${path}.lock`, hourAgo, hourAgo);
    await m.setSecret("a/b", "after-stale-lock-000001");
    assert.equal(await m.getSecret("a/b"), "after-stale-lock-000001");
    const left = [];
    for await (const e of Deno.readDir(dir)) left.push(e.name);
    assert.deepEqual(left, ["store.json"], "the stale lock and its moved copy are gone");
    await m.close();
  });
});

Deno.test("file: an aborted signal stops a write waiting for the lock", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/store.json`;
    const m = new FileSecretManager({ path, key: generateFileKey() });
    await m.setSecret("a/b", "abort-value-000001");
    await Deno.writeTextFile(`${path}.lock`, "held\n");
    const ctl = new AbortController();
    const write = m.setSecret("a/b", "abort-value-000002", { signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error("caller gave up")), 20);
    await assert.rejects(write, /caller gave up/);
    await Deno.remove(`${path}.lock`);
    assert.equal(await m.getSecret("a/b"), "abort-value-000001");
    await m.close();
  });
});

Deno.test("file: close() waits for a write in flight, then refuses calls", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/store.json`;
    const key = generateFileKey();
    const m = new FileSecretManager({ path, key });
    const write = m.setSecret("a/b", "in-flight-000001");
    await m.close();
    assert.equal((await write).version, "1");
    await assert.rejects(
      m.setSecret("a/b", "late-000001"),
      (e) => e instanceof KeywardError && e.code === "closed",
    );
    assert.equal(await new FileSecretManager({ path, key }).getSecret("a/b"), "in-flight-000001");
  });
});

Deno.test("file: two processes writing at once lose nothing", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/store.json`;
    const key = generateFileKey();
    const seed = new FileSecretManager({ path, key });
    await seed.setSecret("shared/key", "seed-value-000001");
    const perProcess = 30;
    const children = ["first", "second"].map((label) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-prompt",
          `--config=${repoRoot}deno.json`,
          `--allow-read=${dir}`,
          `--allow-write=${dir}`,
          "--allow-env=KEYWARD_FILE_KEY",
          `${repoRoot}tests/backends/_file_writer.ts`,
          path,
          label,
          String(perProcess),
        ],
        cwd: repoRoot,
        env: { KEYWARD_FILE_KEY: key, NO_COLOR: "1" },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn()
    );
    const outputs = children.map((child) => lines(child.stdout));
    for (const out of outputs) assert.equal((await out.next()).value, "ready");
    for (const child of children) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("go\n"));
      await writer.close();
    }
    const written: { version: string; value: string }[] = [];
    for (const [i, out] of outputs.entries()) {
      const line = (await out.next()).value;
      const status = await children[i].status;
      const stderr = await new Response(children[i].stderr).text();
      assert.equal(status.code, 0, `child ${i} failed: ${stderr}`);
      assert.ok(typeof line === "string", `child ${i} printed its versions`);
      written.push(...JSON.parse(line));
    }
    assert.equal(written.length, 2 * perProcess);
    assert.equal(new Set(written.map((w) => w.version)).size, 2 * perProcess, "no version reused");
    for (const { version, value } of written) {
      assert.equal(await seed.getSecret("shared/key", { version }), value);
    }
    const meta = await seed.describeSecret("shared/key");
    assert.equal(meta.versions.length, 2 * perProcess + 1, "every version is kept");
    assert.equal(meta.versions.at(-1)!.version, String(2 * perProcess + 1));
    const current = await seed.getSecret("shared/key");
    assert.ok(written.some((w) => w.value === current), "current is one of the written values");
    await seed.close();
  });
});

/** Reads a byte stream as lines. */
async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let cut;
    while ((cut = buffer.indexOf("\n")) !== -1) {
      yield buffer.slice(0, cut);
      buffer = buffer.slice(cut + 1);
    }
  }
  if (buffer) yield buffer;
}

// ---- keys and key files ----

Deno.test("file: generateFileKey() makes distinct 32-byte keys that decodeFileKey() accepts", () => {
  const a = generateFileKey();
  const b = generateFileKey();
  assert.notEqual(a, b);
  assert.equal(decodeFileKey(a).length, 32);
  assert.deepEqual(decodeFileKey(`  ${a}\n`), decodeFileKey(a), "surrounding whitespace is fine");
  assert.deepEqual(decodeFileKey(a.replace(/=$/, "")), decodeFileKey(a), "padding is optional");
});

Deno.test("file: decodeFileKey() refuses anything but 32 bytes of base64, naming KEYWARD_FILE_KEY and never the text", () => {
  const canary = "CANARYKEYTEXT";
  const bad = [
    "",
    `${canary}`,
    btoa("x".repeat(31)),
    btoa("x".repeat(33)),
    `${canary}${"A".repeat(31)}!`,
    `${canary}${"A".repeat(30)}==`,
  ];
  for (const text of bad) {
    assert.throws(() => decodeFileKey(text), (err) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /KEYWARD_FILE_KEY/);
      assert.ok(!err.message.includes(canary), err.message);
      if (text) assert.ok(!err.message.includes(text));
      return true;
    });
  }
});

Deno.test("file: the manager's options are checked at construction without I/O", () => {
  const { port, count } = countingPort();
  const key = generateFileKey();
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ path: "", key }, /option path/],
    [{ path: "/tmp/x.json", key: new Uint8Array(16) }, /exactly 32 bytes, got 16/],
    [{ path: "/tmp/x.json", key: 42 }, /option key/],
    [{ path: "/tmp/x.json", key: "short" }, /KEYWARD_FILE_KEY/],
    [{ path: "/tmp/x.json", key, lockTimeoutMs: 0 }, /lockTimeoutMs/],
    [{ path: "/tmp/x.json", key, staleLockMs: -1 }, /staleLockMs/],
    [{ path: "/tmp/x.json", key, maxVersions: 1.5 }, /maxVersions/],
  ];
  for (const [opts, message] of cases) {
    assert.throws(
      () => new FileSecretManager({ fsPort: port, ...opts } as never),
      (e) => e instanceof ConfigError && message.test(e.message),
    );
  }
  assert.equal(count(), 0);
});

Deno.test("file: writeKeyFile() creates the key file with mode 0600 and refuses to overwrite it", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/keys/file.key`;
    const key = generateFileKey();
    await writeKeyFile(path, key);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    assert.equal((await Deno.readTextFile(path)).trim(), key);
    await assert.rejects(writeKeyFile(path, generateFileKey()), (err) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /already exists/);
      return true;
    });
    assert.equal((await Deno.readTextFile(path)).trim(), key, "the old key is kept");
    await writeKeyFile(`${dir}/bytes.key`, decodeFileKey(key));
    assert.deepEqual(await readKeyFile(`${dir}/bytes.key`), decodeFileKey(key));
  });
});

Deno.test("file: readKeyFile() accepts a 0600 key file and refuses one group or others can read", async () => {
  await withDir(async (dir) => {
    const key = generateFileKey();
    const path = `${dir}/file.key`;
    await Deno.writeTextFile(path, `${key}\n`);
    await Deno.chmod(path, 0o600);
    assert.deepEqual(await readKeyFile(path), decodeFileKey(key));
    await Deno.chmod(path, 0o644);
    await assert.rejects(readKeyFile(path), (err) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /group or others \(mode 0644\)/);
      assert.match(err.message, /chmod 600/);
      assert.ok(!err.message.includes(key));
      return true;
    });
    await Deno.chmod(path, 0o640);
    await assert.rejects(readKeyFile(path), /mode 0640/);
    await assert.rejects(readKeyFile(`${dir}/missing.key`), /does not exist/);
    await assert.rejects(readKeyFile(dir), /is a directory/);
    await assert.rejects(readKeyFile(""), /non-empty/);
  });
});

Deno.test("file: readKeyFile() and writeKeyFile() refuse a key file inside a git repository", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/repo/.git`, { recursive: true });
    await Deno.mkdir(`${dir}/repo/config/keys`, { recursive: true });
    const path = `${dir}/repo/config/keys/file.key`;
    await Deno.writeTextFile(path, `${generateFileKey()}\n`, { mode: 0o600 });
    await Deno.chmod(path, 0o600);
    await assert.rejects(readKeyFile(path), (err) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /inside the git repository/);
      assert.ok(err.message.includes(`${dir}/repo`));
      return true;
    });
    await assert.rejects(
      writeKeyFile(`${dir}/repo/other.key`, generateFileKey()),
      /inside the git repository/,
    );
    await assert.rejects(Deno.stat(`${dir}/repo/other.key`), Deno.errors.NotFound);
    // A worktree or submodule has a .git file instead of a directory.
    await Deno.mkdir(`${dir}/worktree`);
    await Deno.writeTextFile(`${dir}/worktree/.git`, "gitdir: /elsewhere\n");
    await assert.rejects(
      writeKeyFile(`${dir}/worktree/file.key`, generateFileKey()),
      /inside the git repository/,
    );
  });
});

Deno.test("file: a key file holding something else is refused without echoing it", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/file.key`;
    const canary = `CANARY-${crypto.randomUUID()}`;
    await Deno.writeTextFile(path, canary);
    await Deno.chmod(path, 0o600);
    await assert.rejects(readKeyFile(path), (err) => {
      assert.ok(err instanceof ConfigError);
      assert.ok(err.message.includes(path), "names the key file");
      assert.ok(!err.message.includes(canary));
      return true;
    });
  });
});

// ---- runtime neutrality ----

Deno.test("file: backends/file.ts and everything it imports use no Deno API", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `${repoRoot}backends/file.ts`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout));
  const local = (graph.modules as { specifier: string }[])
    .map((m) => m.specifier)
    .filter((s) => s.startsWith("file://"));
  assert.ok(local.some((s) => s.endsWith("/backends/_fs_port.ts")));
  for (const specifier of local) {
    const code = stripComments(await Deno.readTextFile(new URL(specifier)));
    // `Symbol.for("Deno.customInspect")` names an inspection hook and is not an API call.
    // _fs_port.ts finds an OS file lock by feature detection (globalThis), with
    // no Deno.* call; on Node it is absent and the commit fence guards alone.
    assert.ok(!/(?<!["'`])\bDeno\./.test(code), `${specifier} uses Deno.*`);
  }
});

function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}
