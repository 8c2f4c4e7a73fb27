import assert from "node:assert/strict";
import { parseCacheSettings, wrapWithCache } from "../../factory/_cache.ts";
import type { BackendSettings } from "../../factory/_types.ts";
import { parseSettings } from "../../settings/parse.ts";
import { ConfigError, MemorySecretManager, SecretAccessError } from "../../mod.ts";
import { FaultyManager } from "../../testing.ts";

const KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

function settings(
  env: Record<string, string>,
  files: Record<string, string> = {},
): BackendSettings {
  return {
    env,
    readTextFile: (path) =>
      path in files ? Promise.resolve(files[path]) : Promise.reject(new Error(`ENOENT ${path}`)),
  };
}

Deno.test("the cache settings default to an hour, an hour and 1000 entries", () => {
  assert.deepEqual(parseCacheSettings(parseSettings({})), {
    ttlMs: 3_600_000,
    staleIfErrorMs: 3_600_000,
    maxEntries: 1000,
    staleRetryMs: 5_000,
  });
  const p = parseCacheSettings(parseSettings({
    SECRET_CACHE_TTL_MS: "5000",
    SECRET_CACHE_STALE_MS: "0",
    SECRET_CACHE_MAX_ENTRIES: " 10 ",
    SECRET_CACHE_STALE_RETRY_MS: "0",
  }));
  assert.deepEqual(p, { ttlMs: 5000, staleIfErrorMs: 0, maxEntries: 10, staleRetryMs: 0 });
});

Deno.test("a bad cache setting is a ConfigError naming the setting", () => {
  for (
    const [name, value] of [
      ["SECRET_CACHE_TTL_MS", "1h"],
      ["SECRET_CACHE_TTL_MS", "-1"],
      ["SECRET_CACHE_STALE_MS", "1.5"],
      ["SECRET_CACHE_MAX_ENTRIES", "0"],
      ["SECRET_CACHE_STALE_RETRY_MS", "soon"],
    ]
  ) {
    assert.throws(() => parseCacheSettings(parseSettings({ [name]: value })), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, new RegExp(name));
      return true;
    });
  }
});

Deno.test("wrapWithCache() caches reads, and SECRET_CACHE_TTL_MS=0 turns the cache off", async () => {
  const backend = new FaultyManager(new MemorySecretManager({ initial: { a: "value-a-0001" } }));
  const cached = await wrapWithCache(backend, settings({}));
  assert.ok(cached !== undefined);
  await cached.getSecret("a");
  await cached.getSecret("a");
  assert.equal(backend.calls.get, 1);
  const plain = await wrapWithCache(backend, settings({ SECRET_CACHE_TTL_MS: "0" }));
  assert.equal(plain, undefined);
  await cached.close();
});

Deno.test("wrapWithCache() refuses a snapshot without a key, or with a key stored beside it", async () => {
  const m = new MemorySecretManager();
  const dir = "/run/keyward";
  await assert.rejects(
    wrapWithCache(m, settings({ SECRET_CACHE_SNAPSHOT: `${dir}/cache.snap` })),
    /KEYWARD_SNAPSHOT_KEY is not/,
  );
  await assert.rejects(
    wrapWithCache(
      m,
      settings({
        SECRET_CACHE_SNAPSHOT: `${dir}/cache.snap`,
        KEYWARD_SNAPSHOT_KEY_FILE: `${dir}/snapshot.key`,
      }, { [`${dir}/snapshot.key`]: KEY }),
    ),
    /beside/,
  );
  await assert.rejects(
    wrapWithCache(
      m,
      settings({
        SECRET_CACHE_SNAPSHOT: `${dir}/cache.snap`,
        KEYWARD_SNAPSHOT_KEY: `${dir}/cache.snap`,
      }),
    ),
    /snapshot file itself/,
  );
  await assert.rejects(
    wrapWithCache(
      m,
      settings({ SECRET_CACHE_SNAPSHOT: `${dir}/cache.snap`, KEYWARD_SNAPSHOT_KEY: "c2hvcnQ=" }),
    ),
    (e: unknown) => e instanceof ConfigError && !e.message.includes("c2hvcnQ="),
  );
  await assert.rejects(
    wrapWithCache(
      m,
      settings({
        SECRET_CACHE_SNAPSHOT: `${dir}/cache.snap`,
        KEYWARD_SNAPSHOT_KEY: KEY,
        KEYWARD_SNAPSHOT_KEY_FILE: "/etc/keyward/snapshot.key",
      }),
    ),
    /not both/,
  );
  await assert.rejects(
    wrapWithCache(
      m,
      settings({
        SECRET_CACHE_SNAPSHOT: `${dir}/cache.snap`,
        KEYWARD_SNAPSHOT_KEY_FILE: "/etc/keyward/missing.key",
      }),
    ),
    /KEYWARD_SNAPSHOT_KEY_FILE: the key file \/etc\/keyward\/missing\.key does not exist/,
  );
});

Deno.test("wrapWithCache() builds a file snapshot that a restart reads during an outage", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = {
      SECRET_CACHE_SNAPSHOT: `${dir}/snap/cache.snap`,
      KEYWARD_SNAPSHOT_KEY_FILE: `${dir}/keys/snapshot.key`,
    };
    // The key file is read from disk by the one key-file reader (owner-only mode).
    await Deno.mkdir(`${dir}/keys`);
    await Deno.writeTextFile(`${dir}/keys/snapshot.key`, `${KEY}\n`, { mode: 0o600 });
    const files = {};
    const first = await wrapWithCache(
      new MemorySecretManager({ initial: { "broker/key": "key-value-0001" } }),
      settings(env, files),
    );
    assert.ok(first !== undefined);
    await first.getSecret("broker/key");
    await first.close();
    const down = new FaultyManager(new MemorySecretManager());
    down.fault = "down";
    const second = await wrapWithCache(down, settings(env, files));
    assert.ok(second !== undefined);
    assert.equal(await second.getSecret("broker/key"), "key-value-0001");
    await assert.rejects(second.getSecret("other/key"), SecretAccessError);
    await second.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
