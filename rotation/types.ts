/**
 * The rotation engine's vocabulary: steps, log entries, rotators, stores and locks.
 *
 * @module
 */

import { KeywardError } from "../core/errors.ts";
import type { SecretManager, SecretValue } from "../core/types.ts";

/** The steps of one rotation, in order, plus `rollback`. */
export type StepName =
  | "create_pending"
  | "set_at_provider"
  | "test_pending"
  | "promote"
  | "verify"
  | "deprecate_previous"
  | "schedule_deletion"
  | "rollback";

/** Steps 1-5, run by `rotate`. */
export const RUN_STEPS: readonly StepName[] = [
  "create_pending",
  "set_at_provider",
  "test_pending",
  "promote",
  "verify",
];

/** Steps 6-7, scheduled after verify and run by `rotation finish`. */
export const SCHEDULED_STEPS: readonly StepName[] = ["deprecate_previous", "schedule_deletion"];

/** Every step name a log row may carry. */
export const STEP_NAMES: readonly StepName[] = [...RUN_STEPS, ...SCHEDULED_STEPS, "rollback"];

/**
 * What a log row says about its step. `scheduled` rows carry `dueAt`;
 * `cancelled` marks a scheduled step a later rotation made unsafe.
 */
export type StepStatus =
  | "started"
  | "succeeded"
  | "failed"
  | "skipped"
  | "scheduled"
  | "cancelled"
  | "rolled_back";

/**
 * One row of the rotation log. Every field is a name, an id, a date, a
 * number or a short code: none can hold a secret value.
 */
export interface RotationLogEntry {
  /** The rotation's id (a UUID). */
  rotationId: string;
  /** The secret's name. */
  secretName: string;
  /** The step. */
  step: StepName;
  /** What happened. */
  status: StepStatus;
  /** When the row was written. */
  at: Date;
  /** Who ran it (`--by`, else the OS user). */
  rotatedBy: string;
  /** The rotator's name. */
  rotator: string;
  /** The version that was current when the rotation started. */
  fromVersion?: string;
  /** The version the rotation wrote (pending id, then the id `current` reports). */
  toVersion?: string;
  /** For `scheduled` rows: when the step is due. */
  dueAt?: Date;
  /** When the previous version was deprecated (`deprecate_previous` succeeded). */
  oldKeyDeprecatedAt?: Date;
  /** When the deprecated version is (or was) destroyed. */
  scheduledDeletionAt?: Date;
  /** How long the step took. */
  durationMs?: number;
  /** The grace period chosen for this rotation. */
  graceMs?: number;
  /** The wait between deprecation and deletion chosen for this rotation. */
  deleteAfterMs?: number;
  /** A failure's error code (`access:timeout`, `verify_timeout`, ...). */
  errorCode?: string;
  /** A short note built by keyward: service names, instructions; never a value. */
  notes?: string;
}

/** Where rotation log rows go: a JSON-lines file or `secret_rotation_log`. */
export interface RotationLogStore {
  /** Appends one row. */
  append(entry: RotationLogEntry): Promise<void>;
  /** The rows of one rotation or one secret (or all), oldest first. */
  entries(filter?: { rotationId?: string; secretName?: string }): Promise<RotationLogEntry[]>;
  /** Releases resources. */
  close(): Promise<void>;
}

/** A held lock; `release()` is safe to call twice. */
export interface RotationLock {
  /** Releases the lock. */
  release(): Promise<void>;
}

/** One rotation per secret at a time. */
export interface RotationLocks {
  /**
   * Takes the lock of `secretName` for `rotationId`, or throws
   * {@linkcode RotationLockedError} naming the rotation that holds it.
   */
  acquire(secretName: string, rotationId: string): Promise<RotationLock>;
  /** Releases resources. */
  close(): Promise<void>;
}

/** A second rotation of a secret while one runs (exit code 5). */
export class RotationLockedError extends KeywardError {
  /** The id of the rotation holding the lock, when known. */
  readonly runningId: string | undefined;
  /** Builds the error. */
  constructor(secretName: string, runningId: string | undefined, detail = "") {
    super(
      "conflict",
      `secret ${JSON.stringify(secretName)} is being rotated` +
        (runningId ? ` by rotation ${runningId}` : "") + (detail ? ` (${detail})` : "") +
        "; wait for it to end, or resume it if it was interrupted",
      { secret: secretName },
    );
    this.runningId = runningId;
  }
}

/** What a rotator sees: the secret, its current value and version, its options. */
export interface RotatorContext {
  /** The secret's name. */
  name: string;
  /** The current value (fields parsed when it is a field secret). */
  current: SecretValue;
  /** The rotator's options from the policy. */
  options: Record<string, unknown>;
  /** The secret manager (for provider credentials such as an admin login). */
  manager?: SecretManager;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * One kind of credential: how a new one comes to be, how the provider
 * learns it, how it is proven, how the old one is disabled. Every method
 * must be safe to repeat (a resumed rotation repeats the step it was in).
 */
export interface Rotator {
  /** The rotator's name in the policy (`random`, `postgres-password`, `alpaca`). */
  readonly name: string;
  /** Checks the options; returns problems as `[path, message]` (path relative to `options`). */
  validateOptions?(options: Record<string, unknown>): [string, string][];
  /**
   * Runs before anything is written: reads operator input, checks the
   * provider's admin login. A refusal here leaves no trace.
   */
  prepare?(ctx: RotatorContext): Promise<void>;
  /** Produces (or receives) the new credential. */
  generate(ctx: RotatorContext): Promise<SecretValue>;
  /** Teaches the provider the new credential while the old one stays valid. */
  setAtProvider(ctx: RotatorContext, pending: SecretValue): Promise<void>;
  /** Proves the new credential works at the provider (a real call). */
  test(ctx: RotatorContext, pending: SecretValue): Promise<void>;
  /**
   * Disables the old credential at the provider. `current` is what is
   * current now; a rotator refuses to disable anything `current` uses.
   * Returns a note for the log and the operator (an instruction), if any.
   */
  disableOld(ctx: RotatorContext, old: SecretValue): Promise<string | undefined>;
  /**
   * Whether disabling `old` would disable something `next` (the credential a
   * new rotation is about to use) relies on: a later rotation then cancels
   * the scheduled deprecation instead of running it.
   */
  conflicts?(old: SecretValue, next: SecretValue): boolean;
}

/** A rotator step failed for a reason worth showing (never a value). */
export class RotatorError extends KeywardError {
  /** A short code for the log (`account_mismatch`, `login_refused`, ...). */
  readonly reason: string;
  /** Builds the error; `message` must hold no value. */
  constructor(reason: string, message: string, secret?: string) {
    super("access", message, secret === undefined ? {} : { secret });
    this.reason = reason;
  }
}
