/**
 * keyward's errors: one base class with a stable `code`, one subclass per
 * condition a caller can act on. No error carries a value, a token or a raw
 * response body; `cause` is kept in a scrubbed form.
 *
 * @module
 */

import type { Stage } from "./types.ts";
import { invalidNamePlaceholder, nameProblem } from "./_name_rules.ts";

/**
 * The stable codes of {@linkcode KeywardError}.
 *
 * @example Deciding what to do from the code alone
 * ```ts
 * import { type ErrorCode, KeywardError, MemorySecretManager } from "@keyward/secrets";
 *
 * const retryable = (code: ErrorCode): boolean => code === "access" || code === "conflict";
 * try {
 *   await new MemorySecretManager().getSecret("db/password");
 * } catch (err) {
 *   if (!(err instanceof KeywardError) || retryable(err.code)) throw err;
 * }
 * ```
 */
export type ErrorCode =
  | "not_found"
  | "access"
  | "write"
  | "conflict"
  | "invalid_name"
  | "invalid_value"
  | "config"
  | "unsupported"
  | "closed";

/**
 * Where an error happened: names only, never values.
 *
 * @example The context is part of the message and of the error's fields
 * ```ts
 * import { type ErrorContext, SecretNotFoundError } from "@keyward/secrets";
 *
 * const context: ErrorContext = { secret: "db/password", stage: "pending", backend: "memory" };
 * const err = new SecretNotFoundError(context);
 * if (!err.message.includes('"db/password"') || !err.message.includes("stage pending")) {
 *   throw new Error(err.message);
 * }
 * if (err.secret !== "db/password" || err.stage !== "pending") throw new Error();
 * ```
 */
export interface ErrorContext {
  /** The secret's name. */
  secret?: string;
  /** The stage asked for. */
  stage?: Stage;
  /** The version asked for. */
  version?: string;
  /** The field asked for. */
  field?: string;
  /** The backend's short name. */
  backend?: string;
  /** The original error; it is scrubbed before it is kept. */
  cause?: unknown;
}

/**
 * The base of every error keyward throws.
 *
 * @example Acting on the code
 * ```ts
 * import { KeywardError, MemorySecretManager } from "@keyward/secrets";
 *
 * try {
 *   await new MemorySecretManager().getSecret("missing/name");
 * } catch (err) {
 *   if (!(err instanceof KeywardError) || err.code !== "not_found") throw err;
 * }
 * ```
 */
export class KeywardError extends Error {
  /** The stable code of this condition. */
  readonly code: ErrorCode;
  /**
   * The secret's name, when there is one. A name that breaks the naming
   * rules is never kept: it is replaced by its length, as in
   * `(invalid name, 41 characters)`, since it may be a value pasted by mistake.
   */
  readonly secret?: string;
  /** The stage asked for. */
  readonly stage?: Stage;
  /** The version asked for. */
  readonly version?: string;
  /** The field asked for. */
  readonly field?: string;
  /** The backend's short name. */
  readonly backend?: string;

  /** Builds an error; `message` must hold no value. */
  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(
      message,
      context.cause === undefined ? undefined : { cause: scrubCause(context.cause) },
    );
    this.name = new.target.name;
    this.code = code;
    if (context.secret !== undefined) this.secret = shownName(context.secret);
    for (const key of ["stage", "version", "field", "backend"] as const) {
      if (context[key] !== undefined) (this as Record<string, unknown>)[key] = context[key];
    }
  }
}

/**
 * The secret, stage, version or field does not exist.
 *
 * @example
 * ```ts
 * import { SecretNotFoundError } from "@keyward/secrets";
 * const err = new SecretNotFoundError({ secret: "db/password", stage: "pending", backend: "memory" });
 * if (err.code !== "not_found") throw new Error();
 * ```
 */
export class SecretNotFoundError extends KeywardError {
  /** Builds the error from its context. */
  constructor(context: ErrorContext, detail?: string) {
    super("not_found", describe("not found", context, detail), context);
  }
}

/**
 * The backend could not be reached, refused access, or kept throttling.
 *
 * @example
 * ```ts
 * import { SecretAccessError } from "@keyward/secrets";
 * const err = new SecretAccessError({ secret: "db/password", backend: "vault" }, "permission denied");
 * if (err.code !== "access") throw new Error();
 * ```
 */
export class SecretAccessError extends KeywardError {
  /** Why access failed, as a short word: `unreachable`, `denied`, `throttled`, `timeout`, `damaged`, `key`. */
  readonly reason: AccessReason;
  /** Builds the error from its context. */
  constructor(context: ErrorContext, detail: string, reason: AccessReason = "unreachable") {
    super("access", describe("cannot be accessed", context, detail), context);
    this.reason = reason;
  }
}

/**
 * Why a {@linkcode SecretAccessError} happened.
 *
 * @example
 * ```ts
 * import { type AccessReason, SecretAccessError } from "@keyward/secrets";
 *
 * const transient: AccessReason[] = ["unreachable", "throttled", "timeout"];
 * const worthRetrying = (r: AccessReason) => transient.includes(r);
 * const err = new SecretAccessError({ secret: "db/password", backend: "vault" }, "403", "denied");
 * if (worthRetrying(err.reason)) throw new Error("a denial does not go away by retrying");
 * ```
 */
export type AccessReason =
  | "unreachable"
  | "denied"
  | "throttled"
  | "timeout"
  | "damaged"
  | "key";

/**
 * A write failed at the backend.
 *
 * @example
 * ```ts
 * import { SecretWriteError } from "@keyward/secrets";
 * const err = new SecretWriteError({ secret: "db/password", backend: "file" }, "disk full");
 * if (err.code !== "write") throw new Error();
 * ```
 */
export class SecretWriteError extends KeywardError {
  /** Builds the error from its context. */
  constructor(context: ErrorContext, detail: string) {
    super("write", describe("could not be written", context, detail), context);
  }
}

/**
 * `ifVersion` did not match the current version, or a concurrent writer won.
 *
 * @example
 * ```ts
 * import { SecretConflictError } from "@keyward/secrets";
 * const err = new SecretConflictError({ secret: "db/password", version: "3", backend: "memory" }, "current is 4");
 * if (err.code !== "conflict") throw new Error();
 * ```
 */
export class SecretConflictError extends KeywardError {
  /** Builds the error from its context. */
  constructor(context: ErrorContext, detail?: string) {
    super("conflict", describe("changed concurrently", context, detail), context);
  }
}

/**
 * A name breaks the naming rules; raised before any I/O. The message states
 * the rule, the length and the position, never the name itself (it may be a
 * value pasted by mistake), and {@linkcode KeywardError.secret} holds a
 * placeholder such as `(invalid name, 41 characters)`, which is also what an
 * audit record of the refusal shows.
 *
 * @example
 * ```ts
 * import { InvalidSecretNameError } from "@keyward/secrets";
 * const err = new InvalidSecretNameError("pw:Hunter2-example", "position 3 holds another character");
 * if (err.code !== "invalid_name") throw new Error();
 * if (err.message.includes("Hunter2") || err.secret !== "(invalid name, 18 characters)") {
 *   throw new Error(err.message);
 * }
 * ```
 */
export class InvalidSecretNameError extends KeywardError {
  /** `(invalid name, N characters)`: the refused name is never kept. */
  declare readonly secret: string;
  /** Builds the error; `name` is measured, never kept or shown. */
  constructor(name: unknown, detail: string, context: ErrorContext = {}) {
    const shown = invalidNamePlaceholder(name);
    super("invalid_name", `invalid secret name (${shown.slice(15)}: ${detail}`, {
      ...context,
      secret: undefined,
    });
    (this as { secret: string }).secret = shown;
  }
}

/**
 * A value breaks the value rules; raised before any I/O. The message says
 * why, never what the value was.
 *
 * @example
 * ```ts
 * import { InvalidSecretValueError } from "@keyward/secrets";
 * const err = new InvalidSecretValueError({ secret: "db/password" }, "value is empty");
 * if (err.code !== "invalid_value") throw new Error();
 * ```
 */
export class InvalidSecretValueError extends KeywardError {
  /** Builds the error from its context. */
  constructor(context: ErrorContext, detail: string) {
    super("invalid_value", describe("has an invalid value", context, detail), context);
  }
}

/**
 * A setting or option is missing or wrong. The message names the setting.
 *
 * @example
 * ```ts
 * import { ConfigError } from "@keyward/secrets";
 * const err = new ConfigError("SECRET_BACKEND is not set; choose one of: file, env, memory");
 * if (err.code !== "config") throw new Error();
 * ```
 */
export class ConfigError extends KeywardError {
  /** Builds the error. */
  constructor(message: string, context: ErrorContext = {}) {
    super("config", message, context);
  }
}

/**
 * The backend cannot do this operation (the env backend cannot write).
 *
 * @example
 * ```ts
 * import { UnsupportedOperationError } from "@keyward/secrets";
 * const err = new UnsupportedOperationError("setSecret", { secret: "a", backend: "env" });
 * if (err.code !== "unsupported") throw new Error();
 * ```
 */
export class UnsupportedOperationError extends KeywardError {
  /** The refused operation. */
  readonly operation: string;
  /** Builds the error. */
  constructor(operation: string, context: ErrorContext = {}, detail?: string) {
    super(
      "unsupported",
      `${operation} is not supported by ${
        context.backend ? `the ${context.backend}` : "this"
      } backend` +
        (context.secret ? ` (secret ${quoteName(context.secret)})` : "") +
        (detail ? `: ${detail}` : ""),
      context,
    );
    this.operation = operation;
  }
}

/**
 * The manager was closed; it refuses further calls.
 *
 * @example
 * ```ts
 * import { ManagerClosedError } from "@keyward/secrets";
 * const err = new ManagerClosedError("memory");
 * if (err.code !== "closed") throw new Error();
 * ```
 */
export class ManagerClosedError extends KeywardError {
  /** Builds the error. */
  constructor(backend: string) {
    super("closed", `the ${backend} secret manager is closed`, { backend });
  }
}

/**
 * Maps an error code to a CLI exit code (the one place this is decided).
 *
 * @example
 * ```ts
 * import { exitCodeFor } from "@keyward/secrets";
 * if (exitCodeFor("not_found") !== 3) throw new Error();
 * ```
 */
export function exitCodeFor(code: ErrorCode | undefined): number {
  switch (code) {
    case "invalid_name":
    case "invalid_value":
    case "config":
      return 2;
    case "not_found":
      return 3;
    case "access":
      return 4;
    case "conflict":
      return 5;
    case "unsupported":
      return 6;
    case "write":
    case "closed":
      return 7;
    default:
      return 1;
  }
}

/**
 * Maps an error code to an HTTP status (the one place this is decided).
 *
 * @example
 * ```ts
 * import { httpStatusFor } from "@keyward/secrets";
 * if (httpStatusFor("not_found") !== 404) throw new Error();
 * ```
 */
export function httpStatusFor(code: ErrorCode | undefined): number {
  switch (code) {
    case "not_found":
      return 404;
    case "invalid_name":
    case "invalid_value":
      return 400;
    case "conflict":
      return 409;
    case "unsupported":
      return 501;
    case "access":
      return 503;
    default:
      return 500;
  }
}

/**
 * A scrubbed stand-in for a foreign error: its name, and its `code` or
 * status when it has one, never its message (which may hold a response body,
 * a token or a value).
 *
 * @example What a keyward error keeps of a foreign cause
 * ```ts
 * import { ScrubbedError, SecretAccessError } from "@keyward/secrets";
 *
 * const foreign = Object.assign(new TypeError("request failed, body: example-value-7f3a"), {
 *   code: "ECONNREFUSED",
 * });
 * const context = { secret: "db/password", backend: "vault", cause: foreign };
 * const cause = new SecretAccessError(context, "unreachable").cause;
 * if (!(cause instanceof ScrubbedError) || cause.originalName !== "TypeError") throw new Error();
 * if (cause.originalCode !== "ECONNREFUSED") throw new Error();
 * if (cause.message.includes("example-value-7f3a")) throw new Error("the foreign message leaked");
 * ```
 */
export class ScrubbedError extends Error {
  /** The original error's class name. */
  readonly originalName: string;
  /** The original error's `code` or status, when it had one. */
  readonly originalCode?: string;
  /** Builds the stand-in. */
  constructor(originalName: string, originalCode?: string) {
    super(
      `${originalName}${originalCode ? ` (${originalCode})` : ""} [message withheld]`,
    );
    this.name = "ScrubbedError";
    this.originalName = originalName;
    if (originalCode !== undefined) this.originalCode = originalCode;
  }
}

/** Error class names as code writes them: `TypeError`, `ThrottlingException`. */
const SAFE_NAME = /^[A-Z][A-Za-z0-9]{0,47}$/;
/** Codes as libraries set them: `ECONNREFUSED`, `ERR_TLS_CERT`, `503`, `AccessDenied`. */
const SAFE_CODE = /^(?:[0-9]{3}|[A-Z][A-Z0-9_]{1,47}|[A-Z][A-Za-z0-9]{1,47})$/;

/**
 * Keeps keyward's own errors as they are (they hold no value) and replaces
 * anything else by a {@linkcode ScrubbedError}.
 *
 * @example
 * ```ts
 * import { scrubCause } from "@keyward/secrets/backend-kit";
 * const scrubbed = scrubCause(new Error("token s.abcdef leaked")) as Error;
 * if (scrubbed.message.includes("s.abcdef")) throw new Error();
 * ```
 */
export function scrubCause(cause: unknown): unknown {
  if (cause instanceof KeywardError || cause instanceof ScrubbedError) return cause;
  if (cause instanceof Error || (typeof cause === "object" && cause !== null)) {
    const c = cause as { name?: unknown; code?: unknown; status?: unknown; constructor?: unknown };
    const name = typeof c.name === "string" && SAFE_NAME.test(c.name) ? c.name : "Error";
    const rawCode = c.code ?? c.status;
    const code = (typeof rawCode === "string" || typeof rawCode === "number") &&
        SAFE_CODE.test(String(rawCode))
      ? String(rawCode)
      : undefined;
    return new ScrubbedError(name, code);
  }
  return new ScrubbedError(typeof cause);
}

/**
 * Quotes a name for a message, shortened when long (past 80 characters, to
 * 77 and `...`). A name that breaks the naming rules is not quoted: it is
 * shown as its length only, since it may be a value pasted by mistake.
 *
 * @example
 * ```ts
 * import { quoteName } from "@keyward/secrets/backend-kit";
 *
 * if (quoteName("db/password") !== '"db/password"') throw new Error();
 * if (quoteName("a".repeat(200)) !== `"${"a".repeat(77)}..."`) throw new Error();
 * if (quoteName("pw: Hunter2-example") !== "(invalid name, 19 characters)") throw new Error();
 * ```
 */
export function quoteName(name: string): string {
  return nameProblem(name) === undefined ? quoteText(name) : invalidNamePlaceholder(name);
}

/** The secret name an error keeps: the name, or the placeholder for an invalid one. */
function shownName(name: string): string {
  return nameProblem(name) === undefined ? name : invalidNamePlaceholder(name);
}

/** Quotes a version or field for a message: escaped, on one line, shortened past 80. */
function quoteText(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(shown);
}

function describe(what: string, context: ErrorContext, detail?: string): string {
  const parts: string[] = [];
  parts.push(context.secret !== undefined ? `secret ${quoteName(context.secret)}` : "secret");
  const where: string[] = [];
  if (context.stage) where.push(`stage ${context.stage}`);
  if (context.version !== undefined) where.push(`version ${quoteText(context.version)}`);
  if (context.field !== undefined) where.push(`field ${quoteText(context.field)}`);
  if (where.length) parts.push(`(${where.join(", ")})`);
  parts.push(what);
  if (context.backend) parts.push(`in the ${context.backend} backend`);
  return parts.join(" ") + (detail ? `: ${detail}` : "");
}
