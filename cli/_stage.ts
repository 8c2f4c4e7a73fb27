/**
 * Parsing `--stage`.
 *
 * @module
 */

import type { Stage } from "../core/types.ts";
import { UsageError } from "./_command.ts";

/** Checks a `--stage` option against the stages a command accepts. */
export function parseStage<S extends Stage>(
  raw: string | undefined,
  allowed: readonly S[],
): S | undefined {
  if (raw === undefined) return undefined;
  if ((allowed as readonly string[]).includes(raw)) return raw as S;
  throw new UsageError(`--stage must be one of: ${allowed.join(", ")}`);
}
