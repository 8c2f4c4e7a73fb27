/**
 * The retry strategy of the AWS backend: the SDK's standard strategy
 * (exponential backoff with full jitter, a retry quota, `maxAttempts`
 * attempts) except that `LimitExceededException` is never retried. The SDK
 * classifies it as throttling, but in Secrets Manager it nearly always means
 * a hard quota (too many versions of a secret, too many secrets), which
 * retrying cannot fix.
 *
 * @module
 */

import { StandardRetryStrategy } from "@smithy/core/retry";
import { keywardLogger } from "../core/log.ts";

/**
 * The SDK's retry token, as far as keyward looks at it.
 *
 * @example
 * ```ts
 * import { KeywardAwsRetryStrategy, type RetryToken } from "@keyward/secrets/aws";
 *
 * const strategy = new KeywardAwsRetryStrategy({ retryDelayMs: () => 0 });
 * const first: RetryToken = await strategy.acquireInitialRetryToken("secretsmanager");
 * const second = await strategy.refreshRetryTokenForRetry(first, { errorType: "TRANSIENT" });
 * const third = await strategy.refreshRetryTokenForRetry(second, { errorType: "THROTTLING" });
 * if ([first, second, third].map((t) => t.getRetryCount()).join() !== "0,1,2") throw new Error();
 * ```
 */
export interface RetryToken {
  /** Retries made so far in this call. */
  getRetryCount(): number;
  /**
   * The delay the SDK waits before the next attempt, in milliseconds. With
   * the pinned `@smithy/core` (3.41.1) a token returned by
   * `refreshRetryTokenForRetry` always reports 0: the strategy waits out the
   * backoff inside `refreshRetryTokenForRetry` itself, before it resolves, so
   * the SDK adds no wait of its own. (The initial token reports the SDK's
   * 50 ms base delay, which the SDK never reads.)
   */
  getRetryDelay(): number;
}

/**
 * What the SDK tells a retry strategy about a failed attempt.
 *
 * @example A client error is not retried, a transient one (5xx, network) is
 * ```ts
 * import { KeywardAwsRetryStrategy, type RetryErrorInfo } from "@keyward/secrets/aws";
 *
 * const strategy = new KeywardAwsRetryStrategy({ retryDelayMs: () => 0 });
 * const token = await strategy.acquireInitialRetryToken("secretsmanager");
 * const retried = (info: RetryErrorInfo) =>
 *   strategy.refreshRetryTokenForRetry(token, info).then(() => true, () => false);
 * if (await retried({ errorType: "CLIENT_ERROR" })) throw new Error();
 * if (!(await retried({ errorType: "TRANSIENT" }))) throw new Error();
 * ```
 */
export interface RetryErrorInfo {
  /** The SDK's classification: `THROTTLING`, `TRANSIENT`, `SERVER_ERROR`, `CLIENT_ERROR`. */
  errorType: string;
  /** The error itself. */
  error?: unknown;
  /** When the server's `Retry-After` asked to retry. */
  retryAfterHint?: Date;
}

/** Error names the SDK would retry that keyward never does. */
export const NOT_RETRIED_ERRORS: readonly string[] = ["LimitExceededException"];

/**
 * Options of {@linkcode KeywardAwsRetryStrategy}.
 *
 * @example `maxAttempts` counts the first attempt
 * ```ts
 * import { type AwsRetryOptions, KeywardAwsRetryStrategy } from "@keyward/secrets/aws";
 *
 * const options: AwsRetryOptions = { maxAttempts: 2, retryDelayMs: () => 0 };
 * const strategy = new KeywardAwsRetryStrategy(options);
 * const token = await strategy.acquireInitialRetryToken("secretsmanager");
 * const next = await strategy.refreshRetryTokenForRetry(token, { errorType: "TRANSIENT" });
 * const again = await strategy.refreshRetryTokenForRetry(next, { errorType: "TRANSIENT" })
 *   .then(() => true, () => false);
 * if (again) throw new Error("a third attempt");
 * ```
 */
export interface AwsRetryOptions {
  /**
   * Attempts per call, the first one included (1 means no retry).
   * @default {3}
   */
  maxAttempts?: number;
  /**
   * The delay before retry number `retry` (1 for the first retry), in
   * milliseconds. Tests pass `() => 0`.
   * @default {the SDK's standard backoff: a random delay up to 50 ms × 2^(retry-1), up to 1,000 ms × 2^(retry-1) when throttled, capped at 20 s}
   */
  retryDelayMs?: (retry: number) => number;
}

const log = keywardLogger("backend", "aws");

/**
 * The SDK's standard retry strategy minus the retry of `LimitExceededException`.
 * `AwsSecretManager` builds one from its `maxAttempts` option; pass your own
 * as `retryStrategy` of a `SecretsManagerClient` you inject (see its
 * "Injecting a client" example).
 *
 * @example What is retried and what is not
 * ```ts
 * import { KeywardAwsRetryStrategy } from "@keyward/secrets/aws";
 *
 * const strategy = new KeywardAwsRetryStrategy({ maxAttempts: 3, retryDelayMs: () => 0 });
 * const token = await strategy.acquireInitialRetryToken("secretsmanager");
 *
 * // A throttled call is retried ...
 * const throttled = Object.assign(new Error(), { name: "ThrottlingException" });
 * const next = await strategy.refreshRetryTokenForRetry(token, {
 *   errorType: "THROTTLING",
 *   error: throttled,
 * });
 * if (next.getRetryCount() !== 1) throw new Error();
 *
 * // ... a hard quota is not, although the SDK classifies it as throttling.
 * const quota = Object.assign(new Error(), { name: "LimitExceededException" });
 * const retried = await strategy.refreshRetryTokenForRetry(next, {
 *   errorType: "THROTTLING",
 *   error: quota,
 * }).then(() => true, () => false);
 * if (retried) throw new Error();
 * ```
 */
export class KeywardAwsRetryStrategy {
  /** The retry mode reported to the SDK. */
  readonly mode: string = "standard";
  readonly #inner: StandardRetryStrategy;
  readonly #maxAttempts: number;

  /** Builds the strategy; `maxAttempts` must be an integer from 1 to 10. */
  constructor(options: AwsRetryOptions = {}) {
    const maxAttempts = options.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 10) {
      throw new RangeError("option maxAttempts must be an integer from 1 to 10");
    }
    this.#maxAttempts = maxAttempts;
    const delay = options.retryDelayMs;
    this.#inner = delay === undefined
      ? new StandardRetryStrategy(maxAttempts)
      : new StandardRetryStrategy({
        maxAttempts,
        backoff: {
          setDelayBase: () => {},
          computeNextBackoffDelay: (retryCount: number) => delay(retryCount + 1),
        },
      });
  }

  /** Starts the retry bookkeeping of one call. */
  acquireInitialRetryToken(scope: string): Promise<RetryToken> {
    return this.#inner.acquireInitialRetryToken(scope);
  }

  /** Decides whether to retry; rejects (and the SDK rethrows the error) when not. */
  async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const name = (info.error as { name?: unknown } | undefined)?.name;
    if (typeof name === "string" && NOT_RETRIED_ERRORS.includes(name)) {
      throw new Error("not retried");
    }
    const next = await this.#inner.refreshRetryTokenForRetry(token as never, info as never);
    log.warn("Retrying an AWS Secrets Manager call after {error} (retry {retry} of {max})", {
      error: typeof name === "string" && /^[A-Za-z0-9_.:-]{1,64}$/.test(name) ? name : "an error",
      retry: next.getRetryCount(),
      max: this.#maxAttempts - 1,
    });
    return next;
  }

  /** Records a successful attempt (refills the retry quota). */
  recordSuccess(token: RetryToken): void {
    this.#inner.recordSuccess(token as never);
  }
}
