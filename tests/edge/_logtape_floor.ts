/**
 * The floor of any keyward bundle: LogTape's `getLogger`, which every
 * keyward module logs through. Bundled by tests/bench/bundle_size.ts beside
 * the entries, as the baseline their sizes are read against.
 *
 * @module
 */

export { getLogger } from "@logtape/logtape";
