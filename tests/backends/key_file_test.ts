import assert from "node:assert/strict";
import { decodeFileKey, generateFileKey, readKeyFile } from "../../backends/file.ts";
import { readKeyFrom } from "../../backends/_key_file.ts";
import { wrapWithCache } from "../../factory/_cache.ts";
import { build as buildFileBackend } from "../../factory/_file.ts";
import { AuditKey, ConfigError, MemorySecretManager } from "../../mod.ts";

// One decoder and one key-file reader for every key (issue 11 item 4,
// issue 12 item 11): the file store's key, the snapshot key and the audit key.

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-key-file-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function keyFile(path: string, text: string, mode: number): Promise<void> {
  await Deno.writeTextFile(path, text);
  await Deno.chmod(path, mode);
}

const noFiles = () => Promise.reject(new Error("not read through readTextFile"));

function snapshotWith(dir: string, env: Record<string, string>) {
  return wrapWithCache(new MemorySecretManager(), {
    env: { SECRET_CACHE_SNAPSHOT: `${dir}/snap/cache.snap`, ...env },
    readTextFile: noFiles,
  });
}

function storeWith(dir: string, env: Record<string, string>) {
  return buildFileBackend({
    env: { KEYWARD_FILE_PATH: `${dir}/store.json`, ...env },
    readTextFile: noFiles,
  });
}

Deno.test("key file: KEYWARD_SNAPSHOT_KEY_FILE at mode 0666 is refused, as the store's key at 0644 is", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/keys`);
    const key = generateFileKey();
    const path = `${dir}/keys/snapshot.key`;
    for (const mode of [0o666, 0o644, 0o640, 0o604]) {
      await keyFile(path, `${key}\n`, mode);
      const shown = mode.toString(8).padStart(4, "0");
      await assert.rejects(snapshotWith(dir, { KEYWARD_SNAPSHOT_KEY_FILE: path }), (err) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /^KEYWARD_SNAPSHOT_KEY_FILE: /);
        assert.ok(err.message.includes(`group or others (mode ${shown})`), err.message);
        assert.ok(!err.message.includes(key));
        return true;
      });
      await assert.rejects(storeWith(dir, { KEYWARD_FILE_KEY_FILE: path }), (err) => {
        assert.ok(err instanceof ConfigError);
        assert.ok(err.message.includes(`group or others (mode ${shown})`), err.message);
        return true;
      });
    }
    for (const mode of [0o600, 0o400]) {
      await keyFile(path, `${key}\n`, mode);
      const cached = await snapshotWith(dir, { KEYWARD_SNAPSHOT_KEY_FILE: path });
      assert.ok(cached, "a snapshot setting gives a cache");
      await cached.close();
      const store = await storeWith(dir, { KEYWARD_FILE_KEY_FILE: path });
      await store.close();
      assert.deepEqual(await readKeyFile(path), decodeFileKey(key));
    }
  });
});

Deno.test("key file: a symlink into a git repository is refused for every key", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/repo/.git`, { recursive: true });
    await Deno.mkdir(`${dir}/repo/config`, { recursive: true });
    await Deno.mkdir(`${dir}/keys`);
    const key = generateFileKey();
    await keyFile(`${dir}/repo/config/file.key`, `${key}\n`, 0o600);
    const link = `${dir}/keys/file.key`; // outside the repository, pointing into it
    await Deno.symlink(`${dir}/repo/config/file.key`, link);
    const insideRepo = (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /is inside the git repository/);
      assert.ok(err.message.includes(`a link to ${dir}/repo/config/file.key`), err.message);
      assert.ok(!err.message.includes(key));
      return true;
    };
    await assert.rejects(readKeyFile(link), insideRepo);
    await assert.rejects(storeWith(dir, { KEYWARD_FILE_KEY_FILE: link }), insideRepo);
    await assert.rejects(snapshotWith(dir, { KEYWARD_SNAPSHOT_KEY_FILE: link }), insideRepo);
    // A directory link into the repository is followed too.
    await Deno.symlink(`${dir}/repo/config`, `${dir}/config-link`);
    await assert.rejects(readKeyFile(`${dir}/config-link/file.key`), insideRepo);
  });
});

Deno.test("key file: the mode is checked on the file a link points to, not on the link", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/real`);
    const key = generateFileKey();
    await keyFile(`${dir}/real/file.key`, `${key}\n`, 0o600);
    await Deno.symlink(`${dir}/real/file.key`, `${dir}/link.key`);
    assert.deepEqual(await readKeyFile(`${dir}/link.key`), decodeFileKey(key));
    await Deno.chmod(`${dir}/real/file.key`, 0o644);
    await assert.rejects(readKeyFile(`${dir}/link.key`), /mode 0644/);
    await Deno.remove(`${dir}/real/file.key`);
    await assert.rejects(readKeyFile(`${dir}/link.key`), /does not exist/);
  });
});

Deno.test("key file: a snapshot key linked from beside the snapshot is refused", async () => {
  await withDir(async (dir) => {
    await Deno.mkdir(`${dir}/snap`, { recursive: true });
    await Deno.mkdir(`${dir}/keys`);
    await keyFile(`${dir}/snap/snapshot.key`, `${generateFileKey()}\n`, 0o600);
    await Deno.symlink(`${dir}/snap/snapshot.key`, `${dir}/keys/snapshot.key`);
    await assert.rejects(
      snapshotWith(dir, { KEYWARD_SNAPSHOT_KEY_FILE: `${dir}/keys/snapshot.key` }),
      /lies beside SECRET_CACHE_SNAPSHOT/,
    );
  });
});

Deno.test("key decoder: the file key, the snapshot key and the audit key follow one rule", async () => {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const padded = btoa(String.fromCharCode(...bytes));
  const accepted = [padded, padded.replace(/=$/, ""), `  ${padded}\n`];
  const canary = "CANARYKEYTEXT";
  const refused = [
    "",
    canary,
    `${padded.slice(0, 20)} ${padded.slice(20)}`, // inner whitespace
    `-_${padded.slice(2)}`, // base64url characters
    padded.includes("+") || padded.includes("/") ? "" : "-", // base64url
    `${padded.slice(0, -1)}==`, // wrong padding
    btoa("x".repeat(31)),
    `${canary}${"A".repeat(30)}==`,
  ];
  const snapshotKey = (text: string) =>
    wrapWithCache(new MemorySecretManager(), {
      env: { SECRET_CACHE_SNAPSHOT: "/nonexistent/keyward/cache.snap", KEYWARD_SNAPSHOT_KEY: text },
      readTextFile: noFiles,
    }).then((m) => {
      assert.ok(m, "a snapshot setting gives a cache");
      return m.close();
    });
  for (const text of accepted) {
    assert.deepEqual(decodeFileKey(text), bytes);
    await snapshotKey(text);
    AuditKey.fromBase64(text);
  }
  const refusedWithout = (text: string) => (err: unknown) => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.match(err.message, /base64 text of (exactly|at least) 32 bytes/);
    if (text.trim() !== "") assert.ok(!err.message.includes(text.trim()), err.message);
    assert.ok(!err.message.includes(canary));
    return true;
  };
  for (const text of refused) {
    assert.throws(() => decodeFileKey(text), refusedWithout(text));
    // An empty setting counts as unset (asked for by name), not as a bad key.
    if (text !== "") await assert.rejects(snapshotKey(text), refusedWithout(text));
    assert.throws(() => AuditKey.fromBase64(text), refusedWithout(text));
  }
  // The audit key alone may be longer than 32 bytes (MIN_AUDIT_KEY_BYTES).
  const longer = btoa("k".repeat(48));
  AuditKey.fromBase64(longer);
  assert.throws(() => decodeFileKey(longer), /holds 48 bytes/);
  await assert.rejects(snapshotKey(longer), /holds 48 bytes/);
});

Deno.test("key file: the one reader takes a longer audit key only when asked (atLeast)", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/audit.key`;
    await keyFile(path, `${btoa("k".repeat(48))}\n`, 0o600);
    assert.equal((await readKeyFrom(path, { atLeast: true })).length, 48);
    await assert.rejects(readKeyFile(path), /holds 48 bytes/);
    AuditKey.fromBytes(await readKeyFrom(path, { atLeast: true }));
    await Deno.chmod(path, 0o644);
    await assert.rejects(readKeyFrom(path, { atLeast: true }), /mode 0644/);
  });
});
