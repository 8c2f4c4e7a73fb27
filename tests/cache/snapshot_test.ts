import assert from "node:assert/strict";
import {
  type CacheSnapshot,
  ConfigError,
  encryptedSnapshot,
  MemorySecretManager,
  MemorySnapshotStore,
  SecretAccessError,
  type ServeEvent,
  type SnapshotStore,
  withCache,
} from "../../mod.ts";
import { FaultyManager } from "../../testing.ts";
import { FakeClock, recordText, withLogs } from "./_helpers.ts";

const TTL = 60_000;
const STALE = 600_000;
const CANARY = `canary-${crypto.randomUUID()}`;
const FIELD_CANARY = `field-canary-${crypto.randomUUID()}`;

/** Counts reads and writes of a store. */
class CountingStore implements SnapshotStore {
  reads = 0;
  readonly inner = new MemorySnapshotStore();
  read(): Promise<Uint8Array | null> {
    this.reads++;
    return this.inner.read();
  }
  write(data: Uint8Array): Promise<void> {
    return this.inner.write(data);
  }
  get writes(): number {
    return this.inner.writes;
  }
}

function newKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

function latin1(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => String.fromCharCode(b)).join("");
}

/** A first instance that read two secrets and wrote its snapshot. */
async function primedStore(clock: FakeClock, key: Uint8Array): Promise<CountingStore> {
  const store = new CountingStore();
  const backend = new MemorySecretManager({
    initial: { "broker/key": CANARY, "db/login": { user: "app", password: FIELD_CANARY } },
  });
  const first = withCache(backend, {
    ttlMs: TTL,
    staleIfErrorMs: STALE,
    now: clock.now,
    snapshot: encryptedSnapshot({ store, key }),
  });
  await first.getSecret("broker/key");
  await first.getSecret("db/login", { field: "password" });
  await first.close();
  return store;
}

function secondInstance(clock: FakeClock, store: SnapshotStore, key: Uint8Array) {
  const backend = new FaultyManager(
    new MemorySecretManager({
      initial: {
        "broker/key": "live-value-0001",
        "db/login": { user: "app", password: "pw-live" },
      },
    }),
  );
  const events: ServeEvent[] = [];
  const cache = withCache(backend, {
    ttlMs: TTL,
    staleIfErrorMs: STALE,
    now: clock.now,
    snapshot: encryptedSnapshot({ store, key }),
    onServe: (e) => events.push(e),
  });
  return { backend, cache, events };
}

Deno.test("the snapshot never holds a value in clear", async () => {
  const clock = new FakeClock();
  const key = newKey();
  const store = await primedStore(clock, key);
  const raw = await store.inner.read();
  assert.ok(raw !== null && raw.length > 40);
  const text = latin1(raw);
  for (const needle of [CANARY, FIELD_CANARY, "broker/key", "db/login", btoa(CANARY)]) {
    assert.ok(!text.includes(needle), `the snapshot shows ${needle.slice(0, 12)}...`);
  }
  assert.ok(!text.includes(latin1(key)), "the snapshot holds its key");
  assert.equal(text.slice(0, 6), "KWSNAP");
});

Deno.test("each snapshot write uses a fresh nonce", async () => {
  const clock = new FakeClock();
  const key = newKey();
  const store = new MemorySnapshotStore();
  const cache = withCache(new MemorySecretManager({ initial: { a: "value-a-0001" } }), {
    now: clock.now,
    snapshot: encryptedSnapshot({ store, key }),
  });
  await cache.getSecret("a");
  await cache.whenIdle();
  const one = await store.read();
  await cache.getSecret("a", { forceFetch: true });
  await cache.whenIdle();
  const two = await store.read();
  assert.ok(one && two && one.length === two.length);
  assert.notDeepEqual(one.subarray(8, 20), two.subarray(8, 20));
  await cache.close();
});

Deno.test("the snapshot lets a new instance start while the backend is down", async () => {
  await withLogs(async (records) => {
    const clock = new FakeClock();
    const key = newKey();
    const store = await primedStore(clock, key);
    clock.advance(TTL + STALE / 2); // the backend has been down for a while; we restart
    const { backend, cache, events } = secondInstance(clock, store, key);
    backend.fault = "down";
    assert.equal(await cache.getSecret("broker/key"), CANARY);
    assert.equal(await cache.getSecret("db/login", { field: "password" }), FIELD_CANARY);
    assert.equal(store.reads, 1, "the snapshot is read once");
    assert.equal(cache.stats().staleServes, 2);
    assert.deepEqual(events, [
      { name: "broker/key", source: "stale" },
      { name: "db/login", source: "stale", field: "password" },
    ]);
    // A read the snapshot does not hold still fails.
    await assert.rejects(cache.getSecret("db/login", { field: "user" }), SecretAccessError);
    // The backend comes back: live values replace the snapshot's.
    backend.fault = "none";
    clock.advance(5_000); // past staleRetryMs: the next read asks the backend again
    assert.equal(await cache.getSecret("broker/key"), "live-value-0001");
    assert.ok(records.some((r) => r.level === "warning" && /snapshot/.test(String(r.rawMessage))));
    for (const r of records) {
      const text = recordText(r);
      assert.ok(!text.includes(CANARY) && !text.includes(FIELD_CANARY), "a log held a value");
    }
    await cache.close();
  });
});

Deno.test("the snapshot is refused once past the stale window", async () => {
  const clock = new FakeClock();
  const key = newKey();
  const store = await primedStore(clock, key);
  clock.advance(TTL + STALE + 1);
  const { backend, cache } = secondInstance(clock, store, key);
  backend.fault = "down";
  await assert.rejects(cache.getSecret("broker/key"), SecretAccessError);
  assert.equal(cache.stats().staleServes, 0);
  await cache.close();
});

Deno.test("the snapshot is not read while the backend answers", async () => {
  const clock = new FakeClock();
  const key = newKey();
  const store = await primedStore(clock, key);
  const { backend, cache } = secondInstance(clock, store, key);
  assert.equal(await cache.getSecret("broker/key"), "live-value-0001");
  // After start-up, an outage does not bring the snapshot back.
  backend.fault = "down";
  await assert.rejects(cache.getSecret("db/login", { field: "password" }), SecretAccessError);
  assert.equal(store.reads, 0);
  await cache.close();
});

Deno.test("the snapshot is not read when the backend is merely throttling or denies", async () => {
  const clock = new FakeClock();
  const key = newKey();
  const store = await primedStore(clock, key);
  for (const fault of ["throttle", "deny"] as const) {
    const { backend, cache } = secondInstance(clock, store, key);
    backend.fault = fault;
    await assert.rejects(cache.getSecret("broker/key"), SecretAccessError);
    await cache.close();
  }
  assert.equal(store.reads, 0);
});

Deno.test("a snapshot under another key is not used", async () => {
  await withLogs(async (records) => {
    const clock = new FakeClock();
    const store = await primedStore(clock, newKey());
    const { backend, cache } = secondInstance(clock, store, newKey());
    backend.fault = "down";
    await assert.rejects(cache.getSecret("broker/key"), SecretAccessError);
    assert.ok(records.some((r) => r.level === "error" && recordText(r).includes("decrypted")));
    await cache.close();
  });
});

Deno.test("an altered snapshot is not used", async () => {
  const clock = new FakeClock();
  const key = newKey();
  const store = await primedStore(clock, key);
  const raw = (await store.inner.read())!;
  raw[raw.length - 1] ^= 1;
  await store.inner.write(raw);
  const { backend, cache } = secondInstance(clock, store, key);
  backend.fault = "down";
  await assert.rejects(cache.getSecret("broker/key"), SecretAccessError);
  await cache.close();
});

Deno.test("a snapshot keyed by a key stored beside it is refused", async () => {
  await withLogs(async (records) => {
    const clock = new FakeClock();
    const key = newKey();
    const store = await primedStore(clock, key);
    const raw = (await store.inner.read())!;
    // Someone appended the base64 key to the snapshot file.
    const tail = new TextEncoder().encode(`\n${btoa(latin1(key))}\n`);
    const joined = new Uint8Array(raw.length + tail.length);
    joined.set(raw);
    joined.set(tail, raw.length);
    await store.inner.write(joined);
    const { backend, cache } = secondInstance(clock, store, key);
    backend.fault = "down";
    await assert.rejects(cache.getSecret("broker/key"), SecretAccessError);
    assert.ok(records.some((r) => recordText(r).includes("beside it")));
    await cache.close();
  });
});

Deno.test("snapshot writes are coalesced, never made on a hit, and forget deleted secrets", async () => {
  const clock = new FakeClock();
  const key = newKey();
  const store = new CountingStore();
  const initial: Record<string, string> = {};
  for (let i = 0; i < 100; i++) initial[`s/${i}`] = `value-${i}-0000`;
  const cache = withCache(new MemorySecretManager({ initial }), {
    now: clock.now,
    snapshot: encryptedSnapshot({ store, key }),
  });
  await Promise.all(Object.keys(initial).map((n) => cache.getSecret(n)));
  await cache.whenIdle();
  assert.ok(store.writes >= 1 && store.writes <= 2, `${store.writes} writes`);
  const writes = store.writes;
  for (let i = 0; i < 100; i++) await cache.getSecret(`s/${i}`);
  await cache.whenIdle();
  assert.equal(store.writes, writes, "hits do not write");
  await cache.deleteSecret("s/0");
  await cache.close();
  // A restart during an outage does not bring s/0 back.
  const down = new FaultyManager(new MemorySecretManager());
  down.fault = "down";
  const next = withCache(down, { now: clock.now, snapshot: encryptedSnapshot({ store, key }) });
  await assert.rejects(next.getSecret("s/0"), SecretAccessError);
  assert.equal(await next.getSecret("s/1"), "value-1-0000");
  await next.close();
});

Deno.test("a failing snapshot store never fails a read", async () => {
  await withLogs(async (records) => {
    const store: SnapshotStore = {
      read: () => Promise.reject(new Error("disk gone")),
      write: () => Promise.reject(new Error("disk full")),
    };
    const backend = new FaultyManager(new MemorySecretManager({ initial: { a: CANARY } }));
    const cache = withCache(backend, { snapshot: encryptedSnapshot({ store, key: newKey() }) });
    assert.equal(await cache.getSecret("a"), CANARY);
    await cache.whenIdle();
    assert.ok(records.some((r) => r.level === "warning" && recordText(r).includes("written")));
    await cache.close();
  });
});

Deno.test("withCache() refuses a snapshot key that is not 32 random bytes", () => {
  const m = new MemorySecretManager();
  const store = new MemorySnapshotStore();
  assert.throws(
    () => withCache(m, { snapshot: encryptedSnapshot({ store, key: new Uint8Array(16) }) }),
    ConfigError,
  );
  assert.throws(
    () => withCache(m, { snapshot: encryptedSnapshot({ store, key: new Uint8Array(32) }) }),
    /repeated byte/,
  );
  assert.throws(
    () =>
      withCache(m, { snapshot: encryptedSnapshot({ store: {} as SnapshotStore, key: newKey() }) }),
    /snapshot.store/,
  );
});

Deno.test("withCache() refuses a snapshot option not built by encryptedSnapshot()", () => {
  const m = new MemorySecretManager();
  const plain = { store: new MemorySnapshotStore(), key: newKey() };
  assert.throws(
    // A plain { store, key } would keep nothing encrypted: it is refused, not used.
    () => withCache(m, { snapshot: plain as unknown as CacheSnapshot }),
    (err: unknown) => err instanceof ConfigError && /encryptedSnapshot/.test(err.message),
  );
});

Deno.test("encryptedSnapshot() restores what it saved into a new cache, once, and nothing before a save", async () => {
  const store = new CountingStore();
  const snapshot = encryptedSnapshot({ store, key: newKey() });
  const entries = [
    { name: "broker/key", value: CANARY, expiresAt: 1_000 },
    {
      name: "db/login",
      field: "password",
      stage: "previous" as const,
      value: FIELD_CANARY,
      expiresAt: 2_000,
    },
  ];
  const seeded: unknown[] = [];
  const host = {
    now: () => 500,
    entries: () => entries,
    seed: (e: unknown[]) => seeded.push(...e),
  };

  const empty = snapshot.attach(host);
  await empty.restore("unreachable");
  assert.deepEqual(seeded, [], "no snapshot yet");

  const writer = snapshot.attach(host);
  writer.changed();
  writer.changed();
  await writer.saving();
  assert.equal(writer.saving(), undefined);
  assert.equal(store.writes, 1, "changes in one burst make one save");
  const raw = latin1((await store.read())!);
  assert.ok(!raw.includes(CANARY) && !raw.includes(FIELD_CANARY), "the store sees ciphertext only");

  const reader = snapshot.attach(host);
  const reads = store.reads;
  await Promise.all([reader.restore("unreachable"), reader.restore("timeout")]);
  await reader.restore("unreachable");
  assert.equal(store.reads, reads + 1, "a cache reads the snapshot once");
  assert.deepEqual(seeded, entries);
});
