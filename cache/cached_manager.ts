/**
 * `withCache`: the credential cache that keeps a service running through a
 * backend outage. Fresh hits are a `Map` lookup; misses are single-flight;
 * entries read late in their life are refreshed ahead; an unreachable,
 * timing-out or throttling backend is ridden out with the last good value for
 * a bounded time; an optional encrypted snapshot lets a restarted instance do
 * the same; rotation events push changes to every instance.
 *
 * @module
 */

import {
  ConfigError,
  KeywardError,
  ManagerClosedError,
  SecretAccessError,
} from "../core/errors.ts";
import { keywardLogger } from "../core/log.ts";
import { validateName, validateReadOptions } from "../core/names.ts";
import type {
  DeleteOptions,
  ReadOptions,
  SecretManager,
  SecretMetadata,
  SecretRead,
  SecretValue,
  SecretVersion,
  ServeEvent,
  ServeListener,
  SignalOptions,
  Stage,
  WriteOptions,
} from "../core/types.ts";
import type { RotationEvents } from "./rotation_events.ts";
import type { AttachedSnapshot, CacheSnapshot, SnapshotEntry } from "./snapshot.ts";

/**
 * Options of {@linkcode withCache}.
 *
 * @example Every option on the memory backend, with a clock you move by hand
 * ```ts
 * import { InMemoryRotationEvents, MemorySecretManager, type ServeEvent, withCache } from "@keyward/secrets";
 *
 * let now = 0;
 * const served: ServeEvent["source"][] = [];
 * const secrets = withCache(new MemorySecretManager({ initial: { "db/password": "pw-0001" } }), {
 *   ttlMs: 30_000,
 *   staleIfErrorMs: 600_000,
 *   staleRetryMs: 2_000,
 *   maxEntries: 500,
 *   now: () => now,
 *   onServe: (event) => served.push(event.source),
 *   rotationEvents: new InMemoryRotationEvents(),
 * });
 * await secrets.ready;
 * await secrets.getSecret("db/password"); // fetched
 * now = 29_000;
 * await secrets.getSecret("db/password"); // still within ttlMs: a cache hit
 * if (served.join() !== "cache" || secrets.stats().hits !== 1) throw new Error(served.join());
 * await secrets.close();
 * ```
 */
export interface CacheOptions {
  /**
   * How long a fetched value is served without I/O, in milliseconds.
   * @default {3_600_000}
   */
  ttlMs?: number;
  /**
   * How long past its expiry the last good value may still be served while
   * the backend is unreachable, times out or throttles, in milliseconds.
   * `0` never serves a stale value.
   * @default {3_600_000}
   */
  staleIfErrorMs?: number;
  /**
   * Once a stale value has been served, how long other reads of it get the
   * stale value at once, without waiting for the failing backend; after
   * that, one read tries the backend again (and the others keep getting
   * the stale value meanwhile). `0` makes every read wait for the backend.
   * @default {5_000}
   */
  staleRetryMs?: number;
  /**
   * The most entries kept (one per name, stage, version and field read);
   * the least recently used entry is evicted first. (A hit on an entry that
   * is already among the newest half is not moved, so an entry is evicted
   * only after more than `maxEntries / 2` others were used since its last
   * read.)
   * @default {1000}
   */
  maxEntries?: number;
  /**
   * The clock, in epoch milliseconds.
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * Called for every read the cache serves itself (`cache`: a fresh hit;
   * `stale`: the last good value during an outage). Give it an audit
   * wrapper's `recordServe`. Runs on the hot path: it must not do I/O.
   */
  onServe?: ServeListener;
  /**
   * The last-known-good snapshot, built by `encryptedSnapshot({ store, key })`;
   * off unless given.
   */
  snapshot?: CacheSnapshot;
  /**
   * Subscribe to these rotation events at once (see
   * {@linkcode CachedSecretManager.subscribe}); writes through the cache
   * publish the written name on them.
   */
  rotationEvents?: RotationEvents;
}

/**
 * Counters of a {@linkcode CachedSecretManager}, since it was created.
 *
 * @example
 * ```ts
 * import { MemorySecretManager, withCache } from "@keyward/secrets";
 *
 * const backend = new MemorySecretManager({ initial: { "a/one": "value-0001", "a/two": "value-0002" } });
 * const secrets = withCache(backend, { maxEntries: 1 });
 * await secrets.getSecret("a/one"); // a miss
 * await secrets.getSecret("a/one"); // a hit
 * await secrets.getSecret("a/two"); // a miss that evicts a/one
 * const { hits, misses, evictions, size, inFlight } = secrets.stats();
 * if (hits !== 1 || misses !== 2 || evictions !== 1 || size !== 1 || inFlight !== 0) throw new Error();
 * await secrets.close();
 * ```
 */
export interface CacheStats {
  /** Reads served fresh from the cache, without I/O. */
  hits: number;
  /** Reads that were not fresh hits (cold, expired, or `forceFetch`). */
  misses: number;
  /** Reads answered with the last good value while the backend failed. */
  staleServes: number;
  /** Backend reads that failed (foreground or background). */
  refreshErrors: number;
  /** Backend reads in progress now. */
  inFlight: number;
  /** Entries dropped to stay within `maxEntries`. */
  evictions: number;
  /** Entries held now. */
  size: number;
}

/**
 * A {@linkcode SecretManager} with a cache in front; see {@linkcode withCache}.
 *
 * @example Invalidate, clear and follow rotation events
 * ```ts
 * import { type CachedSecretManager, InMemoryRotationEvents, MemorySecretManager, withCache } from "@keyward/secrets";
 *
 * const backend = new MemorySecretManager({ initial: { "db/password": "pw-0001" } });
 * const events = new InMemoryRotationEvents();
 * const secrets: CachedSecretManager = withCache(backend, { ttlMs: 60_000 });
 * const stop = await secrets.subscribe(events);
 *
 * await secrets.getSecret("db/password");
 * await backend.setSecret("db/password", "pw-0002"); // written behind the cache's back
 * if (await secrets.getSecret("db/password") !== "pw-0001") throw new Error("not cached");
 * await events.publish(["db/password"]); // another instance rotated it
 * await secrets.whenIdle(); // the refetch has landed
 * if (await secrets.getSecret("db/password") !== "pw-0002") throw new Error("not refetched");
 *
 * secrets.invalidate("db/password");
 * secrets.clear();
 * if (secrets.stats().size !== 0) throw new Error();
 * await stop();
 * await secrets.close();
 * ```
 */
export interface CachedSecretManager extends SecretManager {
  /** Drops every cached read of `name` (all stages, versions and fields). */
  invalidate(name: string): void;
  /** Drops everything cached. */
  clear(): void;
  /** The counters, as a fresh object. */
  stats(): CacheStats;
  /**
   * Listens to rotation events: a named secret is refetched at once (its old
   * value is still the last good one if the backend is down); after a
   * reconnect everything cached is refetched, since events may have been
   * missed. Resolves to a function that stops listening.
   */
  subscribe(events: RotationEvents): Promise<() => Promise<void>>;
  /**
   * Settles when the subscription given as `options.rotationEvents` is in
   * place (rejects if it could not be made); resolves at once without one.
   */
  readonly ready: Promise<void>;
  /** Settles when the background refreshes and snapshot writes started so far are done. */
  whenIdle(): Promise<void>;
}

/**
 * The default `ttlMs`: one hour.
 *
 * @example An entry older than the default TTL is fetched again
 * ```ts
 * import { DEFAULT_CACHE_TTL_MS, MemorySecretManager, withCache } from "@keyward/secrets";
 *
 * let now = 0;
 * const secrets = withCache(new MemorySecretManager({ initial: { "a/b": "value-0001" } }), {
 *   now: () => now,
 * });
 * await secrets.getSecret("a/b");
 * now = DEFAULT_CACHE_TTL_MS + 1;
 * await secrets.getSecret("a/b");
 * if (secrets.stats().misses !== 2) throw new Error();
 * ```
 */
export const DEFAULT_CACHE_TTL_MS = 3_600_000;
/**
 * The default `staleIfErrorMs`: one hour.
 *
 * @example An outage longer than the default stale window surfaces
 * ```ts
 * import { DEFAULT_CACHE_STALE_MS, DEFAULT_CACHE_TTL_MS, MemorySecretManager, withCache } from "@keyward/secrets";
 * import { FaultyManager } from "@keyward/secrets/testing";
 *
 * let now = 0;
 * const backend = new FaultyManager(new MemorySecretManager({ initial: { "a/b": "value-0001" } }));
 * const secrets = withCache(backend, { now: () => now, staleRetryMs: 0 });
 * await secrets.getSecret("a/b");
 * backend.fault = "down";
 * now = DEFAULT_CACHE_TTL_MS + DEFAULT_CACHE_STALE_MS - 1;
 * if (await secrets.getSecret("a/b") !== "value-0001") throw new Error("not served stale");
 * now = DEFAULT_CACHE_TTL_MS + DEFAULT_CACHE_STALE_MS + 1;
 * const failed = await secrets.getSecret("a/b").then(() => false, () => true);
 * if (!failed) throw new Error("served past the stale window");
 * ```
 */
export const DEFAULT_CACHE_STALE_MS = 3_600_000;
/**
 * The default `maxEntries`.
 *
 * @example The cache never holds more than the default number of entries
 * ```ts
 * import { DEFAULT_CACHE_MAX_ENTRIES, MemorySecretManager, withCache } from "@keyward/secrets";
 *
 * const initial: Record<string, string> = {};
 * for (let i = 0; i <= DEFAULT_CACHE_MAX_ENTRIES; i++) initial[`app/key-${i}`] = `value-${i}`;
 * const secrets = withCache(new MemorySecretManager({ initial }));
 * for (const name of Object.keys(initial)) await secrets.getSecret(name);
 * const { size, evictions } = secrets.stats();
 * if (size !== DEFAULT_CACHE_MAX_ENTRIES || evictions !== 1) throw new Error(`${size} ${evictions}`);
 * ```
 */
export const DEFAULT_CACHE_MAX_ENTRIES = 1000;
/** The default `staleRetryMs`: during an outage, one read retries the backend this often. */
export const DEFAULT_CACHE_STALE_RETRY_MS = 5_000;

/** The share of an entry's life after which a read refreshes it in the background. */
const REFRESH_AHEAD_AT = 0.9;
/** Background refetches run at most this many at a time (after a reconnect). */
const REFETCH_CONCURRENCY = 8;
const BACKEND = "cache";

/**
 * Wraps `manager` in a cache. Reads are cached per name, stage, version and
 * field; writes, promotions and deletions through the wrapper drop every
 * cached read of the name. When the backend is unreachable, times out or
 * throttles, the last good value is served for up to `staleIfErrorMs` past
 * its expiry, with a warning and a `stale` serve event; a missing secret, a
 * denial or invalid input always surface. `forceFetch: true` skips the cache
 * for one call and never falls back to a stale value.
 *
 * @example Fresh hits make no backend call
 * ```ts
 * import { MemorySecretManager, withCache } from "@keyward/secrets";
 * import { FaultyManager } from "@keyward/secrets/testing";
 *
 * const backend = new FaultyManager(new MemorySecretManager({ initial: { "db/password": "pw-0001" } }));
 * const secrets = withCache(backend, { ttlMs: 60_000 });
 * await secrets.getSecret("db/password");
 * await secrets.getSecret("db/password");
 * if (backend.calls.get !== 1 || secrets.stats().hits !== 1) throw new Error();
 * await secrets.close();
 * ```
 *
 * @example Riding out an outage with the last good value
 * ```ts
 * import { MemorySecretManager, withCache } from "@keyward/secrets";
 * import { FaultyManager } from "@keyward/secrets/testing";
 *
 * let now = 0;
 * const backend = new FaultyManager(new MemorySecretManager({ initial: { "db/password": "pw-0001" } }));
 * const secrets = withCache(backend, { ttlMs: 1_000, staleIfErrorMs: 10_000, now: () => now });
 * await secrets.getSecret("db/password");
 * backend.fault = "down";
 * now = 5_000; // expired, but within the stale window
 * if (await secrets.getSecret("db/password") !== "pw-0001") throw new Error();
 * if (secrets.stats().staleServes !== 1) throw new Error();
 * ```
 */
export function withCache(manager: SecretManager, options: CacheOptions = {}): CachedSecretManager {
  return new CachedManager(manager, options);
}

/**
 * A cached read. Kept small (issue 18: at most twice a bare `Map` entry): no
 * refresh instant (it is `expiresAt - #refreshLead` while `refreshing` is
 * false, the only time it is read), one shared object for a plain read's
 * `read`, and the serve events built on the first serve, not per entry.
 */
interface Entry {
  readonly name: string;
  readonly read: KeyRead;
  readonly value: string;
  /**
   * The version the backend reported; `undefined` for an entry seeded from a
   * snapshot (version unknown: it serves `getSecret` only).
   */
  readonly version: string | undefined;
  /** The stage the backend reported, if any. */
  readonly stage: Stage | undefined;
  /** Served fresh before this instant. */
  expiresAt: number;
  /**
   * Served stale (on an outage) up to `expiresAt + staleFor` (an offset, not
   * an instant: a small integer takes no heap number of its own).
   */
  staleFor: number;
  /**
   * A background refresh was started for this entry (or it was seeded or
   * expired early); once true it stays true, and the refresh-ahead instant
   * is no longer read.
   */
  refreshing: boolean;
  /**
   * 0, or: the backend failed and the entry was served stale; until this
   * instant reads get the stale value without a backend call.
   */
  retryAt: number;
  /** The value of the cache's move counter when the entry last moved to the newest end. */
  tick: number;
  /** The `cache` and `stale` serve events, each built on its first serve so later ones allocate nothing. */
  events: ServeEvent[] | undefined;
}

/** What identifies a cached read besides the name. */
interface KeyRead {
  stage?: Stage;
  version?: string;
  field?: string;
}

interface Flight {
  readonly key: string;
  readonly promise: Promise<SecretRead>;
  readonly forced: boolean;
  /** Its result must not be stored (a write or a newer fetch superseded it). */
  discarded: boolean;
  /** A stale serve was already logged for this failure. */
  warned: boolean;
  /** The flight raced against each caller signal, shared by every caller passing that signal. */
  raced?: WeakMap<AbortSignal, Promise<SecretRead>>;
}

const OUTAGE_REASONS = new Set(["unreachable", "timeout", "throttled"]);

/** True for the failures a stale value may ride out: unreachable, timeout, throttled. */
function isOutage(err: unknown): err is SecretAccessError {
  return err instanceof SecretAccessError && OUTAGE_REASONS.has(err.reason);
}

/** The cache key: the bare name for a plain current read, else name + stage + version + field. */
function keyOf(name: string, opts: ReadOptions): string {
  const stage = opts.stage;
  if (
    opts.version === undefined && opts.field === undefined &&
    (stage === undefined || stage === "current")
  ) {
    return name;
  }
  // NUL cannot occur in a valid name, stage, version or field.
  return `${name}\u0000${stage ?? "current"}\u0000${opts.version ?? ""}\u0000${opts.field ?? ""}`;
}

/** The `read` of every plain current read: one object, not one per entry. */
const PLAIN_READ: KeyRead = Object.freeze({});

function readOf(opts: ReadOptions | undefined): KeyRead {
  const read: KeyRead = {};
  if (opts?.stage !== undefined && (opts.stage !== "current" || opts.version !== undefined)) {
    read.stage = opts.stage;
  }
  if (opts?.version !== undefined) read.version = opts.version;
  if (opts?.field !== undefined) read.field = opts.field;
  return Object.keys(read).length ? read : PLAIN_READ;
}

/** An integer option of at least `min`, or `fallback` when not given. */
function integerOption(value: unknown, option: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new ConfigError(`option ${option} must be an integer of at least ${min}`);
  }
  return value;
}

class CachedManager implements CachedSecretManager {
  readonly #inner: SecretManager;
  readonly #ttlMs: number;
  readonly #staleMs: number;
  readonly #staleRetryMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #onServe: ServeListener | undefined;
  readonly #events: RotationEvents | undefined;
  readonly #log = keywardLogger("cache");
  /** Insertion order is recency order: a hit re-inserts its entry. */
  readonly #entries = new Map<string, Entry>();
  readonly #flights = new Map<string, Flight>();
  readonly #background = new Set<Promise<unknown>>();
  readonly #unsubscribers = new Set<() => Promise<void>>();
  #closed = false;
  #hits = 0;
  #misses = 0;
  #staleServes = 0;
  #refreshErrors = 0;
  #evictions = 0;
  /** Counts moves to the newest end of `#entries` (inserts and LRU moves). */
  #tick = 0;
  /** A hit moves its entry only when it is at least this many moves old. */
  readonly #moveAfter: number;
  /** A fresh entry is refreshed ahead once it expires within this many milliseconds. */
  readonly #refreshLead: number;
  /** A backend read succeeded at least once: start-up is over. */
  #fetchedOnce = false;

  /** The snapshot bound to this cache, if one was given. */
  readonly #snapshot: AttachedSnapshot | undefined;

  readonly ready: Promise<void>;

  constructor(inner: SecretManager, options: CacheOptions) {
    this.#inner = inner;
    this.#ttlMs = integerOption(options.ttlMs, "ttlMs", DEFAULT_CACHE_TTL_MS, 1);
    this.#staleMs = integerOption(
      options.staleIfErrorMs,
      "staleIfErrorMs",
      DEFAULT_CACHE_STALE_MS,
      0,
    );
    this.#staleRetryMs = integerOption(
      options.staleRetryMs,
      "staleRetryMs",
      DEFAULT_CACHE_STALE_RETRY_MS,
      0,
    );
    this.#maxEntries = integerOption(
      options.maxEntries,
      "maxEntries",
      DEFAULT_CACHE_MAX_ENTRIES,
      1,
    );
    this.#moveAfter = Math.max(1, this.#maxEntries >> 1);
    this.#refreshLead = this.#ttlMs - Math.floor(this.#ttlMs * REFRESH_AHEAD_AT);
    if (options.now !== undefined && typeof options.now !== "function") {
      throw new ConfigError("option now must be a function");
    }
    this.#now = options.now ?? Date.now;
    this.#onServe = options.onServe;
    const snapshot = options.snapshot;
    if (snapshot !== undefined) {
      if (typeof snapshot?.attach !== "function") {
        throw new ConfigError("option snapshot must be an encryptedSnapshot()");
      }
      this.#snapshot = snapshot.attach({
        now: () => this.#now(),
        entries: () => this.#liveEntries(),
        seed: (entries) => this.#seed(entries),
      });
    }
    this.#events = options.rotationEvents;
    if (this.#events !== undefined) {
      this.ready = this.subscribe(this.#events).then(() => {});
      // Marked handled here; a caller awaiting `ready` still sees a failure.
      this.ready.catch((err) => {
        this.#log.error("Subscribing failed: {error}", { error: err });
      });
    } else {
      this.ready = Promise.resolve();
    }
  }

  // ---------------------------------------------------------------- reads

  getSecret(name: string, opts?: ReadOptions): Promise<string> {
    return this.#get(name, opts, false) as Promise<string>;
  }

  /**
   * Like {@linkcode getSecret}, with the version the value came from (kept
   * with the cached value). An entry restored from a snapshot carries the
   * version the backend reported when it was saved; one from an older
   * snapshot without it serves `getSecret` only.
   */
  readSecret(name: string, opts?: ReadOptions): Promise<SecretRead> {
    return this.#get(name, opts, true) as Promise<SecretRead>;
  }

  /** The read path of both: `whole` answers a {@linkcode SecretRead}, else the value. */
  #get(name: string, opts: ReadOptions | undefined, whole: boolean): Promise<string | SecretRead> {
    if (this.#closed) return Promise.reject(new ManagerClosedError(BACKEND));
    let key = name;
    if (opts !== undefined) {
      if (opts.forceFetch === true) return this.#miss(keyOf(name, opts), name, opts, whole);
      if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
      key = keyOf(name, opts);
    }
    const fresh = this.readFresh(key, whole);
    if (fresh !== undefined) return Promise.resolve(fresh);
    const entry = this.#entries.get(key);
    if (entry?.retryAt && (!whole || entry.version !== undefined)) {
      // The backend failed on this entry a moment ago: serve the stale
      // value at once instead of making every read wait for it to fail.
      const now = this.#now();
      if (now < entry.retryAt && now <= staleUntil(entry)) {
        this.#staleServes++;
        if (this.#onServe !== undefined) this.#served(entry, 1);
        return Promise.resolve(whole ? answer(entry) : entry.value);
      }
      // This read tries the backend again; reads meanwhile get the stale value.
      entry.retryAt = now + this.#staleRetryMs;
    }
    return this.#miss(key, name, opts, whole);
  }

  /**
   * A fresh entry's value (`whole`: its {@linkcode SecretRead}) at once,
   * without a promise, with a hit's bookkeeping (counted, moved, reported to
   * `onServe`); `undefined` when the entry is not fresh (then call
   * `readSecret`). `key` is the name for a plain read. The hit path of
   * `getSecret` and `readSecret`, and the endpoint's (server/_read.ts), whose
   * cached reads then answer synchronously. Nothing is fresh once the cache
   * is closed (closing empties it and nothing is stored after).
   */
  readFresh(key: string, whole: boolean): string | SecretRead | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || (whole && entry.version === undefined)) return undefined;
    const now = this.#now();
    if (now >= entry.expiresAt) return undefined;
    // LRU bookkeeping: a used entry moves to the end of the Map (the
    // newest end), unless it already sits in the newest half, where it is
    // far from eviction; that keeps the hit path free of Map churn.
    if (this.#tick - entry.tick >= this.#moveAfter) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      entry.tick = ++this.#tick;
    }
    this.#hits++;
    if (!entry.refreshing && now >= entry.expiresAt - this.#refreshLead) {
      this.#refreshAhead(entry);
    }
    if (this.#onServe !== undefined) this.#served(entry, 0);
    return whole ? answer(entry) : entry.value;
  }

  /** Asks the backend (one flight per key) once the name and options passed. */
  async #miss(
    key: string,
    name: string,
    opts: ReadOptions | undefined,
    whole: boolean,
  ): Promise<string | SecretRead> {
    // Checked here, not only by the backend: an invalid read must not reach the layers
    // between (audit, fault injection) nor join a flight. The signal was checked by #get.
    validateName(name);
    validateReadOptions(name, opts);
    this.#misses++;
    const forced = opts?.forceFetch === true;
    let flight = this.#flights.get(key);
    if (flight === undefined || (forced && !flight.forced)) {
      flight = this.#startFlight(key, name, readOf(opts), forced);
    }
    try {
      const read = await (opts?.signal ? racedFlight(flight, opts.signal) : flight.promise);
      return whole ? read : read.value;
    } catch (err) {
      // forceFetch: the caller's credential was just rejected; the old value
      // would be rejected too, so the error surfaces and the caller decides.
      if (forced || !isOutage(err)) throw err;
      const stale = await this.#staleEntry(key, err);
      if (stale === undefined || (whole && stale.version === undefined)) throw err;
      this.#staleServes++;
      if (!flight.warned) {
        flight.warned = true;
        this.#log.warn(
          // stage, version and field travel as the record's properties
          "Serving stale secret {secret}, {expiredMs} ms past expiry: {reason}",
          {
            secret: name,
            stage: stale.read.stage ?? null,
            version: stale.read.version ?? null,
            field: stale.read.field ?? null,
            reason: err.reason,
            backend: err.backend ?? null,
            expiredMs: Math.max(0, this.#now() - stale.expiresAt),
          },
        );
      }
      if (this.#staleRetryMs > 0) stale.retryAt = this.#now() + this.#staleRetryMs;
      if (this.#onServe !== undefined) this.#served(stale, 1);
      return whole ? answer(stale) : stale.value;
    }
  }

  /** The entry that may be served stale for `key` now, loading the snapshot at start-up. */
  async #staleEntry(key: string, err: SecretAccessError): Promise<Entry | undefined> {
    let entry = this.#entries.get(key);
    if (
      entry === undefined && this.#snapshot !== undefined && !this.#fetchedOnce &&
      err.reason !== "throttled" // a throttling backend is reachable
    ) {
      await this.#snapshot.restore(err.reason);
      entry = this.#entries.get(key);
    }
    if (entry === undefined) return undefined;
    const now = this.#now();
    if (now > staleUntil(entry)) {
      this.#log.error(
        "Secret {secret} past its stale window: {reason}",
        { secret: entry.name, reason: err.reason, backend: err.backend ?? null },
      );
      return undefined;
    }
    return entry;
  }

  #startFlight(key: string, name: string, read: KeyRead, forced: boolean): Flight {
    const previous = this.#flights.get(key);
    if (previous !== undefined) previous.discarded = true;
    const backendOpts: ReadOptions = forced ? { ...read, forceFetch: true } : read;
    const flight: Flight = {
      key,
      forced,
      discarded: false,
      warned: false,
      promise: this.#inner.readSecret(name, backendOpts).then(
        (got) => {
          this.#fetchedOnce = true;
          if (this.#flights.get(key) === flight) this.#flights.delete(key);
          if (!flight.discarded && !this.#closed) this.#store(key, name, read, got);
          return got;
        },
        (err: unknown) => {
          if (this.#flights.get(key) === flight) this.#flights.delete(key);
          this.#refreshErrors++;
          if (!flight.discarded && err instanceof KeywardError && err.code === "not_found") {
            this.#drop(key);
          } else if (!isOutage(err)) {
            // A denial or other non-outage answer ends the stale fast path:
            // the next reads ask the backend and see the error too.
            const entry = this.#entries.get(key);
            if (entry !== undefined) entry.retryAt = 0;
          }
          throw err;
        },
      ),
    };
    this.#flights.set(key, flight);
    return flight;
  }

  #store(key: string, name: string, read: KeyRead, got: SecretRead): void {
    const now = this.#now();
    const expiresAt = now + this.#ttlMs;
    this.#put(
      key,
      name,
      read,
      got.value,
      got.version,
      got.stage,
      expiresAt,
      expiresAt + this.#staleMs,
    );
    this.#evict();
    this.#markSnapshotDirty();
  }

  /** Puts an entry at the newest end, keeping the serve events of the entry it replaces. */
  #put(
    key: string,
    name: string,
    read: KeyRead,
    value: string,
    version: string | undefined,
    stage: Stage | undefined,
    expiresAt: number,
    staleUntil: number,
  ): void {
    const old = this.#entries.get(key);
    if (old !== undefined) this.#entries.delete(key);
    this.#entries.set(key, {
      name,
      read,
      value,
      version,
      stage,
      expiresAt,
      staleFor: staleUntil - expiresAt,
      // A seeded entry (no version known) is never fresh and needs no refresh-ahead.
      refreshing: version === undefined,
      retryAt: 0,
      tick: ++this.#tick,
      events: old?.events,
    });
  }

  #evict(): void {
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
      this.#evictions++;
    }
  }

  #drop(key: string): void {
    if (this.#entries.delete(key)) this.#markSnapshotDirty();
  }

  #refreshAhead(entry: Entry): void {
    entry.refreshing = true;
    if (this.#flights.has(keyOf(entry.name, entry.read))) return;
    this.#refetch(entry);
  }

  /** Starts a background fetch of `entry`'s read; its failure is logged and counted, never thrown. */
  #refetch(entry: Entry): Promise<void> {
    const flight = this.#startFlight(keyOf(entry.name, entry.read), entry.name, entry.read, false);
    const done = flight.promise.then(
      () => {},
      (err: unknown) => {
        this.#log.warn(
          "Refreshing secret {secret} failed: {code}",
          { secret: entry.name, code: err instanceof KeywardError ? err.code : "error" },
        );
      },
    );
    this.#track(done);
    return done;
  }

  /** Tells `onServe` of a serve from the cache (0) or a stale one (1), with the entry's event. */
  #served(entry: Entry, stale: 0 | 1): void {
    // Object.assign, not a spread: a plain read's event stays a two-field object.
    const event = (entry.events ??= new Array(2))[stale] ??= Object.freeze(
      Object.assign(
        { name: entry.name, source: stale ? "stale" : "cache" } as ServeEvent,
        entry.read,
      ),
    );
    try {
      this.#onServe!(event);
    } catch (err) {
      this.#log.error("onServe threw: {error}", { error: err });
    }
  }

  #track(p: Promise<unknown>): void {
    this.#background.add(p);
    p.finally(() => this.#background.delete(p));
  }

  // -------------------------------------------------- passthrough and writes

  listSecrets(prefix?: string, opts?: SignalOptions): Promise<string[]> {
    if (this.#closed) return Promise.reject(new ManagerClosedError(BACKEND));
    return this.#inner.listSecrets(prefix, opts);
  }

  describeSecret(name: string, opts?: SignalOptions): Promise<SecretMetadata> {
    if (this.#closed) return Promise.reject(new ManagerClosedError(BACKEND));
    return this.#inner.describeSecret(name, opts);
  }

  async setSecret(name: string, value: SecretValue, opts?: WriteOptions): Promise<SecretVersion> {
    return await this.#write(name, () => this.#inner.setSecret(name, value, opts));
  }

  async promote(name: string, version: string, opts?: SignalOptions): Promise<SecretVersion> {
    return await this.#write(name, () => this.#inner.promote(name, version, opts));
  }

  async deleteSecret(name: string, opts?: DeleteOptions): Promise<void> {
    return await this.#write(name, () => this.#inner.deleteSecret(name, opts));
  }

  async deprecateVersion(name: string, version: string, opts?: SignalOptions): Promise<void> {
    return await this.#write(name, () => this.#inner.deprecateVersion(name, version, opts));
  }

  async destroyVersion(name: string, version: string, opts?: SignalOptions): Promise<void> {
    return await this.#write(name, () => this.#inner.destroyVersion(name, version, opts));
  }

  /** Runs a write, then drops the name whatever happened (a failed write may still have landed). */
  async #write<T>(name: string, op: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new ManagerClosedError(BACKEND);
    let result: T;
    try {
      result = await op();
    } finally {
      this.invalidate(name);
    }
    if (this.#events !== undefined) {
      try {
        await this.#events.publish([name]);
      } catch (err) {
        this.#log.warn(
          "Secret {secret} changed; its rotation event failed: {error}",
          { secret: name, error: err },
        );
      }
    }
    return result;
  }

  invalidate(name: string): void {
    for (const [key, entry] of this.#entries) {
      if (entry.name === name) this.#entries.delete(key);
    }
    for (const [key, flight] of this.#flights) {
      if (key === name || key.startsWith(name + "\u0000")) {
        flight.discarded = true;
        this.#flights.delete(key);
      }
    }
    this.#markSnapshotDirty();
  }

  clear(): void {
    this.#entries.clear();
    for (const flight of this.#flights.values()) flight.discarded = true;
    this.#flights.clear();
    this.#markSnapshotDirty();
  }

  stats(): CacheStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      staleServes: this.#staleServes,
      refreshErrors: this.#refreshErrors,
      inFlight: this.#flights.size,
      evictions: this.#evictions,
      size: this.#entries.size,
    };
  }

  // ------------------------------------------------------- rotation events

  async subscribe(events: RotationEvents): Promise<() => Promise<void>> {
    if (this.#closed) throw new ManagerClosedError(BACKEND);
    const stop = await events.subscribe(
      (names) => this.#onRotated(names),
      () => this.#onReconnected(),
    );
    let stopped = false;
    const unsubscribe = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      this.#unsubscribers.delete(unsubscribe);
      await stop();
    };
    this.#unsubscribers.add(unsubscribe);
    return unsubscribe;
  }

  #onRotated(names: string[]): void {
    const wanted = new Set(names);
    this.#refetchWhere((entry) => wanted.has(entry.name));
  }

  #onReconnected(): void {
    this.#log.info("Rotation events reconnected; refreshing all");
    this.#refetchWhere(() => true);
  }

  /**
   * Expires the matching entries (they stay the last good value for an
   * outage) and refetches them in the background, a few at a time.
   */
  #refetchWhere(match: (entry: Entry) => boolean): void {
    if (this.#closed) return;
    const now = this.#now();
    const due: Entry[] = [];
    for (const entry of this.#entries.values()) {
      if (!match(entry)) continue;
      if (entry.expiresAt > now) {
        entry.staleFor += entry.expiresAt - now; // the stale window stays where it was
        entry.expiresAt = now;
      }
      entry.refreshing = true;
      due.push(entry);
    }
    if (due.length === 0) return;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length && !this.#closed) {
        const entry = due[next++];
        // Only refetch what is still cached (a write or eviction may have dropped it).
        if (this.#entries.get(keyOf(entry.name, entry.read)) !== entry) continue;
        await this.#refetch(entry);
      }
    };
    for (let i = 0; i < Math.min(REFETCH_CONCURRENCY, due.length); i++) this.#track(worker());
  }

  // ------------------------------------------------------------- snapshot

  /** Adds the snapshot's entries the cache does not hold, within the stale window; never fresh. */
  #seed(entries: SnapshotEntry[]): number {
    const now = this.#now();
    let taken = 0;
    for (const e of entries) {
      if (now > e.expiresAt + this.#staleMs) continue;
      const read = readOf(e);
      const key = keyOf(e.name, read);
      if (this.#entries.has(key)) continue;
      // Never served fresh: the backend is always asked first.
      const at = Math.min(e.expiresAt, now);
      this.#put(
        key,
        e.name,
        read,
        e.value,
        e.served?.version,
        e.served?.stage,
        at,
        e.expiresAt + this.#staleMs,
      );
      taken++;
    }
    this.#evict();
    return taken;
  }

  /** The entries a snapshot keeps: those still within their stale window. */
  #liveEntries(): SnapshotEntry[] {
    const now = this.#now();
    const entries: SnapshotEntry[] = [];
    for (const e of this.#entries.values()) {
      if (staleUntil(e) < now) continue;
      entries.push({
        name: e.name,
        ...e.read,
        value: e.value,
        expiresAt: e.expiresAt,
        // The version read, so a stale serve from the snapshot reports it (readSecret);
        // undefined fields are dropped by the snapshot's JSON.
        served: e.version === undefined ? undefined : { version: e.version, stage: e.stage },
      });
    }
    return entries;
  }

  #markSnapshotDirty(): void {
    if (!this.#closed) this.#snapshot?.changed();
  }

  async whenIdle(): Promise<void> {
    for (;;) {
      const saving = this.#snapshot?.saving();
      if (this.#background.size === 0 && saving === undefined) return;
      await Promise.all([...this.#background, saving]);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    for (const stop of [...this.#unsubscribers]) {
      try {
        await stop();
      } catch (err) {
        this.#log.warn("Unsubscribing failed: {error}", { error: err });
      }
    }
    await this.whenIdle();
    this.#closed = true;
    this.#entries.clear();
    this.#flights.clear();
    await this.#inner.close();
  }
}

/** The {@linkcode SecretRead} a cached entry answers (only called when its version is known). */
/** Until when the entry may be served stale. */
function staleUntil(entry: Entry): number {
  return entry.expiresAt + entry.staleFor;
}

function answer({ value, version, stage }: Entry): SecretRead {
  return stage === undefined ? { value, version: version! } : { value, version: version!, stage };
}

/**
 * The callers waiting on each signal: one `abort` listener per signal, not
 * one per waiting caller, so a signal shared by thousands of concurrent
 * reads costs linear time (and Node's MaxListenersExceededWarning stays away).
 */
const waiting = new WeakMap<AbortSignal, Set<(reason: unknown) => void>>();

/** The flight's promise raced against `signal`, built once per flight and signal. */
function racedFlight(flight: Flight, signal: AbortSignal): Promise<SecretRead> {
  flight.raced ??= new WeakMap();
  let raced = flight.raced.get(signal);
  if (raced === undefined) {
    raced = raceSignal(flight.promise, signal);
    flight.raced.set(signal, raced);
  }
  return raced;
}

/** Settles like `promise`, or rejects with the signal's reason when it aborts first. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  let waiters = waiting.get(signal);
  if (waiters === undefined) {
    const set = new Set<(reason: unknown) => void>();
    waiters = set;
    waiting.set(signal, set);
    signal.addEventListener("abort", () => {
      waiting.delete(signal);
      for (const reject of set) reject(signal.reason);
      set.clear();
    }, { once: true });
  }
  const set = waiters;
  return new Promise<T>((resolve, reject) => {
    set.add(reject);
    promise.then(
      (v) => {
        set.delete(reject);
        resolve(v);
      },
      (e) => {
        set.delete(reject);
        reject(e);
      },
    );
  });
}
