/**
 * `configureRedactedLogging()`: LogTape configured so that every sink
 * redacts. Part of the `./logging` entry, not of `mod.ts`: LogTape is an npm
 * package, and any npm package in `mod.ts`'s module graph, even behind a
 * dynamic `import()`, costs every user of `mod.ts` start-up time under Deno,
 * which resolves the graphs of dynamic imports at start-up (issue 18).
 * LogTape itself loads when this is called, so a user of `redactConsole`
 * alone does not load it.
 *
 * @module
 */

import {
  type LogLevelName,
  type LogRedactionOptions,
  type LogSink,
  redactingSink,
} from "./logging.ts";
import type { Redactor } from "./redactor.ts";

/**
 * Options of {@linkcode configureRedactedLogging}.
 *
 * @example Routing every category at debug level to a sink of your own
 * ```ts
 * import { getLogger, reset } from "@logtape/logtape";
 * import { Redactor } from "@keyward/secrets";
 * import { configureRedactedLogging, type LogRecordLike } from "@keyward/secrets/logging";
 *
 * const redactor = new Redactor();
 * redactor.register("api/token", "tok-0123456789");
 * const lines: LogRecordLike[] = [];
 * await configureRedactedLogging(redactor, {
 *   sinks: { memory: (r) => void lines.push(r) },
 *   categories: [["billing"]],
 *   lowestLevel: "debug",
 *   reset: true,
 * });
 * getLogger(["billing", "stripe"]).debug("retrying with {token}", { token: "tok-0123456789" });
 * getLogger(["other"]).error("not routed");
 * await reset();
 * if (lines.length !== 1 || JSON.stringify(lines).includes("tok-0123456789")) throw new Error();
 * ```
 */
export interface RedactedLoggingOptions extends LogRedactionOptions {
  /**
   * The sinks, by name; each is wrapped by {@linkcode redactingSink}.
   * @default {{ console: getConsoleSink() }}
   */
  sinks?: Record<string, LogSink>;
  /**
   * The logger categories routed to every sink (`[]` is every category).
   * @default {[["keyward"]]}
   */
  categories?: string[][];
  /**
   * The lowest level logged.
   * @default {"info"}
   */
  lowestLevel?: LogLevelName;
  /**
   * Replace an existing LogTape configuration instead of failing.
   * @default {false}
   */
  reset?: boolean;
}

/**
 * Configures LogTape so that every sink redacts: the categories asked for
 * (keyward's own by default) and LogTape's meta logger go to the given
 * sinks, each wrapped by {@linkcode redactingSink}.
 *
 * @example Wiring the redactor into a service's logging
 * ```ts
 * import { getLogger, type LogRecord, reset } from "@logtape/logtape";
 * import { MemorySecretManager, Redactor, withRedaction } from "@keyward/secrets";
 * import { configureRedactedLogging } from "@keyward/secrets/logging";
 *
 * const redactor = new Redactor();
 * const secrets = withRedaction(new MemorySecretManager({ initial: { "api/token": "tok-0123456789" } }), redactor);
 * const lines: LogRecord[] = [];
 * await configureRedactedLogging(redactor, {
 *   sinks: { memory: (r) => lines.push(r) },
 *   categories: [["app"]],
 *   reset: true,
 * });
 * const token = await secrets.getSecret("api/token");
 * getLogger(["app"]).info(`calling upstream with ${token}`);
 * if (lines[0].message.join("") !== "calling upstream with [REDACTED:api/token]") throw new Error();
 * await reset();
 * ```
 */
export async function configureRedactedLogging(
  redactor: Redactor,
  options: RedactedLoggingOptions = {},
): Promise<void> {
  const { configure, getConsoleSink } = await import("@logtape/logtape");
  const raw: Record<string, LogSink> = options.sinks ?? { console: getConsoleSink() };
  const sinks: Record<string, LogSink> = {};
  for (const [name, sink] of Object.entries(raw)) {
    sinks[name] = redactingSink(sink, redactor, options);
  }
  const names = Object.keys(sinks);
  const categories = options.categories ?? [["keyward"]];
  const lowestLevel = options.lowestLevel ?? "info";
  const loggers: { category: string[]; sinks: string[]; lowestLevel: LogLevelName }[] = categories
    .map(
      (category) => ({ category, sinks: names, lowestLevel }),
    );
  const coversMeta = categories.some((c) =>
    c.length === 0 || (c[0] === "logtape" && (c.length === 1 || c[1] === "meta"))
  );
  if (!coversMeta) {
    loggers.push({ category: ["logtape", "meta"], sinks: names, lowestLevel: "warning" });
  }
  await configure({ reset: options.reset ?? false, sinks, loggers });
}
