import assert from "node:assert/strict";
import { FileSnapshotStore } from "../../cache/file_snapshot_store.ts";
import { encryptedSnapshot, MemorySecretManager, SecretAccessError, withCache } from "../../mod.ts";
import { FaultyManager } from "../../testing.ts";
import { FakeClock } from "./_helpers.ts";

const CANARY = `canary-${crypto.randomUUID()}`;

Deno.test("FileSnapshotStore writes atomically with mode 0600 and reads back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = new FileSnapshotStore(`${dir}/sub/keyward.snapshot`);
    assert.equal(await store.read(), null);
    await store.write(new Uint8Array([1, 2, 3]));
    await store.write(new Uint8Array([4, 5, 6, 7]));
    assert.deepEqual(await store.read(), new Uint8Array([4, 5, 6, 7]));
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(store.path)).mode! & 0o777, 0o600);
    }
    const left = [...Deno.readDirSync(`${dir}/sub`)].map((e) => e.name);
    assert.deepEqual(left, ["keyward.snapshot"], "no temp file is left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileSnapshotStore refuses an empty path and reports other read errors", async () => {
  assert.throws(() => new FileSnapshotStore(""), TypeError);
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(new FileSnapshotStore(dir).read());
    await Deno.mkdir(`${dir}/taken`);
    await assert.rejects(new FileSnapshotStore(`${dir}/taken`).write(new Uint8Array([1])));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["taken"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a restarted instance rides an outage on the snapshot file, which holds no value in clear", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const clock = new FakeClock();
    const key = crypto.getRandomValues(new Uint8Array(32));
    const path = `${dir}/keyward.snapshot`;
    const first = withCache(new MemorySecretManager({ initial: { "broker/key": CANARY } }), {
      now: clock.now,
      snapshot: encryptedSnapshot({ store: new FileSnapshotStore(path), key }),
    });
    await first.getSecret("broker/key");
    await first.close();
    const raw = await Deno.readFile(path);
    const text = new TextDecoder("latin1").decode(raw);
    assert.ok(!text.includes(CANARY) && !text.includes("broker/key"));

    clock.advance(2 * 3_600_000 - 1); // TTL + stale window, just inside
    const down = new FaultyManager(new MemorySecretManager());
    down.fault = "timeout";
    const second = withCache(down, {
      now: clock.now,
      snapshot: encryptedSnapshot({ store: new FileSnapshotStore(path), key }),
    });
    assert.equal(await second.getSecret("broker/key"), CANARY);
    await second.close();

    clock.advance(2);
    const third = withCache(down, {
      now: clock.now,
      snapshot: encryptedSnapshot({ store: new FileSnapshotStore(path), key }),
    });
    await assert.rejects(third.getSecret("broker/key"), SecretAccessError);
    await third.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("FileSnapshotStore writes through a symlinked path to its target and keeps the link", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/volume`);
    await Deno.symlink(`${dir}/volume/cache.snap`, `${dir}/cache.snap`);
    const store = new FileSnapshotStore(`${dir}/cache.snap`);
    await store.write(new Uint8Array([1, 2, 3]));
    await store.write(new Uint8Array([4, 5, 6]));
    assert.ok((await Deno.lstat(`${dir}/cache.snap`)).isSymlink, "the link is still a link");
    assert.deepEqual(await Deno.readFile(`${dir}/volume/cache.snap`), new Uint8Array([4, 5, 6]));
    assert.deepEqual(await store.read(), new Uint8Array([4, 5, 6]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
