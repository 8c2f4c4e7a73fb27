/**
 * The library's loggers: LogTape, under the category `["keyward", ...]`.
 * Silent until the application configures LogTape. Never log a value.
 *
 * @module
 */

import { getLogger, type Logger } from "@logtape/logtape";

/** Returns the logger for `["keyward", ...category]`. */
export function keywardLogger(...category: string[]): Logger {
  return getLogger(["keyward", ...category]);
}
