/**
 * Authentication: the token from the request, checked against the token
 * source's entries (hashes compared in constant time), then the token's rate
 * limit and role. Answers 401 (403 on the agent route), 429 with
 * `Retry-After`, 403, or 503 when the token file is unusable.
 *
 * @module
 */

import type { Context } from "hono";
import { errorResponse } from "./_errors.ts";
import { requestHeader } from "./_limits.ts";
import type { RateLimiter } from "./_rate_limit.ts";
import { findToken, type TokenEntry, type TokenRole, type TokenSource } from "./tokens.ts";

/** The bearer token of `Authorization: Bearer <token>`; `""` for a malformed header. */
export function bearer(c: Context): string | undefined {
  const h = requestHeader(c, "authorization");
  if (h === undefined) return undefined;
  // The same header again (one client, many requests): the token parsed last time.
  if (h === lastHeader) return lastToken;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(h);
  lastHeader = h;
  lastToken = m ? m[1] : "";
  return lastToken;
}

let lastHeader: string | undefined;
let lastToken = "";

const unauthorized = (c: Context, status: 401 | 403) =>
  errorResponse(c, status, "unauthorized", "a valid token is required", {
    ...(status === 401 ? { "www-authenticate": 'Bearer realm="keyward"' } : {}),
  });

const unusable = (c: Context) =>
  errorResponse(c, 503, "tokens_unavailable", "the token file cannot be used");

/** Checks tokens for the app. */
export class Authenticator {
  readonly #tokens: TokenSource;
  readonly #limiter: RateLimiter;
  readonly #now: () => number;
  /**
   * Tokens already matched against the current entries, so a repeated token
   * costs a map lookup instead of a hash and a comparison with every entry.
   * Dropped whenever the entries change (a revocation); bounded in size.
   */
  #known = new Map<string, TokenEntry>();
  #knownFor: readonly TokenEntry[] | undefined;

  /** Builds the checker. */
  constructor(options: { tokens: TokenSource; limiter: RateLimiter; now: () => number }) {
    this.#tokens = options.tokens;
    this.#limiter = options.limiter;
    this.#now = options.now;
  }

  /**
   * The token's entry, or the error answer. `known.service` is set as soon
   * as the token matched (before the rate limit and role checks), so a
   * refusal is audited under the token's service.
   */
  check(
    c: Context,
    token: string | undefined,
    status: 401 | 403,
    role: TokenRole | undefined,
    known: { service: string } | undefined,
  ): TokenEntry | Response | Promise<TokenEntry | Response> {
    if (token === undefined || token.length === 0 || token.length > 512) {
      return unauthorized(c, status);
    }
    let got: readonly TokenEntry[] | Promise<readonly TokenEntry[]>;
    try {
      got = this.#tokens.entries();
    } catch {
      return unusable(c);
    }
    if (got instanceof Promise) {
      return got.then(
        (entries) => this.#admit(c, entries, token, status, role, known),
        () => unusable(c),
      );
    }
    return this.#admit(c, got, token, status, role, known);
  }

  #admit(
    c: Context,
    entries: readonly TokenEntry[],
    token: string,
    status: 401 | 403,
    role: TokenRole | undefined,
    known: { service: string } | undefined,
  ): TokenEntry | Response {
    if (entries !== this.#knownFor) {
      this.#known = new Map();
      this.#knownFor = entries;
    }
    let entry = this.#known.get(token);
    if (entry === undefined) {
      entry = findToken(entries, token, this.#now());
      if (entry === undefined) return unauthorized(c, status);
      if (this.#known.size >= 1024) this.#known.clear();
      this.#known.set(token, entry);
    } else if (entry.expires !== undefined && Date.parse(entry.expires) <= this.#now()) {
      this.#known.delete(token);
      return unauthorized(c, status);
    }
    if (known !== undefined) known.service = entry.service;
    const wait = this.#limiter.take(entry.id, entry.ratePerSecond);
    if (wait > 0) {
      return errorResponse(c, 429, "rate_limited", "too many requests for this token", {
        "retry-after": String(wait),
      });
    }
    if (role !== undefined && !entry.roles.includes(role)) {
      return errorResponse(c, 403, "forbidden", "this token does not allow this");
    }
    return entry;
  }
}
