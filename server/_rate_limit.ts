/**
 * A per-token rate limit: a token bucket per token id, `ratePerSecond`
 * requests per second with a burst of the same size. Over the limit: 429
 * with `Retry-After` in whole seconds.
 *
 * @module
 */

/** Options of {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Requests per second per token (a token entry's `ratePerSecond` wins). */
  ratePerSecond: number;
  /** The clock, in epoch milliseconds. */
  now: () => number;
}

/** Token buckets, one per token id. */
export class RateLimiter {
  readonly #rate: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /** Builds the limiter. */
  constructor(options: RateLimiterOptions) {
    this.#rate = options.ratePerSecond;
    this.#now = options.now;
  }

  /** Takes one request from the token's bucket: 0 when allowed, else the seconds to wait. */
  take(id: string, ratePerSecond: number = this.#rate): number {
    const now = this.#now();
    const burst = Math.max(1, ratePerSecond);
    let b = this.#buckets.get(id);
    if (b === undefined) this.#buckets.set(id, b = { tokens: burst, at: now });
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * ratePerSecond);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / ratePerSecond));
  }
}
