/**
 * LogTape set up so that every sink redacts: `configureRedactedLogging()`.
 * An entry of its own because it imports LogTape (`npm:@logtape/logtape`),
 * which `mod.ts` never loads: under Deno any npm package in an entry's
 * module graph costs start-up time, even behind a dynamic `import()`. The
 * redacting sink and console wrapper themselves (`redactingSink`,
 * `redactConsole`) are in `mod.ts`.
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
