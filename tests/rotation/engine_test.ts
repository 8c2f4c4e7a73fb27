import assert from "node:assert/strict";
import { MemorySecretManager } from "../../backends/memory.ts";
import { InMemoryRotationEvents } from "../../cache/rotation_events.ts";
import { SecretConflictError, SecretNotFoundError } from "../../core/errors.ts";
import { exitCodeOf } from "../../rotation/engine.ts";
import { RotationLockedError } from "../../rotation/types.ts";
import { RecordingAuditSink } from "../../testing/recording_sink.ts";
import { withAudit } from "../../audit/audited_manager.ts";
import {
  assertStepsClosed,
  flakyRotator,
  logText,
  oneRule,
  startService,
  testEngine,
} from "./_helpers.ts";

const NAME = "webhooks/signing";
const CANARY = "canary-whsec-7f3a9c1e5b2d";

Deno.test("a full random rotation: new current, old previous, every step logged, no value", async () => {
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const sink = new RecordingAuditSink();
  const audited = withAudit(manager, sink, { service: "rotator" });
  const { engine, log } = testEngine(audited, {
    policy: oneRule({ prefix: "webhooks/", rotator: "random", options: { length: 40 } }),
    audit: audited,
  });
  const steps: string[] = [];
  const result = await engine.rotate(NAME);
  for (const s of result.steps) steps.push(`${s.step}:${s.outcome}`);
  assert.equal(result.outcome, "scheduled");
  assert.equal(exitCodeOf(result), 0);
  assert.deepEqual(steps, [
    "create_pending:succeeded",
    "set_at_provider:succeeded",
    "test_pending:succeeded",
    "promote:succeeded",
    "verify:succeeded",
    "deprecate_previous:scheduled",
    "schedule_deletion:scheduled",
  ]);
  const current = await manager.getSecret(NAME);
  assert.equal(current.length, 40);
  assert.notEqual(current, CANARY);
  assert.equal(await manager.getSecret(NAME, { stage: "previous" }), CANARY);
  const rows = await log.entries();
  assertStepsClosed(rows);
  assert.ok(rows.every((r) => r.rotatedBy === "tester" && r.rotationId === result.rotationId));
  const text = await logText(log);
  assert.ok(!text.includes(CANARY) && !text.includes(current), "no value in the log");
  await audited.close();
  const audit = sink.find({ action: "rotate" });
  assert.equal(audit.length, 5, "one audit event per finished step");
  assert.ok(!JSON.stringify(sink.events).includes(current));
  assert.ok(!JSON.stringify(sink.events).includes(CANARY));
});

Deno.test("grace 0s deprecates and destroys the previous version at once", async () => {
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const { engine } = testEngine(manager);
  const result = await engine.rotate(NAME, { rotator: "random", graceMs: 0, deleteAfterMs: 0 });
  assert.equal(result.outcome, "completed");
  const tail = result.steps.slice(-2).map((s) => `${s.step}:${s.outcome}`);
  assert.deepEqual(tail, ["deprecate_previous:succeeded", "schedule_deletion:succeeded"]);
});

Deno.test("verify waits for a service that follows rotation events", async () => {
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const events = new InMemoryRotationEvents();
  const service = await startService(manager, NAME, events);
  try {
    const { engine } = testEngine(manager, {
      events,
      policy: oneRule({
        prefix: "webhooks/",
        rotator: "random",
        verify: [{ service: "api", url: service.url, timeoutSeconds: 5 }],
      }),
    });
    const result = await engine.rotate(NAME);
    assert.equal(result.outcome, "scheduled");
    assert.equal(service.bound(), result.newVersion);
  } finally {
    await service.close();
  }
});

Deno.test("a service that ignores rotation events keeps the old credential: verify fails, rollback, exit 8", async () => {
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const events = new InMemoryRotationEvents();
  const follower = await startService(manager, NAME, events);
  const stubborn = await startService(manager, NAME); // never re-reads
  try {
    const { engine, log } = testEngine(manager, {
      events,
      policy: oneRule({
        prefix: "webhooks/",
        rotator: "random",
        verify: [
          { service: "api", url: follower.url, timeoutSeconds: 2 },
          { service: "worker", url: stubborn.url, timeoutSeconds: 0.3 },
        ],
      }),
    });
    const result = await engine.rotate(NAME);
    assert.equal(result.outcome, "rolled_back");
    assert.equal(exitCodeOf(result), 8);
    assert.deepEqual(result.failedServices, ["worker"]);
    assert.equal(await manager.getSecret(NAME), CANARY, "the old value is current again");
    const rows = await log.entries();
    assert.ok(rows.some((r) => r.step === "verify" && r.status === "failed"));
    assert.ok(rows.some((r) => r.step === "rollback" && r.status === "succeeded"));
    assertStepsClosed(rows);
    // The follower was told about the rollback too.
    assert.equal(follower.bound(), stubborn.bound());
    assert.equal((await engine.state(result.rotationId))?.phase, "rolled_back");
  } finally {
    await follower.close();
    await stubborn.close();
  }
});

Deno.test("a second rotation of a secret while one holds the lock is refused with its id", async () => {
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const { engine, locks } = testEngine(manager);
  const held = await locks.acquire(NAME, "11111111-2222-3333-4444-555555555555");
  await assert.rejects(
    () => engine.rotate(NAME, { rotator: "random" }),
    (err: unknown) =>
      err instanceof RotationLockedError &&
      err.runningId === "11111111-2222-3333-4444-555555555555" && err.code === "conflict",
  );
  assert.deepEqual((await manager.describeSecret(NAME)).versions.length, 1, "nothing written");
  await held.release();
});

Deno.test("a failed step stops the rotation; resume continues after the last succeeded step", async () => {
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const flaky = flakyRotator();
  const { engine, log } = testEngine(manager, { rotators: { flaky } });
  const first = await engine.rotate(NAME, { rotator: "flaky" });
  assert.equal(first.outcome, "failed");
  assert.notEqual(exitCodeOf(first), 0);
  assert.equal(await manager.getSecret(NAME), CANARY, "current untouched");
  // A new rotation is refused until this one is resumed or rolled back.
  await assert.rejects(() => engine.rotate(NAME, { rotator: "flaky" }), RotationLockedError);
  flaky.failing = false;
  const resumed = await engine.resume(first.rotationId);
  assert.equal(resumed.outcome, "scheduled");
  assert.deepEqual(resumed.steps.slice(0, 3).map((s) => s.step), [
    "test_pending",
    "promote",
    "verify",
  ]);
  const rows = await log.entries({ rotationId: first.rotationId });
  assert.equal(rows.filter((r) => r.step === "create_pending" && r.status === "started").length, 1);
  assertStepsClosed(rows);
  assert.equal(await manager.getSecret(NAME, { stage: "previous" }), CANARY);
});

Deno.test("rollback before promotion discards pending; after promotion restores previous", async () => {
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const flaky = flakyRotator();
  const { engine } = testEngine(manager, { rotators: { flaky } });
  const failed = await engine.rotate(NAME, { rotator: "flaky" });
  const back = await engine.rollback(failed.rotationId);
  assert.equal(back.outcome, "rolled_back");
  assert.equal(await manager.getSecret(NAME), CANARY);
  const again = await engine.rollback(failed.rotationId);
  assert.equal(again.outcome, "nothing_to_do");

  const ok = await engine.rotate(NAME, { rotator: "random" });
  assert.notEqual(await manager.getSecret(NAME), CANARY);
  const undone = await engine.rollback(ok.rotationId);
  assert.equal(undone.outcome, "rolled_back");
  assert.equal(await manager.getSecret(NAME), CANARY);
  const state = await engine.state(ok.rotationId);
  assert.equal(state?.steps.deprecate_previous, "cancelled", "no deprecation after a rollback");
});

Deno.test("deprecate_previous is refused (cancelled) when the previous version is current again", async () => {
  let now = Date.parse("2026-01-01T00:00:00Z");
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const { engine } = testEngine(manager, { now: () => new Date(now) });
  const r = await engine.rotate(NAME, { rotator: "random" });
  await manager.promote(NAME, r.fromVersion!); // someone rolled back by hand
  now += 8 * 86_400_000;
  const [done] = await engine.finish();
  assert.deepEqual(done.steps.map((s) => `${s.step}:${s.outcome}`), [
    "deprecate_previous:cancelled",
    "schedule_deletion:cancelled",
  ]);
  assert.equal(await manager.getSecret(NAME), CANARY);
});

Deno.test("finish runs deprecation after the grace period and deletion after delete-after", async () => {
  let now = Date.parse("2026-01-01T00:00:00Z");
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const { engine } = testEngine(manager, { now: () => new Date(now) });
  const r = await engine.rotate(NAME, { rotator: "random" });
  assert.deepEqual(await engine.finish(), [], "nothing due inside the grace period");
  now += 7 * 86_400_000;
  const [dep] = await engine.finish();
  assert.deepEqual(dep.steps.map((s) => s.step), ["deprecate_previous"]);
  assert.equal(dep.steps[0].version, r.fromVersion, "by version id");
  now += 30 * 86_400_000;
  const [del] = await engine.finish();
  assert.deepEqual(del.steps.map((s) => s.step), ["schedule_deletion"]);
  assert.equal((await engine.state(r.rotationId))?.phase, "completed");
});

Deno.test("bad input writes nothing: invalid name, missing secret, unknown rotator, no rule", async () => {
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const { engine, log } = testEngine(manager);
  await assert.rejects(() => engine.rotate("../etc", { rotator: "random" }), /invalid secret name/);
  await assert.rejects(
    () => engine.rotate("missing/secret", { rotator: "random" }),
    SecretNotFoundError,
  );
  await assert.rejects(() => engine.rotate(NAME, { rotator: "nope" }), /unknown rotator/);
  await assert.rejects(() => engine.rotate(NAME), /no rotation policy rule covers/);
  assert.equal((await log.entries()).length, 0);
  assert.equal((await manager.describeSecret(NAME)).versions.length, 1);
  await assert.rejects(() => engine.resume("00000000-0000-0000-0000-000000000000"), /no rotation/);
  await assert.rejects(
    () => engine.rollback("00000000-0000-0000-0000-000000000000"),
    (e: unknown) => (e as { code?: string }).code === "not_found",
  );
});

Deno.test("a rollback after deprecation is refused", async () => {
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const { engine } = testEngine(manager);
  const r = await engine.rotate(NAME, { rotator: "random", graceMs: 0, deleteAfterMs: 0 });
  await assert.rejects(() => engine.rollback(r.rotationId), SecretConflictError);
});

Deno.test("an interrupted rotation stops before the next step and resumes", async () => {
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const stop = new AbortController();
  const log = new (await import("../../rotation/log_file.ts")).MemoryRotationLog();
  const { engine } = testEngine(manager, {
    log,
    stop: stop.signal,
    afterStep: (step) => {
      if (step === "test_pending") stop.abort();
    },
  });
  const r = await engine.rotate(NAME, { rotator: "random" });
  assert.equal(r.outcome, "interrupted");
  assert.equal(exitCodeOf(r), 130);
  assert.equal(await manager.getSecret(NAME), CANARY);
  const { engine: again } = testEngine(manager, { log });
  const done = await again.resume(r.rotationId);
  assert.equal(done.outcome, "scheduled");
  assert.equal(done.steps[0].step, "promote");
});

Deno.test("a new rotation first runs the previous rotation's due steps", async () => {
  let now = Date.parse("2026-01-01T00:00:00Z");
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const { engine } = testEngine(manager, { now: () => new Date(now) });
  const first = await engine.rotate(NAME, { rotator: "random" });
  now += 8 * 86_400_000; // past the grace, and nobody ran `rotation finish`
  const second = await engine.rotate(NAME, { rotator: "random" });
  assert.deepEqual(second.steps.slice(0, 2).map((s) => `${s.rotationId}:${s.step}:${s.outcome}`), [
    `${first.rotationId}:deprecate_previous:succeeded`,
    `${second.rotationId}:create_pending:succeeded`,
  ]);
  const meta = await manager.describeSecret(NAME);
  const v1 = meta.versions.find((v) => v.version === first.fromVersion);
  assert.ok(v1?.deprecatedAt instanceof Date, "marked deprecated by version id");
});

Deno.test("restart hooks run after promotion, one per service; their output is captured and redacted", async () => {
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const outputs: string[] = [];
  const ran: string[] = [];
  const { engine } = testEngine(manager, {
    policy: oneRule({
      prefix: "webhooks/",
      rotator: "random",
      restart: [
        { service: "api", command: ["restart-api"] },
        { service: "worker", command: ["restart-worker"] },
      ],
    }),
    runHook: async (hook) => {
      ran.push(hook.service);
      const now = await manager.getSecret(NAME);
      return { code: 0, output: `restarted with ${now}; old was ${CANARY}\n` };
    },
    onHookOutput: (service, code, output) => outputs.push(`${service}:${code}:${output}`),
  });
  const r = await engine.rotate(NAME);
  assert.equal(r.outcome, "scheduled");
  assert.deepEqual(ran, ["api", "worker"]);
  const current = await manager.getSecret(NAME);
  for (const o of outputs) {
    assert.ok(!o.includes(current) && !o.includes(CANARY), o);
    assert.match(o, /restarted with \[REDACTED[^\]]*\]; old was \[REDACTED[^\]]*\]/);
  }
  const promote = r.steps.find((s) => s.step === "promote");
  assert.equal(promote?.notes, "restarted: api, worker");
});

Deno.test("a failing restart hook fails promote; resume or rollback is offered", async () => {
  const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  const { engine } = testEngine(manager, {
    policy: oneRule({
      prefix: "webhooks/",
      rotator: "random",
      restart: [{ service: "worker", command: ["false"] }],
    }),
    runHook: () => Promise.resolve({ code: 1, output: "" }),
  });
  const r = await engine.rotate(NAME);
  assert.equal(r.outcome, "failed");
  assert.match((r.error as Error).message, /restart hook of worker failed/);
  const back = await engine.rollback(r.rotationId);
  assert.equal(back.outcome, "rolled_back");
  assert.equal(await manager.getSecret(NAME), CANARY);
});
