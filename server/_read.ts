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
import type { AuditSource } from "../audit/types.ts";

/**
 * `readFresh` of a `withCache` manager (cache/cached_manager.ts): a fresh
 * entry's read for a cache key (a plain read's key is its name), or `undefined`.
 */
type FreshRead = (key: string, whole: true) => SecretRead | undefined;

/** Who answered a read. */
export type ReadSource = ServeSource | "backend";

/** Where a read's source is written: the request's audit record. */
export interface SourceNote {
  /** Who answered: `backend` unless the cache said it served the read. */
  source?: AuditSource;
}

/** Reads through a manager and attributes each read to its source. */
export class SourceTrackingReader {
  readonly #manager: SecretManager;
  /** Reads waiting for an answer that did not come at once (a miss; maybe a stale serve later). */
  readonly #inFlight = new Map<string, SourceNote[]>();
  /** The read being started right now: the cache reports a hit synchronously, inside the call. */
  #starting: SourceNote | undefined;
  #startingName = "";

  /** The cache's synchronous fresh-hit read (cache/cached_manager.ts), when the manager has one. */
  readonly #fresh: FreshRead | undefined;

  /** Wraps `manager`. */
  constructor(manager: SecretManager) {
    this.#manager = manager;
    const fresh = (manager as { readFresh?: unknown }).readFresh;
    this.#fresh = typeof fresh === "function" ? fresh as FreshRead : undefined;
  }

  /** Give this to the cache as `onServe` (`withCache(backend, { onServe })`). */
  readonly onServe: ServeListener = (event) => {
    const starting = this.#starting;
    if (starting !== undefined && this.#startingName === event.name) {
      if (starting.source === "backend") {
        starting.source = event.source;
        return;
      }
    }
    const waiting = this.#inFlight.get(event.name);
    const first = waiting?.find((w) => w.source === "backend");
    if (first) first.source = event.source;
  };

  /**
   * A plain read's answer at once (no promise) when the manager is a
   * `withCache` one holding `name` fresh (`note.source` is then `cache`);
   * `undefined` otherwise: call {@linkcode read}. Plain reads only (no
   * stage, version or field): the cache is asked for the name's own entry.
   */
  readNow(name: string, note: SourceNote): SecretRead | undefined {
    const fresh = this.#fresh;
    if (fresh === undefined) return undefined;
    note.source = "backend";
    this.#starting = note;
    this.#startingName = name;
    try {
      return fresh.call(this.#manager, name, true);
    } finally {
      this.#starting = undefined;
    }
  }

  /**
   * Reads `name`; `note.source` says who answered (`backend` unless the cache
   * said it served the read). A hit costs no allocation here: the cache's
   * serve event arrives during the call, before it returns.
   */
  read(name: string, opts: ReadOptions | undefined, note: SourceNote): Promise<SecretRead> {
    note.source = "backend";
    this.#starting = note;
    this.#startingName = name;
    let pending: Promise<SecretRead>;
    try {
      pending = this.#manager.readSecret(name, opts);
    } catch (err) {
      return Promise.reject(err);
    } finally {
      this.#starting = undefined;
    }
    if (note.source !== "backend") return pending;
    // Not answered at once: a later serve event (a stale serve after the
    // backend failed) must still find this read.
    let list = this.#inFlight.get(name);
    if (!list) this.#inFlight.set(name, list = []);
    list.push(note);
    const done = () => {
      list.splice(list.indexOf(note), 1);
      if (list.length === 0 && this.#inFlight.get(name) === list) this.#inFlight.delete(name);
    };
    return pending.finally(done);
  }
}
