/**
 * Shared pieces of the rotation tests: an engine over any manager, a
 * service whose health answer reports the version bound to its client, and
 * log checks.
 */

import assert from "node:assert/strict";
import type { SecretManager } from "../../core/types.ts";
import type { RotationEvents } from "../../cache/rotation_events.ts";
import { RotationEngine, type RotationEngineOptions } from "../../rotation/engine.ts";
import { MemoryRotationLog } from "../../rotation/log_file.ts";
import { MemoryRotationLocks } from "../../rotation/lock_file.ts";
import { validatePolicy } from "../../rotation/policy.ts";
import { randomRotator } from "../../rotation/rotators/random.ts";
import { healthAnswer } from "../../rotation/health.ts";
import { readVersioned } from "../../rotation/_versions.ts";
import type { RotationLogEntry, RotationLogStore, Rotator } from "../../rotation/types.ts";

/** A policy document with one rule. */
export function oneRule(rule: Record<string, unknown>) {
  return validatePolicy({ rules: [rule] }, "test", {
    random: () => [],
    flaky: () => [],
  });
}

/** An engine with memory log and locks. */
export function testEngine(
  manager: SecretManager,
  extra: Partial<RotationEngineOptions> = {},
): { engine: RotationEngine; log: MemoryRotationLog; locks: MemoryRotationLocks } {
  const log = (extra.log as MemoryRotationLog | undefined) ?? new MemoryRotationLog();
  const locks = (extra.locks as MemoryRotationLocks | undefined) ?? new MemoryRotationLocks();
  const engine = new RotationEngine({
    rotatedBy: "tester",
    pollMs: 20,
    ...extra,
    manager,
    log,
    locks,
    rotators: { random: randomRotator, ...(extra.rotators ?? {}) },
  });
  return { engine, log, locks };
}

/**
 * A running service on 127.0.0.1: it reads the secret once at start and
 * keeps the version bound to its "client"; with `events` it re-reads on a
 * rotation event (what the cache does), without them it keeps the old one.
 */
export async function startService(
  manager: SecretManager,
  name: string,
  events?: RotationEvents,
): Promise<{ url: string; bound: () => string; close: () => Promise<void> }> {
  let bound = (await readVersioned(manager, name, { stage: "current" })).version;
  let unsubscribe: (() => Promise<void>) | undefined;
  if (events) {
    unsubscribe = await events.subscribe(async (names) => {
      if (names.includes(name)) {
        bound = (await readVersioned(manager, name, { stage: "current" })).version;
      }
    });
  }
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => Response.json(healthAnswer({ [name]: bound })),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/health`,
    bound: () => bound,
    close: async () => {
      await unsubscribe?.();
      await server.shutdown();
    },
  };
}

/** A rotator that fails its test while `failing` is true. */
export function flakyRotator(): Rotator & { failing: boolean } {
  const r = {
    ...randomRotator,
    name: "flaky",
    failing: true,
    test(_ctx: unknown, _pending: unknown) {
      return r.failing ? Promise.reject(new Error("provider said no")) : Promise.resolve();
    },
  };
  return r as Rotator & { failing: boolean };
}

/** Every step that started also ended (succeeded, failed), in the rows of one rotation. */
export function assertStepsClosed(rows: RotationLogEntry[]): void {
  const open = new Map<string, number>();
  for (const r of rows) {
    const key = `${r.rotationId}/${r.step}`;
    if (r.status === "started") open.set(key, (open.get(key) ?? 0) + 1);
    if (r.status === "succeeded" || r.status === "failed") {
      open.set(key, (open.get(key) ?? 0) - 1);
    }
  }
  for (const [key, n] of open) assert.ok(n <= 0, `step ${key} started but never ended`);
  for (const r of rows) assert.ok(r.rotatedBy.length > 0, "rotated_by is set");
}

/** The log rows as text, for canary scans. */
export async function logText(log: RotationLogStore): Promise<string> {
  return JSON.stringify(await log.entries());
}
