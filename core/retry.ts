/**
 * A small, runtime-neutral retry policy: a fixed number of attempts with
 * exponential backoff and full jitter, capped. It uses only timers and
 * `AbortSignal`, so it runs on Deno, Node and edge runtimes alike; the sleep
 * and the random source can be replaced in tests. Also the one way keyward
 * waits ({@linkcode sleep}: here, not in a module of its own, because every
 * module loaded at import costs start-up time; issue 18).
 *
 * @module
 */

/**
 * Resolves after `ms` milliseconds. Rejects with the signal's reason as soon
 * as `signal` aborts (at once when it already has), clearing the timer and
 * its listener, so an aborted wait holds neither a timer nor a reference.
 *
 * @example
 * ```ts
 * import { sleep } from "./retry.ts";
 *
 * await sleep(1);
 * const aborted = await sleep(60_000, AbortSignal.abort(new Error("stop"))).catch((e) => e);
 * if (aborted.message !== "stop") throw new Error();
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * How a call is retried.
 *
 * @example A policy with a recorded sleep and no jitter
 * ```ts
 * import type { RetryPolicy } from "@keyward/secrets";
 * import { retry } from "@keyward/secrets/backend-kit";
 *
 * const waits: number[] = [];
 * const policy: RetryPolicy = {
 *   attempts: 4,
 *   baseDelayMs: 50,
 *   maxDelayMs: 120,
 *   sleep: (ms) => Promise.resolve(void waits.push(ms)),
 *   random: () => 0.999999, // the top of each jitter range
 * };
 * await retry(() => Promise.reject(new Error("down")), { ...policy, retryable: () => true })
 *   .catch(() => {});
 * if (waits.join() !== "49,99,119") throw new Error(waits.join()); // 50, 100, then capped at 120
 * ```
 */
export interface RetryPolicy {
  /**
   * Attempts in all, the first one included (1 means no retry).
   * @default {3}
   */
  attempts?: number;
  /**
   * The backoff before the second attempt, doubled before each later one.
   * @default {100}
   */
  baseDelayMs?: number;
  /**
   * The cap on any one backoff.
   * @default {2000}
   */
  maxDelayMs?: number;
  /**
   * Waits `ms` milliseconds; rejects with the signal's reason when it aborts.
   * @default {a `setTimeout`-based sleep}
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * A random number in [0, 1) for the jitter.
   * @default {Math.random}
   */
  random?: () => number;
}

/**
 * What {@linkcode retry} tells the callbacks about one failed attempt.
 *
 * @example
 * ```ts
 * import { retry, type RetryAttempt } from "@keyward/secrets/backend-kit";
 *
 * const failures: RetryAttempt[] = [];
 * await retry(async (attempt) => {
 *   if (attempt < 3) throw new Error(`attempt ${attempt} failed`);
 * }, {
 *   retryable: () => true,
 *   sleep: () => Promise.resolve(),
 *   onRetry: ({ attempt, error }) => void failures.push({ attempt, error }),
 * });
 * if (failures.map((f) => f.attempt).join() !== "1,2") throw new Error();
 * if ((failures[1].error as Error).message !== "attempt 2 failed") throw new Error();
 * ```
 */
export interface RetryAttempt {
  /** The attempt that failed, starting at 1. */
  attempt: number;
  /** The error it failed with. */
  error: unknown;
}

/**
 * Options of one {@linkcode retry} call.
 *
 * @example Only some errors are retried
 * ```ts
 * import { SecretAccessError, SecretNotFoundError } from "@keyward/secrets";
 * import { retry } from "@keyward/secrets/backend-kit";
 *
 * let calls = 0;
 * const error = await retry(() => {
 *   calls += 1;
 *   return Promise.reject(new SecretNotFoundError({ secret: "a/b" }));
 * }, {
 *   retryable: (e) => e instanceof SecretAccessError && e.reason === "unreachable",
 *   sleep: () => Promise.resolve(),
 * }).catch((e) => e);
 * if (!(error instanceof SecretNotFoundError) || calls !== 1) throw new Error("retried");
 * ```
 *
 * @example An abort ends the retries with the signal's reason
 * ```ts
 * import { retry } from "@keyward/secrets/backend-kit";
 *
 * const controller = new AbortController();
 * const failed = retry(() => Promise.reject(new Error("down")), {
 *   retryable: () => true,
 *   baseDelayMs: 60_000,
 *   random: () => 0.5,
 *   signal: controller.signal,
 * });
 * controller.abort(new Error("shutting down"));
 * const error = await failed.catch((e) => e);
 * if (error.message !== "shutting down") throw new Error(error.message);
 * ```
 */
export interface RetryOptions extends RetryPolicy {
  /** Whether a failed attempt may be retried; errors it refuses are thrown at once. */
  retryable: (error: unknown) => boolean;
  /** Called before each backoff (for a warning log). */
  onRetry?: (info: RetryAttempt & { delayMs: number }) => void;
  /** Cancels the waiting between attempts. */
  signal?: AbortSignal;
}

/**
 * The defaults of {@linkcode RetryPolicy}.
 *
 * @example
 * ```ts
 * import { DEFAULT_RETRY } from "@keyward/secrets";
 * import { backoffDelayMs } from "@keyward/secrets/backend-kit";
 *
 * if (DEFAULT_RETRY.attempts !== 3) throw new Error();
 * // A policy with no options uses the defaults: the first backoff stays under baseDelayMs.
 * const first = backoffDelayMs(1, { random: () => 0.999999 });
 * if (first >= DEFAULT_RETRY.baseDelayMs) throw new Error();
 * ```
 */
export const DEFAULT_RETRY: Readonly<
  Required<Pick<RetryPolicy, "attempts" | "baseDelayMs" | "maxDelayMs">>
> = {
  attempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 2000,
};

/**
 * The backoff before attempt `attempt + 1` with full jitter: a random delay
 * between 0 and `min(maxDelayMs, baseDelayMs * 2^(attempt - 1))`.
 *
 * @example
 * ```ts
 * import { backoffDelayMs } from "@keyward/secrets/backend-kit";
 *
 * const ceiling = backoffDelayMs(3, { baseDelayMs: 100, maxDelayMs: 250, random: () => 0.999999 });
 * if (ceiling > 250) throw new Error("the cap holds");
 * ```
 */
export function backoffDelayMs(attempt: number, policy: RetryPolicy = {}): number {
  const base = policy.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs;
  const cap = policy.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  const random = policy.random ?? Math.random;
  return Math.floor(random() * ceiling);
}

/**
 * Checks a policy at construction time; throws a `RangeError` naming the
 * option that is wrong.
 *
 * @example
 * ```ts
 * import { validateRetryPolicy } from "@keyward/secrets/backend-kit";
 *
 * validateRetryPolicy({ attempts: 3 });
 * try { validateRetryPolicy({ attempts: 0 }); throw new Error("accepted"); } catch (e) {
 *   if (!(e instanceof RangeError)) throw e;
 * }
 * ```
 */
export function validateRetryPolicy(policy: RetryPolicy, label = "retry"): void {
  const { attempts, baseDelayMs, maxDelayMs } = policy;
  if (attempts !== undefined && (!Number.isInteger(attempts) || attempts < 1 || attempts > 20)) {
    throw new RangeError(`option ${label}.attempts must be an integer from 1 to 20`);
  }
  for (const [key, value] of [["baseDelayMs", baseDelayMs], ["maxDelayMs", maxDelayMs]] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
      throw new RangeError(`option ${label}.${key} must be a non-negative number`);
    }
  }
}

/**
 * Runs `fn` until it succeeds, an error is not `retryable`, or the attempts
 * run out (then the last error is thrown). Each attempt gets its number.
 *
 * @example Retrying a flaky call
 * ```ts
 * import { retry } from "@keyward/secrets/backend-kit";
 *
 * let calls = 0;
 * const result = await retry(async () => {
 *   calls += 1;
 *   if (calls < 3) throw new Error("flaky");
 *   return "ok";
 * }, { retryable: () => true, sleep: () => Promise.resolve() });
 * if (result !== "ok" || calls !== 3) throw new Error();
 * ```
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const attempts = options.attempts ?? DEFAULT_RETRY.attempts;
  const wait = options.sleep ?? sleep;
  for (let attempt = 1;; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= attempts || !options.retryable(error)) throw error;
      options.signal?.throwIfAborted();
      const delayMs = backoffDelayMs(attempt, options);
      options.onRetry?.({ attempt, error, delayMs });
      await wait(delayMs, options.signal);
    }
  }
}
