/**
 * The library's loggers: a small facade over LogTape, under the category
 * `["keyward", ...]`. Never log a value.
 *
 * keyward does not import LogTape: loading it costs start-up time and about
 * 40% of the edge bundle. LogTape keeps its root logger on `globalThis` under
 * `Symbol.for("logtape.rootLogger")` (so that several copies of the package
 * share one configuration); once the application has used LogTape (its
 * `configure()` creates the root), every record goes to that root's child
 * `["keyward", ...category]`, through the application's sinks and filters.
 * Before that, and in applications that never use LogTape, keyward is
 * silent, as LogTape itself would be without `configure()`.
 *
 * @module
 */

/** The properties of a record: names, versions, codes; never a value. */
export type LogProperties = Record<string, unknown>;

/** The logging methods keyward calls (the subset of LogTape's `Logger` it uses). */
export interface KeywardLogger {
  /** A debug record. */
  debug(message: string, properties?: LogProperties): void;
  /** An info record. */
  info(message: string, properties?: LogProperties): void;
  /** A warning record. */
  warn(message: string, properties?: LogProperties): void;
  /** An error record. */
  error(message: string, properties?: LogProperties): void;
}

type Level = keyof KeywardLogger;

/** LogTape's root logger, as far as the facade uses it. */
interface RootLike {
  getChild(category: readonly string[]): Record<Level, (m: string, p?: LogProperties) => void>;
}

const ROOT = Symbol.for("logtape.rootLogger");

/** Returns the logger for `["keyward", ...category]`. */
export function keywardLogger(...category: string[]): KeywardLogger {
  const full = ["keyward", ...category];
  // One closure per level, reading the root at each call: LogTape may be configured later.
  const at = (level: Level) => (message: string, properties?: LogProperties): void => {
    (globalThis as { [ROOT]?: RootLike | null })[ROOT]?.getChild(full)[level](message, properties);
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
