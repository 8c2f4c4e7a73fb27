import assert from "node:assert/strict";
import { withAudit } from "../../audit/audited_manager.ts";
import { JsonLinesAuditSink } from "../../audit/jsonl_sink.ts";
import type { AuditEvent } from "../../audit/types.ts";
import { MemorySecretManager } from "../../backends/memory.ts";
import { withCache } from "../../cache/cached_manager.ts";
import { FaultyManager } from "../../testing/faults.ts";
import { RecordingAuditSink } from "../../testing/recording_sink.ts";
import { runCanary } from "../../testing/canary.ts";
import { testKey } from "./_fixtures.ts";

const EVENT_KEYS = [
  "accessedAtMs",
  "action",
  "backend",
  "count",
  "errorCode",
  "latencyMs",
  "outcome",
  "secretName",
  "service",
  "source",
  "version",
];

Deno.test("withAudit() records one event per call with action, outcome, source, backend and version", async () => {
  const sink = new RecordingAuditSink();
  const now = Date.UTC(2026, 10, 29, 9, 30, 0);
  const a = withAudit(new MemorySecretManager(), sink, { service: "billing", now: () => now });
  const v1 = await a.setSecret("db/password", "first-value-abc");
  const v2 = await a.setSecret("db/password", "second-value-abc", { stage: "pending" });
  await a.getSecret("db/password", { version: v1.version });
  await a.listSecrets("db/");
  await a.describeSecret("db/password");
  await a.promote("db/password", v2.version);
  await a.deleteSecret("db/password");
  a.recordRotation("db/password", { version: v2.version, latencyMs: 12.5 });
  assert.deepEqual(
    sink.events.map((e) => [e.action, e.outcome, e.source, e.secretName, e.version]),
    [
      ["set", "ok", "backend", "db/password", v1.version],
      ["set", "ok", "backend", "db/password", v2.version],
      ["get", "ok", "backend", "db/password", v1.version],
      ["list", "ok", "backend", "db/", null],
      ["describe", "ok", "backend", "db/password", null],
      ["promote", "ok", "backend", "db/password", v2.version],
      ["delete", "ok", "backend", "db/password", null],
      ["rotate", "ok", "backend", "db/password", v2.version],
    ],
  );
  for (const e of sink.events) {
    assert.deepEqual(Object.keys(e).sort(), EVENT_KEYS);
    assert.equal(e.service, "billing");
    assert.equal(e.backend, "memory");
    assert.equal(e.accessedAtMs, now);
    assert.equal(e.count, 1);
    assert.ok(e.latencyMs >= 0);
  }
});

Deno.test("withAudit() maps failures to outcomes and error codes, and rethrows them unchanged", async () => {
  const sink = new RecordingAuditSink();
  const faulty = new FaultyManager(new MemorySecretManager({ initial: { "a/b": "value-abcdef" } }));
  const a = withAudit(faulty, sink, { service: "api", backend: "vault" });
  const outcomes: [string, string | null][] = [];
  const expectFail = async (p: Promise<unknown>) => {
    await assert.rejects(p);
    const e = sink.events.at(-1)!;
    outcomes.push([e.outcome, e.errorCode]);
  };
  await expectFail(a.getSecret("a/missing"));
  faulty.fault = "deny";
  await expectFail(a.getSecret("a/b"));
  faulty.fault = "down";
  await expectFail(a.getSecret("a/b"));
  faulty.fault = "throttle";
  await expectFail(a.listSecrets());
  faulty.fault = "none";
  await expectFail(a.setSecret("a/b", "value-xyz123", { ifVersion: "99" }));
  await expectFail(a.getSecret("bad//name"));
  await expectFail(a.deleteSecret("a/b", { recoveryDays: 7 }));
  const ctl = new AbortController();
  ctl.abort(new DOMException("stop", "AbortError"));
  await expectFail(a.describeSecret("a/b", { signal: ctl.signal }));
  await expectFail(a.getSecret("a/b", { field: "nope" }));
  assert.deepEqual(outcomes, [
    ["not_found", "not_found"],
    ["denied", "access:denied"],
    ["error", "access:unreachable"],
    ["error", "access:throttled"],
    ["error", "conflict"],
    ["error", "invalid_name"],
    ["error", "unsupported"],
    ["error", "aborted"],
    ["not_found", "not_found"],
  ]);
  assert.ok(sink.events.every((e) => e.backend === "vault"));
});

Deno.test("recordServe() counts cache serves per secret, source and minute and writes one event each", async () => {
  const sink = new RecordingAuditSink();
  let now = Date.UTC(2026, 10, 29, 10, 0, 5);
  const a = withAudit(new MemorySecretManager(), sink, { service: "api", now: () => now });
  for (let i = 0; i < 1000; i++) a.recordServe({ name: "a/b", source: "cache" });
  for (let i = 0; i < 3; i++) a.recordServe({ name: "a/b", source: "stale" });
  a.recordServe({ name: "a/c", source: "cache", stage: "pending" });
  assert.equal(sink.events.length, 0, "counting writes nothing");
  now += 60_000; // the next audited call of a later minute writes the counts first
  await a.getSecret("a/missing").catch(() => {});
  const minute = Date.UTC(2026, 10, 29, 10, 0, 0);
  assert.deepEqual(
    sink.events.map((e) => [e.secretName, e.source, e.count, e.accessedAtMs, e.action]),
    [
      ["a/b", "cache", 1000, minute, "get"],
      ["a/c", "cache", 1, minute, "get"],
      ["a/b", "stale", 3, minute, "get"],
      ["a/missing", "backend", 1, now, "get"],
    ],
  );
  a.recordServe({ name: "a/b", source: "cache" });
  await a.flush();
  assert.deepEqual(sink.events.at(-1)!.count, 1);
  assert.equal(sink.events.at(-1)!.accessedAtMs, minute + 60_000);
  a.recordServe({ name: "a/d", source: "cache" });
  await a.close();
  assert.equal(sink.events.at(-1)!.secretName, "a/d");
  assert.equal(sink.closed, true);
});

Deno.test("recordServe() counts are written by a timer when their minute ends, without another call", async () => {
  const sink = new RecordingAuditSink();
  const now = Date.UTC(2026, 10, 29, 10, 0, 59, 970); // 30 ms before the minute ends
  const a = withAudit(new MemorySecretManager(), sink, { service: "api", now: () => now });
  a.recordServe({ name: "a/b", source: "cache" });
  a.recordServe({ name: "a/b", source: "cache" });
  assert.equal(sink.events.length, 0);
  for (let i = 0; i < 100 && sink.events.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.deepEqual(sink.events.map((e) => [e.secretName, e.count, e.accessedAtMs]), [
    ["a/b", 2, Date.UTC(2026, 10, 29, 10, 0, 0)],
  ]);
  await a.close();
});

Deno.test("cache hits of the real withCache are aggregated through recordServe, misses are backend events", async () => {
  const sink = new RecordingAuditSink();
  let now = Date.UTC(2026, 10, 29, 11, 0, 0);
  const faulty = new FaultyManager(new MemorySecretManager({ initial: { "a/b": "value-abcdef" } }));
  const audited = withAudit(faulty, sink, { service: "api", now: () => now, backend: "memory" });
  const cached = withCache(audited, {
    onServe: audited.recordServe,
    now: () => now,
    ttlMs: 1_000,
    staleIfErrorMs: 600_000,
  });
  for (let i = 0; i < 500; i++) await cached.getSecret("a/b");
  now += 5_000; // expired
  faulty.fault = "down";
  await cached.getSecret("a/b"); // stale serve after a failed refresh
  faulty.fault = "none";
  await cached.close();
  const backend = sink.find({ source: "backend" });
  assert.deepEqual(backend.map((e) => [e.outcome, e.errorCode]), [
    ["ok", null],
    ["error", "access:unreachable"],
  ]);
  const hits = sink.find({ source: "cache" });
  assert.equal(hits.length, 1);
  assert.equal(hits[0].count, 499);
  assert.deepEqual(sink.find({ source: "stale" }).map((e) => e.count), [1]);
  assert.equal(faulty.calls.get, 2);
});

Deno.test("a sink that throws never breaks a read", async () => {
  const a = withAudit(
    new MemorySecretManager({ initial: { "a/b": "value-abcdef" } }),
    {
      record() {
        throw new Error("sink broke");
      },
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    },
    { service: "api" },
  );
  assert.equal(await a.getSecret("a/b"), "value-abcdef");
  assert.throws(() =>
    withAudit(new MemorySecretManager(), new RecordingAuditSink(), { service: "" })
  );
});

Deno.test("canary: no audit event or sealed line holds a value, over every action and every error path", async () => {
  const sink = new RecordingAuditSink();
  let lines = "";
  const jsonl = new JsonLinesAuditSink(
    new WritableStream({ write: (c) => void (lines += new TextDecoder().decode(c)) }),
    { key: testKey() },
  );
  const both = {
    record: (e: AuditEvent) => (sink.record(e), jsonl.record(e)),
    flush: () => jsonl.flush(),
    close: () => jsonl.close(),
  };
  const inner = new FaultyManager(new MemorySecretManager());
  const audited = withAudit(inner, both, { service: "canary-svc" });
  const cached = withCache(audited, { onServe: audited.recordServe, staleIfErrorMs: 600_000 });
  let eventsBeforeClose = 0;
  const report = await runCanary(async ({ canary, recordError }) => {
    const n = canary.name;
    const v = canary.value;
    const tryIt = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        recordError(err);
      }
    };
    const v1 = await cached.setSecret(n, v);
    await cached.getSecret(n);
    await cached.getSecret(n); // cache hit
    await cached.getSecret(n, { forceFetch: true });
    const pending = await cached.setSecret(n, { value: v, other: `${v}-2` }, { stage: "pending" });
    await cached.getSecret(n, { stage: "pending", field: "other" });
    await cached.listSecrets("canary/");
    await cached.describeSecret(n);
    await cached.promote(n, pending.version);
    await cached.getSecret(n, { version: v1.version });
    audited.recordRotation(n, { version: pending.version });
    // error paths
    await tryIt(cached.setSecret(n, `${v}-3`, { ifVersion: "999" }));
    await tryIt(cached.setSecret(n, v.repeat(70_000 / v.length + 1)));
    await tryIt(cached.setSecret("canary//bad-name", v));
    await tryIt(cached.getSecret(n, { field: "no_such_field" }));
    await tryIt(cached.getSecret(n, { stage: "pending" }));
    await tryIt(cached.deleteSecret(n, { recoveryDays: 7 }));
    for (const fault of ["deny", "down", "throttle", "timeout"] as const) {
      inner.fault = fault;
      await tryIt(cached.getSecret(n, { forceFetch: true }));
      await tryIt(cached.setSecret(n, `${v}-${fault}`));
    }
    inner.fault = "none";
    await cached.deleteSecret(n);
    await tryIt(cached.getSecret(n, { forceFetch: true }));
    await cached.close();
    eventsBeforeClose = sink.events.length;
    await tryIt(audited.getSecret(n)); // recorded, but the closed JSON-lines sink drops it
  }, { manager: new MemorySecretManager(), audit: sink, name: "canary/audit-leak-1" });
  assert.ok(report.audit.length >= 25, `every call was recorded (${report.audit.length})`);
  assert.ok(sink.find({ source: "cache" }).length >= 1, "cache serves were recorded");
  assert.equal(lines.split("\n").filter(Boolean).length, eventsBeforeClose);
  assert.equal(sink.events.at(-1)!.errorCode, "closed");
  assert.ok(!lines.includes(report.canary.value), "no sealed JSON line holds the value");
  for (const e of sink.events) assert.deepEqual(Object.keys(e).sort(), EVENT_KEYS);
  for (const e of sink.events) {
    assert.ok(
      e.errorCode === null || /^[a-z_]+(:[a-z_]+)?$/.test(e.errorCode),
      `error codes are labels: ${e.errorCode}`,
    );
  }
});
