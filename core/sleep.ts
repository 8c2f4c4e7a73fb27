/**
 * The one way keyward waits: a `setTimeout` that an `AbortSignal` cancels.
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
 * import { sleep } from "./sleep.ts";
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
