/**
 * How a rotation step reaches the audit trail through the wrappers around
 * the audited manager (cache, namespace, redaction, ...): each wrapper
 * answers {@linkcode ROTATION_RECORDER} with its inner manager's recorder
 * (the namespace wrapper prefixing the name; the factory's cache and the
 * CLI's redaction wrapper through {@linkcode exposeRotationRecorder}), so
 * {@linkcode rotationRecorderOf} finds the audited manager's
 * `recordRotation` whatever sits around it. Internal: not part of `mod.ts`.
 *
 * @module
 */

/** What one rotation step reports (the shape of the audit trail's `RotationAuditDetails`). */
export interface RotationStepRecord {
  /** How the step ended. */
  outcome?: "ok" | "not_found" | "denied" | "error";
  /** The version the step wrote or promoted. */
  version?: string;
  /** How long the step took, in milliseconds. */
  latencyMs?: number;
  /** The failure's code, when it failed. */
  errorCode?: string;
}

/** Records one rotation step of secret `name` in the audit trail. */
export type RotationRecorder = (name: string, details: RotationStepRecord) => void;

/**
 * The key under which a wrapper exposes the recorder of the manager it wraps.
 * Wrappers spell it as a literal getter name (`get "keyward.rotationRecorder"()`):
 * a computed class key would keep the class in bundles that never use it.
 */
export const ROTATION_RECORDER = "keyward.rotationRecorder";

/**
 * The audit trail's rotation recorder behind `manager`, or `undefined`
 * when no audited manager is inside: a wrapper's {@linkcode ROTATION_RECORDER},
 * else the manager's own `recordRotation` (an audited manager).
 */
export function rotationRecorderOf(manager: unknown): RotationRecorder | undefined {
  if (typeof manager !== "object" || manager === null) return undefined;
  const m = manager as {
    [ROTATION_RECORDER]?: RotationRecorder | undefined;
    recordRotation?: unknown;
  };
  if (ROTATION_RECORDER in m) return m[ROTATION_RECORDER];
  const record = m.recordRotation;
  if (typeof record !== "function") return undefined;
  return (name, details) => record.call(manager, name, details);
}

/**
 * Makes `wrapper` answer the rotation recorder of `inner` (what it wraps),
 * for wrappers whose class does not forward it itself: the factory's cache
 * (the cache class ships in edge bundles, which never rotate) and the CLI's
 * redaction wrapper (a public class).
 */
export function exposeRotationRecorder(wrapper: object, inner: object): void {
  Object.defineProperty(wrapper, ROTATION_RECORDER, {
    get: () => rotationRecorderOf(inner),
    configurable: true,
  });
}
