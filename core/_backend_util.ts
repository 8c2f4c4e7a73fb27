/**
 * Small helpers every backend shares: the closed-manager guard, abort checks
 * and the not-found warning the seed asks for.
 *
 * @module
 */

import type { KeywardLogger as Logger } from "./log.ts";
import { KeywardError, ManagerClosedError, SecretNotFoundError } from "./errors.ts";

/** Throws {@linkcode ManagerClosedError} when `closed`. */
export function assertOpen(closed: boolean, backend: string): void {
  if (closed) throw new ManagerClosedError(backend);
}

/** Throws the signal's reason when it is already aborted. */
export function checkSignal(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}

/** Logs a warning naming the missing secret (never a value) and returns `err` for rethrowing. */
export function warnIfNotFound(logger: Logger, err: unknown): unknown {
  if (err instanceof SecretNotFoundError) {
    logger.warn("Secret {secret} not found (stage {stage}, version {version}, field {field})", {
      secret: err.secret,
      stage: err.stage ?? null,
      version: err.version ?? null,
      field: err.field ?? null,
      backend: err.backend ?? null,
    });
  }
  return err;
}

/** True when `err` is a keyward error with one of `codes`. */
export function hasCode(err: unknown, ...codes: string[]): err is KeywardError {
  return err instanceof KeywardError && codes.includes(err.code);
}
