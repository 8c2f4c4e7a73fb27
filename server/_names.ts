/**
 * How a secret name travels in a path: everything after the route's prefix,
 * percent-decoded once. Encoded slashes, dots, backslashes and NULs are
 * refused before decoding, so a name is never re-interpreted after a check.
 * (Plain and percent-encoded `.`/`..` segments are resolved by the URL parser
 * of the runtime before any handler runs; the policy then applies to the name
 * that results, so they cannot reach outside it.)
 *
 * @module
 */

import { nameProblem } from "../core/names.ts";

/** Encodings refused in a raw path: `/`, `.`, `\` and NUL, upper or lower case. */
const ENCODED_FORBIDDEN = /%(2f|2e|5c|00)/i;

/** The result of {@linkcode nameFromPath}. */
export type ParsedName = { ok: true; name: string } | { ok: false; reason: string };

/** Takes the name from the raw path after `prefix` (which ends with `/`). */
export function nameFromPath(rawPath: string, prefix: string): ParsedName {
  if (!rawPath.startsWith(prefix)) return { ok: false, reason: "no name in the path" };
  const raw = rawPath.slice(prefix.length);
  if (raw.length > 3 * 512) return { ok: false, reason: "the name is too long" };
  if (ENCODED_FORBIDDEN.test(raw)) {
    return { ok: false, reason: "encoded '/', '.', '\\' or NUL are not allowed in a name" };
  }
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    return { ok: false, reason: "the name is not valid percent-encoding" };
  }
  return checkName(name);
}

/** Checks a name given as a query parameter (already decoded once by the URL parser). */
export function checkName(name: string): ParsedName {
  const problem = nameProblem(name);
  // The rule is stated, never the name itself (nameProblem never quotes it).
  if (problem !== undefined) return { ok: false, reason: `not a valid secret name: ${problem}` };
  return { ok: true, name };
}

/** The path of a request as the client sent it (no decoding). */
export function rawPathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const q = url.indexOf("?", start);
  const h = url.indexOf("#", start);
  const end = q >= 0 ? q : h >= 0 ? h : url.length;
  return url.slice(start, end);
}

/**
 * {@linkcode nameFromPath} of request URLs, remembered: the answer is a pure
 * function of the URL, and a sidecar sees the same few URLs again and again.
 * Only names that parsed are kept (refusals are recomputed, so odd URLs do
 * not fill the map); at most `max` URLs, dropped all at once when full.
 */
export class PathNames {
  readonly #prefix: string;
  readonly #max: number;
  readonly #seen = new Map<string, ParsedName>();

  /** Names after `prefix` (ends with `/`). */
  constructor(prefix: string, max = 256) {
    this.#prefix = prefix;
    this.#max = max;
  }

  /** The name in `url`'s raw path, or why there is none. */
  parse(url: string): ParsedName {
    let parsed = this.#seen.get(url);
    if (parsed !== undefined) return parsed;
    parsed = nameFromPath(rawPathOf(url), this.#prefix);
    if (parsed.ok) {
      if (this.#seen.size >= this.#max) this.#seen.clear();
      this.#seen.set(url, parsed);
    }
    return parsed;
  }
}
