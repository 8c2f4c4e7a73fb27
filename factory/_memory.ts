/**
 * `SECRET_BACKEND=memory`: an empty in-process store, for tests and
 * short-lived tools. Nothing is kept after the process ends.
 *
 * @module
 */

import { MemorySecretManager } from "../backends/memory.ts";
import type { BackendBuilder } from "./_types.ts";

/** The memory backend lives in the process: it is not cached. */
export const remote = false;

/** Builds an empty memory backend; it takes no settings. */
export const build: BackendBuilder = () => Promise.resolve(new MemorySecretManager());
