/**
 * Durations as operators type them: `7d`, `12h`, `30m`, `45s`, `500ms`, `0s`.
 *
 * @module
 */

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration into milliseconds; `undefined` when it is not one.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * if (parseDuration("7d") !== 604_800_000 || parseDuration("0s") !== 0) throw new Error();
 * if (parseDuration("7 days") !== undefined) throw new Error();
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text.trim());
  if (m === null) return undefined;
  return Number(m[1]) * UNITS[m[2]];
}

/**
 * Formats milliseconds the short way (`7d`, `90s`, `1.2s`, `350ms`).
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * if (formatDuration(604_800_000) !== "7d" || formatDuration(1_234) !== "1.2s") throw new Error();
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  for (const unit of ["d", "h", "m"] as const) {
    if (ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  }
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  return `${(ms / 1_000).toFixed(1)}s`;
}
