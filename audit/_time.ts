/**
 * Audit times at the precision the stores keep: whole microseconds
 * (Postgres `timestamptz`; the JSON-lines sink writes the same digits), so
 * the chain's MAC covers every digit that is stored.
 *
 * @module
 */

/** `ms` rounded to whole microseconds. */
export function toMicros(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * ISO 8601 text of `ms` (epoch milliseconds, possibly with a microsecond
 * fraction): three fractional digits when it is a whole millisecond (as
 * `Date#toISOString`), six otherwise.
 */
export function isoMicros(ms: number): string {
  const us = Math.round(ms * 1000);
  const whole = Math.floor(us / 1000);
  const iso = new Date(whole).toISOString();
  const sub = us - whole * 1000;
  return sub === 0 ? iso : `${iso.slice(0, -1)}${String(sub).padStart(3, "0")}Z`;
}

/** Parses what {@linkcode isoMicros} writes (any ISO 8601 text), keeping microseconds. */
export function parseIsoMicros(text: string): number {
  const ms = Date.parse(text);
  const m = /\.\d{3}(\d{1,3})(?:Z|[+-]\d\d:?\d\d)$/.exec(text);
  if (!m || Number.isNaN(ms)) return ms;
  return (Math.round(ms * 1000) + Number(m[1].padEnd(3, "0"))) / 1000;
}
