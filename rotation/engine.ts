/**
 * The rotation engine: one rotation = one rotation id; steps
 * `create_pending`, `set_at_provider`, `test_pending`, `promote`, `verify`,
 * then (after the grace period) `deprecate_previous` and `schedule_deletion`.
 * Every step is written to the log before and after it runs, and to the
 * audit trail when the manager is audited. Every step is safe to repeat, so
 * a rotation killed at any point is resumed after its last succeeded step.
 *
 * @module
 */

import { exitCodeFor, KeywardError, SecretConflictError } from "../core/errors.ts";
import { UnsupportedOperationError } from "../core/errors.ts";
import { validateName } from "../core/names.ts";
import type { SecretManager, SecretValue } from "../core/types.ts";
import type { RotationEvents } from "../cache/rotation_events.ts";
import { classifyError } from "../audit/audited_manager.ts";
import { EXIT } from "../cli/_exit.ts";
import type { RotationRecorder } from "../core/rotation_recorder.ts";
import { Redactor } from "../redact/redactor.ts";
import {
  defaultRule,
  type PolicyRule,
  type RestartHook,
  type RotationPolicy,
  ruleFor,
} from "./policy.ts";
import { reportedVersion } from "./health.ts";
import {
  deprecateVersion,
  destroyVersion,
  parseValue,
  readVersioned,
  valueStrings,
} from "./_versions.ts";
import {
  RotationLockedError,
  type RotationLocks,
  type RotationLogEntry,
  type RotationLogStore,
  type Rotator,
  type RotatorContext,
  RotatorError,
  RUN_STEPS,
  type StepName,
  type StepStatus,
} from "./types.ts";

const DAY_MS = 86_400_000;

/** Where a rotation stands, folded from its log rows. */
export type RotationPhase =
  | "running" // steps 1-5 not all done, not rolled back (interrupted, failed or running)
  | "scheduled" // verified; deprecation or deletion still to come
  | "completed"
  | "rolled_back";

/** One rotation as its log rows describe it. */
export interface RotationState {
  /** The rotation id. */
  id: string;
  /** The secret. */
  secretName: string;
  /** The rotator. */
  rotator: string;
  /** Who started it. */
  rotatedBy: string;
  /** When it started. */
  startedAt: Date;
  /** When its last row was written. */
  lastAt: Date;
  /** The version current when it started. */
  fromVersion?: string;
  /** The pending version it wrote. */
  pendingVersion?: string;
  /** The version `current` reported after promotion. */
  newVersion?: string;
  /** The grace period. */
  graceMs: number;
  /** Deprecation to deletion. */
  deleteAfterMs: number;
  /** The last status of each step. */
  steps: Partial<Record<StepName, StepStatus>>;
  /** When deprecation is due. */
  deprecateDueAt?: Date;
  /** When deletion is due. */
  deleteDueAt?: Date;
  /** When the previous version was deprecated. */
  oldKeyDeprecatedAt?: Date;
  /** Where it stands. */
  phase: RotationPhase;
}

/** Folds log rows (of one rotation, in order) into its state. */
export function foldRotation(rows: RotationLogEntry[]): RotationState | undefined {
  if (rows.length === 0) return undefined;
  const first = rows[0];
  const s: RotationState = {
    id: first.rotationId,
    secretName: first.secretName,
    rotator: first.rotator,
    rotatedBy: first.rotatedBy,
    startedAt: first.at,
    lastAt: first.at,
    graceMs: 7 * DAY_MS,
    deleteAfterMs: 30 * DAY_MS,
    steps: {},
    phase: "running",
  };
  for (const r of rows) {
    s.lastAt = r.at;
    s.steps[r.step] = r.status;
    if (r.fromVersion !== undefined && s.fromVersion === undefined) s.fromVersion = r.fromVersion;
    if (r.graceMs !== undefined) s.graceMs = r.graceMs;
    if (r.deleteAfterMs !== undefined) s.deleteAfterMs = r.deleteAfterMs;
    if (r.step === "create_pending" && r.status === "succeeded") s.pendingVersion = r.toVersion;
    if (r.step === "promote" && r.status === "succeeded") s.newVersion = r.toVersion;
    if (r.step === "deprecate_previous" && r.status === "scheduled") s.deprecateDueAt = r.dueAt;
    if (r.step === "schedule_deletion" && r.status === "scheduled") s.deleteDueAt = r.dueAt;
    if (r.oldKeyDeprecatedAt !== undefined) s.oldKeyDeprecatedAt = r.oldKeyDeprecatedAt;
  }
  const st = s.steps;
  if (st.rollback === "succeeded") s.phase = "rolled_back";
  else if (
    st.schedule_deletion === "succeeded" || st.schedule_deletion === "cancelled" ||
    st.schedule_deletion === "skipped"
  ) s.phase = "completed";
  else if (st.verify === "succeeded") s.phase = "scheduled";
  return s;
}

/** Groups rows by rotation and folds each, oldest rotation first. */
export function foldAll(rows: RotationLogEntry[]): RotationState[] {
  const byId = new Map<string, RotationLogEntry[]>();
  for (const r of rows) {
    const list = byId.get(r.rotationId);
    if (list) list.push(r);
    else byId.set(r.rotationId, [r]);
  }
  return [...byId.values()].map((r) => foldRotation(r)!).sort((a, b) =>
    a.startedAt.getTime() - b.startedAt.getTime()
  );
}

/** One step as it happened (what the CLI prints). */
export interface StepReport {
  /** The rotation. */
  rotationId: string;
  /** The secret. */
  secretName: string;
  /** The step. */
  step: StepName;
  /** How it ended. */
  outcome: StepStatus;
  /** How long it took. */
  durationMs: number;
  /** The version it wrote, promoted, deprecated or destroyed. */
  version?: string;
  /** When a scheduled step is due. */
  dueAt?: Date;
  /** A failure's code. */
  errorCode?: string;
  /** A note (never a value). */
  notes?: string;
}

/** How a rotation run ended. */
export type RotationOutcome =
  | "scheduled"
  | "completed"
  | "rolled_back"
  | "interrupted"
  | "failed"
  | "nothing_to_do";

/** What a run of the engine returns. */
export interface RotationResult {
  /** The rotation. */
  rotationId: string;
  /** The secret. */
  secretName: string;
  /** How it ended. */
  outcome: RotationOutcome;
  /** The steps run. */
  steps: StepReport[];
  /** The version current before. */
  fromVersion?: string;
  /** The version current after promotion. */
  newVersion?: string;
  /** Services whose health answer never showed the new version. */
  failedServices?: string[];
  /** The error that stopped it (`failed`). */
  error?: unknown;
  /** When deprecation is due. */
  deprecateDueAt?: Date;
  /** When deletion is due. */
  deleteDueAt?: Date;
}

/** The exit code of a result: 0, 8 rolled back, 130 interrupted, or the error's. */
export function exitCodeOf(result: RotationResult): number {
  switch (result.outcome) {
    case "rolled_back":
      return EXIT.rolled_back;
    case "interrupted":
      return EXIT.interrupted;
    case "failed":
      return result.error instanceof KeywardError
        ? exitCodeFor(result.error.code)
        : EXIT.unexpected;
    default:
      return 0;
  }
}

/** What a dry run would do. */
export interface RotationPlan {
  /** The secret. */
  secretName: string;
  /** The rotator. */
  rotator: string;
  /** The policy rule's prefix (`undefined` when none covers the name). */
  policyPrefix?: string;
  /** The backend. */
  backend: string;
  /** The current version. */
  currentVersion: string;
  /** The steps, in order. */
  steps: StepName[];
  /** Verify targets. */
  verify: { service: string; url: string; timeoutMs: number }[];
  /** Restart hooks (services only). */
  restart: string[];
  /** Grace period. */
  graceMs: number;
  /** Deprecation to deletion. */
  deleteAfterMs: number;
  /** Scheduled steps of earlier rotations this one would settle first. */
  settles: { rotationId: string; step: StepName; action: "run" | "cancel" | "keep" }[];
}

/** Runs a restart hook; returns its exit code and its output (stdout and stderr). */
export type HookRunner = (hook: RestartHook) => Promise<{ code: number; output: string }>;

/** What the engine is built with. */
export interface RotationEngineOptions {
  /** The secret manager (the backend, audited and cached as configured). */
  manager: SecretManager;
  /** The log. */
  log: RotationLogStore;
  /** The locks. */
  locks: RotationLocks;
  /** The rotators by name. */
  rotators: Record<string, Rotator>;
  /** The policy. */
  policy?: RotationPolicy;
  /** Who runs it (`--by`, else the OS user). */
  rotatedBy: string;
  /** Published after a promotion or a rollback (when the manager does not publish itself). */
  events?: RotationEvents;
  /** The audit trail's rotation recorder (an audited manager's `recordRotation`). */
  audit?: { recordRotation: RotationRecorder };
  /** Runs restart hooks (required when the policy has any). */
  runHook?: HookRunner;
  /** Receives the redacted output of each restart hook. */
  onHookOutput?: (service: string, code: number, output: string) => void;
  /** Called as each step ends. */
  onStep?: (report: StepReport) => void;
  /** Aborted: stop before the next step. */
  stop?: AbortSignal;
  /** Called after a step's outcome is logged (tests kill the process here). */
  afterStep?: (step: StepName, status: StepStatus) => void;
  /** The clock. */
  now?: () => Date;
  /** The HTTP client verify uses. */
  fetch?: typeof fetch;
  /** Verify's poll interval. @default {250} */
  pollMs?: number;
}

/** Options of a new rotation. */
export interface RotateOptions {
  /** Overrides the policy's rotator. */
  rotator?: string;
  /** Overrides the grace period. */
  graceMs?: number;
  /** Overrides deprecation-to-deletion. */
  deleteAfterMs?: number;
}

class Interrupted extends Error {}

class StepFailed extends Error {
  readonly original: unknown;
  constructor(original: unknown) {
    super("step failed");
    this.original = original;
  }
}

class VerifyFailed extends KeywardError {
  readonly services: string[];
  constructor(name: string, services: string[]) {
    super(
      "access",
      `verify: ${services.join(", ")} never reported the new version of ${JSON.stringify(name)}`,
      { secret: name },
    );
    this.services = services;
  }
}

/** The engine. */
export class RotationEngine {
  readonly #o: RotationEngineOptions;
  readonly #now: () => Date;

  /** Builds the engine. */
  constructor(options: RotationEngineOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  // ------------------------------------------------------------------ reads

  /** The state of one rotation, or `undefined`. */
  async state(rotationId: string): Promise<RotationState | undefined> {
    return foldRotation(await this.#o.log.entries({ rotationId }));
  }

  /** The rotations of one secret (or all), oldest first. */
  async rotations(secretName?: string): Promise<RotationState[]> {
    return foldAll(
      await this.#o.log.entries(secretName === undefined ? {} : { secretName }),
    );
  }

  /** The rule and rotator for a name. */
  resolve(
    name: string,
    override?: string,
  ): { rule: PolicyRule; rotator: Rotator; covered: boolean } {
    const found = this.#o.policy ? ruleFor(this.#o.policy, name) : undefined;
    let rule = found;
    if (override !== undefined) {
      rule = found ? { ...found, rotator: override } : defaultRule(override);
      if (found && found.rotator !== override) rule.options = {};
    }
    if (rule === undefined) {
      throw new UsageProblem(
        `no rotation policy rule covers ${
          JSON.stringify(name)
        }; add one to the policy or pass --rotator`,
      );
    }
    const rotator = Object.hasOwn(this.#o.rotators, rule.rotator)
      ? this.#o.rotators[rule.rotator]
      : undefined;
    if (rotator === undefined) {
      throw new UsageProblem(
        `unknown rotator ${JSON.stringify(rule.rotator.slice(0, 40))}; choose one of: ${
          Object.keys(this.#o.rotators).join(", ")
        }`,
      );
    }
    if (override !== undefined && rotator.validateOptions) {
      const problems = rotator.validateOptions(rule.options);
      if (problems.length > 0) {
        throw new UsageProblem(
          `rotator ${rotator.name}: ${problems.map((p) => p.join(": ")).join("; ")}`,
        );
      }
    }
    return { rule, rotator, covered: found !== undefined };
  }

  async #checkRotatable(name: string): Promise<{ backend: string; current: string }> {
    validateName(name);
    const meta = await this.#o.manager.describeSecret(name);
    if (meta.backend === "env") {
      throw new UnsupportedOperationError("rotation", {
        backend: "env",
        secret: name,
      }, "the env backend keeps one version only; rotate in a backend that keeps versions");
    }
    const current = meta.versions.find((v) => v.stages.includes("current"));
    if (current === undefined) {
      throw new UnsupportedOperationError(
        "rotation",
        { backend: meta.backend, secret: name },
        "no current version",
      );
    }
    return { backend: meta.backend, current: current.version };
  }

  /** What `rotate` would do; reads only. */
  async plan(name: string, opts: RotateOptions = {}): Promise<RotationPlan> {
    const { rule, rotator, covered } = this.resolve(name, opts.rotator);
    const { backend, current } = await this.#checkRotatable(name);
    const settles: RotationPlan["settles"] = [];
    const now = this.#now().getTime();
    for (const s of await this.rotations(name)) {
      if (s.phase !== "scheduled") continue;
      for (const step of ["deprecate_previous", "schedule_deletion"] as const) {
        if (s.steps[step] !== "scheduled") continue;
        const due = (step === "deprecate_previous" ? s.deprecateDueAt : s.deleteDueAt)?.getTime() ??
          0;
        settles.push({
          rotationId: s.id,
          step,
          action: due <= now ? "run" : (await this.#reusedByNext(s)) ? "cancel" : "keep",
        });
      }
    }
    return {
      secretName: name,
      rotator: rotator.name,
      ...(covered ? { policyPrefix: rule.prefix } : {}),
      backend,
      currentVersion: current,
      steps: [...RUN_STEPS, "deprecate_previous", "schedule_deletion"],
      verify: rule.verify,
      restart: rule.restart.map((h) => h.service),
      graceMs: opts.graceMs ?? rule.graceDays * DAY_MS,
      deleteAfterMs: opts.deleteAfterMs ?? rule.deleteAfterDays * DAY_MS,
      settles,
    };
  }

  // ------------------------------------------------------------------ rotate

  /**
   * Starts a rotation of `name`: checks everything it can before writing,
   * takes the lock, settles earlier rotations' scheduled steps, runs steps
   * 1-5 and schedules 6-7 (running them at once when due at once).
   */
  async rotate(name: string, opts: RotateOptions = {}): Promise<RotationResult> {
    const { rule, rotator } = this.resolve(name, opts.rotator);
    await this.#checkRotatable(name);
    if (rule.restart.length > 0 && this.#o.runHook === undefined) {
      throw new UsageProblem("the policy has restart hooks but no hook runner is available");
    }
    const graceMs = opts.graceMs ?? rule.graceDays * DAY_MS;
    const deleteAfterMs = opts.deleteAfterMs ?? rule.deleteAfterDays * DAY_MS;
    const id = crypto.randomUUID();
    const current = await readVersioned(this.#o.manager, name, { stage: "current" });
    const ctx: RotatorContext = {
      name,
      current: parseValue(current.value),
      options: rule.options,
      manager: this.#o.manager,
    };
    // Input and admin checks: a refusal here writes nothing.
    await rotatorPrepare(rotator, ctx);
    const lock = await this.#o.locks.acquire(name, id);
    try {
      const unfinished = (await this.rotations(name)).find((s) => s.phase === "running");
      if (unfinished !== undefined) {
        throw new RotationLockedError(
          name,
          unfinished.id,
          "it did not finish: resume or roll it back first",
        );
      }
      const result: RotationResult = {
        rotationId: id,
        secretName: name,
        outcome: "scheduled",
        steps: [],
        fromVersion: current.version,
      };
      const base: RotationState = {
        id,
        secretName: name,
        rotator: rotator.name,
        rotatedBy: this.#o.rotatedBy,
        startedAt: this.#now(),
        lastAt: this.#now(),
        fromVersion: current.version,
        graceMs,
        deleteAfterMs,
        steps: {},
        phase: "running",
      };
      await this.#settle(name, result);
      return await this.#drive(base, rotator, rule, result);
    } finally {
      await lock.release();
    }
  }

  /** Continues a rotation after its last succeeded step. */
  async resume(rotationId: string): Promise<RotationResult> {
    const s = await this.state(rotationId);
    if (s === undefined) throw new RotationNotFound(rotationId);
    const { rule, rotator } = this.resolve(s.secretName, s.rotator);
    const result: RotationResult = {
      rotationId,
      secretName: s.secretName,
      outcome: "nothing_to_do",
      steps: [],
      ...(s.fromVersion ? { fromVersion: s.fromVersion } : {}),
    };
    if (s.phase === "rolled_back" || s.phase === "completed") return result;
    if (s.steps.create_pending !== "succeeded") {
      // The new credential was never stored: gather it again (operator input).
      const cur = await readVersioned(this.#o.manager, s.secretName, { stage: "current" });
      await rotatorPrepare(rotator, {
        name: s.secretName,
        current: parseValue(cur.value),
        options: rule.options,
        manager: this.#o.manager,
      });
    }
    const lock = await this.#o.locks.acquire(s.secretName, rotationId);
    try {
      result.outcome = "scheduled";
      return await this.#drive(s, rotator, rule, result);
    } finally {
      await lock.release();
    }
  }

  /** Runs every scheduled step whose time has come (all secrets, or one). */
  async finish(secretName?: string): Promise<RotationResult[]> {
    const out: RotationResult[] = [];
    const now = this.#now().getTime();
    for (const s of await this.rotations(secretName)) {
      if (s.phase !== "scheduled") continue;
      if (!this.#anyDue(s, now)) continue;
      const result: RotationResult = {
        rotationId: s.id,
        secretName: s.secretName,
        outcome: "scheduled",
        steps: [],
      };
      let lock;
      let rotator: Rotator;
      try {
        // One rotation's problem (a rotator the policy no longer configures,
        // a lock held elsewhere) must not stop the others.
        rotator = this.resolve(s.secretName, s.rotator).rotator;
        lock = await this.#o.locks.acquire(s.secretName, s.id);
      } catch (err) {
        result.outcome = "failed";
        result.error = err;
        out.push(result);
        continue;
      }
      try {
        await this.#runDue(s, rotator, result);
      } catch (err) {
        if (!(err instanceof StepFailed)) throw err;
        result.outcome = "failed";
        result.error = err.original;
      } finally {
        await lock.release();
      }
      out.push(result);
    }
    return out;
  }

  /**
   * Rolls a rotation back: before promotion the pending version is
   * discarded; after it the previous version is made current again. Refused
   * once the previous version was deprecated (disabled at the provider).
   */
  async rollback(rotationId: string): Promise<RotationResult> {
    const s = await this.state(rotationId);
    if (s === undefined) throw new RotationNotFound(rotationId);
    const result: RotationResult = {
      rotationId,
      secretName: s.secretName,
      outcome: "rolled_back",
      steps: [],
      // The summary names the version that is current again.
      ...(s.fromVersion ? { fromVersion: s.fromVersion } : {}),
    };
    if (s.phase === "rolled_back") {
      result.outcome = "nothing_to_do";
      return result;
    }
    if (s.steps.deprecate_previous === "succeeded" || s.phase === "completed") {
      throw new SecretConflictError(
        { secret: s.secretName },
        "the previous version was already deprecated at the provider; rotate again instead of rolling back",
      );
    }
    const lock = await this.#o.locks.acquire(s.secretName, rotationId);
    try {
      await this.#rollback(s, result, "requested");
    } catch (err) {
      if (!(err instanceof StepFailed)) throw err;
      result.outcome = "failed";
      result.error = err.original;
    } finally {
      await lock.release();
    }
    return result;
  }

  /** Secrets covered by the policy with the age of their current version. */
  async due(): Promise<DueReport[]> {
    const policy = this.#o.policy;
    if (!policy) return [];
    const out: DueReport[] = [];
    const names = await this.#o.manager.listSecrets();
    const now = this.#now().getTime();
    for (const name of names) {
      const rule = ruleFor(policy, name);
      if (!rule) continue;
      const meta = await this.#o.manager.describeSecret(name);
      const cur = meta.versions.find((v) => v.stages.includes("current"));
      if (!cur) continue;
      const ageDays = (now - cur.createdAt.getTime()) / DAY_MS;
      const daysLeft = rule.maxAgeDays - ageDays;
      out.push({
        secretName: name,
        rotator: rule.rotator,
        currentVersion: cur.version,
        currentSince: cur.createdAt,
        maxAgeDays: rule.maxAgeDays,
        ageDays: Math.round(ageDays * 10) / 10,
        daysLeft: Math.round(daysLeft * 10) / 10,
        overdue: daysLeft < 0,
      });
    }
    return out;
  }

  // ------------------------------------------------------------- internals

  async #drive(
    s: RotationState,
    rotator: Rotator,
    rule: PolicyRule,
    result: RotationResult,
  ): Promise<RotationResult> {
    const name = s.secretName;
    const ctxOf = async (): Promise<RotatorContext> => {
      const cur = await readVersioned(this.#o.manager, name, { stage: "current" });
      return {
        name,
        current: parseValue(cur.value),
        options: rule.options,
        manager: this.#o.manager,
      };
    };
    const pendingValue = async (): Promise<SecretValue> => {
      if (s.pendingVersion === undefined) {
        throw new SecretConflictError({ secret: name }, "the rotation has no pending version");
      }
      const p = await readVersioned(this.#o.manager, name, { version: s.pendingVersion });
      return parseValue(p.value);
    };
    const done = (step: StepName) => s.steps[step] === "succeeded";
    try {
      if (!done("create_pending")) {
        await this.#step(s, "create_pending", result, async () => {
          const ctx = await ctxOf();
          const value = await rotator.generate(ctx);
          const written = await this.#o.manager.setSecret(name, value, { stage: "pending" });
          s.pendingVersion = written.version;
          return { toVersion: written.version };
        });
      }
      if (!done("set_at_provider")) {
        await this.#step(s, "set_at_provider", result, async () => {
          await rotator.setAtProvider(await ctxOf(), await pendingValue());
          return { toVersion: s.pendingVersion };
        });
      }
      if (!done("test_pending")) {
        await this.#step(s, "test_pending", result, async () => {
          await rotator.test(await ctxOf(), await pendingValue());
          return { toVersion: s.pendingVersion };
        });
      }
      if (!done("promote")) {
        const resumed = s.steps.promote !== undefined;
        await this.#step(s, "promote", result, async () => {
          const pending = await pendingValue().catch(() => undefined);
          let cur = await readVersioned(this.#o.manager, name, { stage: "current" });
          if (cur.version === s.fromVersion) {
            await this.#o.manager.promote(name, s.pendingVersion!);
            cur = await readVersioned(this.#o.manager, name, { stage: "current" });
          } else if (!resumed) {
            throw new SecretConflictError(
              { secret: name },
              "the current version changed since the rotation started; roll back and rotate again",
            );
          }
          s.newVersion = cur.version;
          await this.#publish(name);
          const previous = await readVersioned(this.#o.manager, name, { version: s.fromVersion! })
            .then((r) => valueStrings(parseValue(r.value)), () => []);
          const hooks = await this.#runHooks(name, rule, [
            ...(pending ? valueStrings(pending) : []),
            ...valueStrings(parseValue(cur.value)),
            ...previous,
          ]);
          if (hooks.failed.length > 0) {
            throw new KeywardError(
              "write",
              `promoted, but the restart hook of ${hooks.failed.join(", ")} failed`,
              { secret: name },
            );
          }
          return {
            toVersion: cur.version,
            ...(hooks.ran.length ? { notes: `restarted: ${hooks.ran.join(", ")}` } : {}),
          };
        });
      }
      if (!done("verify")) {
        try {
          await this.#step(s, "verify", result, async () => {
            await this.#verify(name, s.newVersion!, rule);
            return { toVersion: s.newVersion };
          });
        } catch (err) {
          if (err instanceof StepFailed && err.original instanceof VerifyFailed) {
            result.failedServices = err.original.services;
            await this.#rollback(s, result, "verify failed");
            result.outcome = "rolled_back";
            return this.#finishResult(s, result);
          }
          throw err;
        }
      }
      if (s.steps.deprecate_previous === undefined) {
        // Written once verify succeeded (again on a resume that stopped in between).
        const at = this.#now();
        s.deprecateDueAt = new Date(at.getTime() + s.graceMs);
        s.deleteDueAt = new Date(s.deprecateDueAt.getTime() + s.deleteAfterMs);
        await this.#record(s, "deprecate_previous", "scheduled", result, {
          dueAt: s.deprecateDueAt,
        });
        await this.#record(s, "schedule_deletion", "scheduled", result, {
          dueAt: s.deleteDueAt,
          scheduledDeletionAt: s.deleteDueAt,
        });
        s.phase = "scheduled";
      }
      await this.#runDue(s, rotator, result);
    } catch (err) {
      if (err instanceof Interrupted) {
        result.outcome = "interrupted";
      } else if (err instanceof StepFailed) {
        result.outcome = "failed";
        result.error = err.original;
      } else throw err;
    }
    return this.#finishResult(s, result);
  }

  #finishResult(s: RotationState, result: RotationResult): RotationResult {
    if (s.newVersion) result.newVersion = s.newVersion;
    if (s.fromVersion) result.fromVersion = s.fromVersion;
    if (result.outcome === "scheduled") {
      if (s.steps.schedule_deletion === "succeeded" || s.steps.schedule_deletion === "cancelled") {
        result.outcome = "completed";
      } else {
        if (s.deprecateDueAt && s.steps.deprecate_previous === "scheduled") {
          result.deprecateDueAt = s.deprecateDueAt;
        }
        if (s.deleteDueAt) result.deleteDueAt = s.deleteDueAt;
      }
    }
    return result;
  }

  #anyDue(s: RotationState, now: number): boolean {
    return (s.steps.deprecate_previous === "scheduled" &&
      (s.deprecateDueAt?.getTime() ?? 0) <= now) ||
      (s.steps.schedule_deletion === "scheduled" && s.steps.deprecate_previous !== "scheduled" &&
        (s.deleteDueAt?.getTime() ?? 0) <= now);
  }

  async #runDue(s: RotationState, rotator: Rotator, result: RotationResult): Promise<void> {
    const name = s.secretName;
    const now = () => this.#now().getTime();
    const old = s.fromVersion!;
    if (
      s.steps.deprecate_previous !== undefined &&
      s.steps.deprecate_previous !== "succeeded" && s.steps.deprecate_previous !== "cancelled" &&
      (s.deprecateDueAt?.getTime() ?? 0) <= now()
    ) {
      const cur = await readVersioned(this.#o.manager, name, { stage: "current" });
      if (cur.version === old) {
        await this.#cancel(s, result, "the previous version is current again");
        return;
      }
      await this.#step(s, "deprecate_previous", result, async () => {
        const oldValue = parseValue(
          (await readVersioned(this.#o.manager, name, { version: old })).value,
        );
        const note = await rotator.disableOld(
          {
            name,
            current: parseValue(cur.value),
            options: this.#optionsFor(s),
            manager: this.#o.manager,
          },
          oldValue,
        );
        const marked = await deprecateVersion(this.#o.manager, name, old);
        const at = this.#now();
        s.oldKeyDeprecatedAt = at;
        const notes = [note, marked ? undefined : "the backend cannot mark versions deprecated"]
          .filter(Boolean).join("; ");
        return { toVersion: old, oldKeyDeprecatedAt: at, ...(notes ? { notes } : {}) };
      });
    }
    if (
      s.steps.deprecate_previous === "succeeded" &&
      s.steps.schedule_deletion !== "succeeded" && s.steps.schedule_deletion !== "cancelled" &&
      (s.deleteDueAt?.getTime() ?? 0) <= now()
    ) {
      await this.#step(s, "schedule_deletion", result, async () => {
        const cur = await readVersioned(this.#o.manager, name, { stage: "current" });
        if (cur.version === old) {
          throw new SecretConflictError(
            { secret: name, version: old },
            "refusing to destroy the version that is current",
          );
        }
        const meta = await this.#o.manager.describeSecret(name);
        const destroyed = await destroyVersion(this.#o.manager, name, old);
        const at = this.#now();
        const notes = !destroyed
          ? "the backend cannot destroy one version; nothing was destroyed"
          : meta.backend === "aws"
          ? "every staging label removed; AWS deletes the unlabelled version itself"
          : undefined;
        return { toVersion: old, scheduledDeletionAt: at, ...(notes ? { notes } : {}) };
      });
    }
  }

  #optionsFor(s: RotationState): Record<string, unknown> {
    const rule = this.#o.policy ? ruleFor(this.#o.policy, s.secretName) : undefined;
    return rule && rule.rotator === s.rotator ? rule.options : {};
  }

  async #cancel(s: RotationState, result: RotationResult, why: string): Promise<void> {
    for (const step of ["deprecate_previous", "schedule_deletion"] as const) {
      const st = s.steps[step];
      if (st === "succeeded" || st === "cancelled" || st === undefined) continue;
      await this.#record(s, step, "cancelled", result, { notes: why });
    }
  }

  async #reusedByNext(s: RotationState): Promise<boolean> {
    const rotator = this.#o.rotators[s.rotator];
    if (!rotator?.conflicts || !s.fromVersion) return false;
    try {
      const old = await readVersioned(this.#o.manager, s.secretName, { version: s.fromVersion });
      const cur = await readVersioned(this.#o.manager, s.secretName, { stage: "current" });
      return rotator.conflicts(parseValue(old.value), parseValue(cur.value));
    } catch {
      return false;
    }
  }

  /** Before a new rotation: earlier rotations' due steps run; unsafe ones are cancelled. */
  async #settle(name: string, result: RotationResult): Promise<void> {
    const now = this.#now().getTime();
    for (const s of await this.rotations(name)) {
      if (s.phase !== "scheduled") continue;
      const rotator = this.#o.rotators[s.rotator];
      if (rotator === undefined) continue;
      const sub: RotationResult = {
        rotationId: s.id,
        secretName: name,
        outcome: "scheduled",
        steps: [],
      };
      if (this.#anyDue(s, now)) await this.#runDue(s, rotator, sub);
      if (
        s.steps.deprecate_previous === "scheduled" && await this.#reusedByNext(s)
      ) {
        await this.#cancel(
          s,
          sub,
          `cancelled before a new rotation reuses what it would disable`,
        );
      }
      result.steps.push(...sub.steps);
    }
  }

  async #rollback(s: RotationState, result: RotationResult, why: string): Promise<void> {
    const name = s.secretName;
    await this.#step(s, "rollback", result, async () => {
      const cur = await readVersioned(this.#o.manager, name, { stage: "current" });
      const promoted = s.steps.promote !== undefined && cur.version !== s.fromVersion;
      if (promoted) {
        await this.#o.manager.promote(name, s.fromVersion!);
        await this.#publish(name);
      } else if (s.pendingVersion !== undefined) {
        // Discard the pending version (a backend that cannot destroy one keeps
        // it until the next rotation replaces it).
        await destroyVersion(this.#o.manager, name, s.pendingVersion).catch(() => false);
      }
      await this.#cancel(s, result, "rolled back");
      const back = await readVersioned(this.#o.manager, name, { stage: "current" });
      return {
        toVersion: back.version,
        notes: `${why}; ${
          promoted ? "previous version current again" : "pending version discarded"
        }`,
      };
    }, false);
    s.phase = "rolled_back";
  }

  async #publish(name: string): Promise<void> {
    if (this.#o.events) await this.#o.events.publish([name]);
  }

  async #runHooks(
    name: string,
    rule: PolicyRule,
    values: string[],
  ): Promise<{ ran: string[]; failed: string[] }> {
    const ran: string[] = [];
    const failed: string[] = [];
    if (rule.restart.length === 0) return { ran, failed };
    const redactor = new Redactor();
    for (const v of values) redactor.register(name, v);
    for (const hook of rule.restart) {
      let code: number;
      let output: string;
      try {
        ({ code, output } = await this.#o.runHook!(hook));
      } catch (err) {
        code = -1;
        const name = (err as Error).name;
        output = name === "NotCapable" || name === "PermissionDenied"
          ? "could not start: no permission to run programs (run it with --allow-run, as deno task rotate and deno task secrets do)"
          : `could not start: ${name}`;
      }
      // Redact values, then anything short the redactor skipped.
      let text = redactor.redact(output);
      for (const v of values) if (v.length > 0) text = text.split(v).join("[REDACTED]");
      this.#o.onHookOutput?.(hook.service, code, text);
      (code === 0 ? ran : failed).push(hook.service);
    }
    return { ran, failed };
  }

  async #verify(name: string, version: string, rule: PolicyRule): Promise<void> {
    const fetcher = this.#o.fetch ?? fetch;
    const poll = this.#o.pollMs ?? 250;
    const failed: string[] = [];
    await Promise.all(rule.verify.map(async (target) => {
      const deadline = Date.now() + target.timeoutMs;
      for (;;) {
        try {
          const left = Math.max(1, deadline - Date.now());
          const res = await fetcher(target.url, {
            signal: AbortSignal.timeout(Math.min(5_000, left)),
            headers: { accept: "application/json" },
          });
          const body = res.ok ? await res.json().catch(() => undefined) : await res.body?.cancel();
          if (reportedVersion(body, name) === version) return;
        } catch {
          // unreachable or slow: keep polling until the deadline
        }
        if (Date.now() >= deadline) {
          failed.push(target.service);
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(poll, Math.max(0, deadline - Date.now()))));
      }
    }));
    if (failed.length > 0) throw new VerifyFailed(name, failed.sort());
  }

  async #record(
    s: RotationState,
    step: StepName,
    status: StepStatus,
    result: RotationResult | undefined,
    extra: Partial<RotationLogEntry> = {},
  ): Promise<void> {
    const entry: RotationLogEntry = {
      rotationId: s.id,
      secretName: s.secretName,
      step,
      status,
      at: this.#now(),
      rotatedBy: this.#o.rotatedBy,
      rotator: s.rotator,
      ...(s.fromVersion ? { fromVersion: s.fromVersion } : {}),
      graceMs: s.graceMs,
      deleteAfterMs: s.deleteAfterMs,
      ...extra,
    };
    await this.#o.log.append(entry);
    s.steps[step] = status;
    if (status !== "started") {
      const report: StepReport = {
        rotationId: s.id,
        secretName: s.secretName,
        step,
        outcome: status,
        durationMs: extra.durationMs ?? 0,
        ...(entry.toVersion ? { version: entry.toVersion } : {}),
        ...(entry.dueAt ? { dueAt: entry.dueAt } : {}),
        ...(entry.errorCode ? { errorCode: entry.errorCode } : {}),
        ...(entry.notes ? { notes: entry.notes } : {}),
      };
      result?.steps.push(report);
      this.#o.onStep?.(report);
    }
  }

  async #step(
    s: RotationState,
    step: StepName,
    result: RotationResult,
    fn: () => Promise<Partial<RotationLogEntry>>,
    interruptible = true,
  ): Promise<void> {
    if (interruptible && this.#o.stop?.aborted) throw new Interrupted();
    await this.#record(s, step, "started", undefined);
    const t0 = performance.now();
    let extra: Partial<RotationLogEntry>;
    try {
      extra = await fn();
    } catch (err) {
      const durationMs = Math.round(performance.now() - t0);
      const errorCode = err instanceof VerifyFailed
        ? "verify_timeout"
        : err instanceof RotatorError
        ? err.reason
        : classifyError(err).errorCode;
      await this.#record(s, step, "failed", result, {
        durationMs,
        errorCode,
        ...(err instanceof VerifyFailed ? { notes: `services: ${err.services.join(", ")}` } : {}),
      });
      this.#audit(s.secretName, step, "error", durationMs, undefined, errorCode);
      this.#o.afterStep?.(step, "failed");
      throw new StepFailed(err);
    }
    const durationMs = Math.round(performance.now() - t0);
    await this.#record(s, step, "succeeded", result, { ...extra, durationMs });
    this.#audit(s.secretName, step, "ok", durationMs, extra.toVersion);
    this.#o.afterStep?.(step, "succeeded");
  }

  #audit(
    name: string,
    step: StepName,
    outcome: "ok" | "error",
    latencyMs: number,
    version?: string,
    errorCode?: string,
  ): void {
    const a = this.#o.audit;
    if (!a) return;
    try {
      a.recordRotation(name, {
        outcome,
        latencyMs,
        ...(version ? { version } : {}),
        // The audit row has no step column: the step travels in the error code.
        errorCode: errorCode ? `${step}:${errorCode}` : step,
      });
    } catch {
      // the audit trail reports its own failures
    }
  }
}

/** A secret's age against its policy. */
export interface DueReport {
  /** The secret. */
  secretName: string;
  /** Its rotator. */
  rotator: string;
  /** The current version. */
  currentVersion: string;
  /** When the current version was written. */
  currentSince: Date;
  /** The policy's maximum age. */
  maxAgeDays: number;
  /** The current version's age. */
  ageDays: number;
  /** Days until overdue (negative: overdue by). */
  daysLeft: number;
  /** Older than `maxAgeDays`. */
  overdue: boolean;
}

/** A rotation id the log does not know (exit 3). */
export class RotationNotFound extends KeywardError {
  /** Builds the error. */
  constructor(id: string) {
    super(
      "not_found",
      `no rotation ${/^[0-9a-f-]{36}$/i.test(id) ? id : "with that id"} in the rotation log`,
    );
  }
}

/** A problem with the command line or the policy's choice (exit 2). */
export class UsageProblem extends KeywardError {
  /** Builds the error. */
  constructor(message: string) {
    super("config", message);
  }
}

async function rotatorPrepare(rotator: Rotator, ctx: RotatorContext): Promise<void> {
  if (typeof rotator.prepare === "function") await rotator.prepare(ctx);
}
