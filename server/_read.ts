/**
 * Reads a secret with its version, and learns who answered (the backend, the
 * cache or a stale serve) from the cache's serve events.
 *
 * @module
 */

import type {
  ReadOptions,
  SecretManager,
  SecretRead,
  ServeListener,
  ServeSource,
} from "../core/types.ts";

/** Who answered a read. */
export type ReadSource = ServeSource | "backend";

interface InFlight {
  source: ReadSource;
}

/** Reads through a manager and attributes each read to its source. */
export class SourceTrackingReader {
  readonly #manager: SecretManager;
  readonly #inFlight = new Map<string, InFlight[]>();

  /** Wraps `manager`. */
  constructor(manager: SecretManager) {
    this.#manager = manager;
  }

  /** Give this to the cache as `onServe` (`withCache(backend, { onServe })`). */
  readonly onServe: ServeListener = (event) => {
    const waiting = this.#inFlight.get(event.name);
    const first = waiting?.find((w) => w.source === "backend");
    if (first) first.source = event.source;
  };

  /** Reads `name`; the source is `backend` unless the cache said it served the read. */
  async read(
    name: string,
    opts: ReadOptions,
  ): Promise<{ read: SecretRead; source: ReadSource }> {
    const mine: InFlight = { source: "backend" };
    let list = this.#inFlight.get(name);
    if (!list) this.#inFlight.set(name, list = []);
    list.push(mine);
    try {
      const read = await readWithVersion(this.#manager, name, opts);
      return { read, source: mine.source };
    } finally {
      list.splice(list.indexOf(mine), 1);
      if (list.length === 0) this.#inFlight.delete(name);
    }
  }
}

/** `readSecret` of the manager (every manager reports the version it read). */
function readWithVersion(
  manager: SecretManager,
  name: string,
  opts: ReadOptions,
): Promise<SecretRead> {
  return manager.readSecret(name, opts);
}
