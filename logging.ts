/**
 * Redaction for logs: `redactingSink` (a LogTape sink decorator),
 * `redactConsole` (an opt-in `console` wrapper), `redactLogValue`, and
 * `configureRedactedLogging()` (LogTape set up so that every sink redacts),
 * each passing everything through a `Redactor`, the well-known credential
 * patterns and the field and JWT rules of `@logtape/redaction`. Its own
 * entry, not part of `mod.ts`: a service that does not log through it does
 * not load it (every module `mod.ts` loads costs every user start-up time
 * under Deno), and LogTape itself loads only when `configureRedactedLogging()`
 * is called.
 *
 * @example Every keyward log line redacted on the console
 * ```ts
 * import { reset } from "@logtape/logtape";
 * import { Redactor } from "@keyward/secrets";
 * import { configureRedactedLogging } from "@keyward/secrets/logging";
 *
 * await configureRedactedLogging(new Redactor(), { reset: true });
 * await reset();
 * ```
 *
 * @module
 */

export { configureRedactedLogging, type RedactedLoggingOptions } from "./redact/configure.ts";
export {
  CONSOLE_METHODS,
  type FieldPatternList,
  KEYWARD_REDACT_FIELDS,
  type LogLevelName,
  type LogRecordLike,
  type LogRedactionOptions,
  type LogSink,
  redactConsole,
  type RedactConsoleOptions,
  redactingSink,
  redactLogValue,
  STANDARD_TEXT_PATTERNS,
  type TextPattern,
} from "./redact/logging.ts";
