/**
 * The cache settings of tests/edge/worker.ts, shared with its test (a
 * worker module may export only handlers, so they live here).
 *
 * @module
 */

/** The cache's time to live in the worker, in milliseconds. */
export const TTL_MS = 60_000;
/** How long past expiry the worker serves the last good value while Vault is down, in milliseconds. */
export const STALE_IF_ERROR_MS = 600_000;
