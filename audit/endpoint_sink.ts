/**
 * The endpoint audit sink (issue 16): an instance's audit events go in
 * batches to the host's endpoint, `POST /v1/audit`, which writes them
 * through its own Postgres sink and chain. Web-standard (fetch only).
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";
import { droppedEvent, EventBuffer, Settlement } from "./_buffer.ts";
import { AuditWriteFailedError } from "./jsonl_sink.ts";
import type { AuditEvent, AuditSink, AuditSinkHealth } from "./types.ts";

/**
 * Options of {@linkcode EndpointAuditSink}.
 *
 * @example
 * ```ts
 * import type { EndpointAuditSinkOptions } from "@keyward/secrets/fleet";
 *
 * const options: EndpointAuditSinkOptions = {
 *   url: "http://127.0.0.1:8787",
 *   token: "kw_example-token",
 *   batchSize: 200,
 *   maxBufferedEvents: 50_000,
 * };
 * if (options.batchSize !== 200) throw new Error();
 * ```
 */
export interface EndpointAuditSinkOptions {
  /** The endpoint's base URL (`KEYWARD_ENDPOINT_URL`). */
  url: string;
  /** A token with the `audit-write` role (`KEYWARD_ENDPOINT_TOKEN`); its service names the events. */
  token: string;
  /**
   * This instance's id, which with the per-instance seq lets the endpoint write a resent batch once.
   * @default {a random UUID}
   */
  instanceId?: string;
  /**
   * Events per request.
   * @default {500}
   */
  batchSize?: number;
  /**
   * Events held while the endpoint is down; past this the oldest are
   * dropped, counted, and reported by a `dropped` event once it answers.
   * @default {100000}
   */
  maxBufferedEvents?: number;
  /**
   * How long a partial batch waits for more events, in milliseconds.
   * @default {200}
   */
  flushIntervalMs?: number;
  /**
   * The first retry delay, in milliseconds; doubles up to `retryMaxMs`.
   * @default {250}
   */
  retryMinMs?: number;
  /**
   * The longest retry delay, in milliseconds.
   * @default {5000}
   */
  retryMaxMs?: number;
  /**
   * How long one request may take before it is abandoned and resent, in milliseconds.
   * @default {10000}
   */
  requestTimeoutMs?: number;
  /**
   * How long `close()` keeps trying to send what is buffered, in milliseconds.
   * @default {10000}
   */
  closeTimeoutMs?: number;
  /**
   * The fetch to use.
   * @default {globalThis.fetch}
   */
  fetch?: typeof fetch;
  /**
   * The clock, in epoch milliseconds.
   * @default {Date.now}
   */
  now?: () => number;
}

/**
 * Counters of an {@linkcode EndpointAuditSink}.
 *
 * @example
 * ```ts
 * import type { EndpointAuditSinkStats } from "@keyward/secrets/fleet";
 *
 * const healthy = (s: EndpointAuditSinkStats) => s.dropped === 0 && s.buffered < 10_000;
 * const stats = { recorded: 3, written: 3, dropped: 0, buffered: 0, failedPosts: 0, duplicates: 0 };
 * if (!healthy({ ...stats, lastError: null })) {
 *   throw new Error();
 * }
 * ```
 */
export interface EndpointAuditSinkStats {
  /** Accesses recorded. */
  recorded: number;
  /** Accesses the endpoint confirmed written. */
  written: number;
  /** Accesses dropped (buffer full, the sink closed, or a batch the endpoint can never take). */
  dropped: number;
  /** Events waiting (in the buffer and in the batch being sent). */
  buffered: number;
  /** Requests that failed and were retried. */
  failedPosts: number;
  /**
   * Events the endpoint answered as already written: a batch resent after
   * its answer was lost, written once.
   */
  duplicates: number;
  /** What the last failed request failed with (`http_503`, an error name), while failing. */
  lastError: string | null;
}

interface Batch {
  body: string;
  accesses: number;
  size: number;
}

/**
 * Sends audit events to the endpoint's `POST /v1/audit`. `record()` is
 * synchronous (enqueue only). Each batch carries the instance's id and
 * consecutive per-instance seq numbers, assigned when the batch is formed
 * and kept across resends, so the endpoint writes a batch resent after a
 * timeout once. While the endpoint is down the events stay buffered (up to
 * `maxBufferedEvents`; then the oldest are dropped and a `dropped` event
 * reports how many), like the Postgres sink.
 *
 * @example Against a stand-in endpoint that records the batches
 * ```ts
 * import { EndpointAuditSink } from "@keyward/secrets/fleet";
 * import { MemorySecretManager, withAudit } from "@keyward/secrets";
 *
 * const bodies: { instance: string; events: { seq: number; secretName: string }[] }[] = [];
 * const stub: typeof fetch = (_url, init) => {
 *   bodies.push(JSON.parse(String(init?.body)));
 *   return Promise.resolve(Response.json({ accepted: 1, duplicates: 0 }));
 * };
 * const sink = new EndpointAuditSink({ url: "http://127.0.0.1:8787", token: "t", instanceId: "i-1", fetch: stub });
 * const secrets = withAudit(new MemorySecretManager(), sink, { service: "from-the-token" });
 * await secrets.listSecrets("db/");
 * await secrets.close();
 * if (bodies[0].instance !== "i-1" || bodies[0].events[0].seq !== 1) throw new Error();
 * if (bodies[0].events[0].secretName !== "db/") throw new Error();
 * ```
 */
export class EndpointAuditSink implements AuditSink {
  readonly #url: string;
  readonly #token: string;
  readonly #instance: string;
  readonly #batchSize: number;
  readonly #flushMs: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #timeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #buffer: EventBuffer;
  #seq = 0;
  #inflight: Batch | null = null;
  #loop: Promise<void> | null = null;
  #wakeUp: (() => void) | null = null;
  #urgent = false;
  #idle = false;
  #closed = false;
  #stopped = false;
  #failing = false;
  /** Accesses written or dropped, and the flush() and confirm() callers waiting for them. */
  readonly #settlement = new Settlement();
  #stats: EndpointAuditSinkStats = {
    recorded: 0,
    written: 0,
    dropped: 0,
    buffered: 0,
    failedPosts: 0,
    duplicates: 0,
    lastError: null,
  };

  /** Creates the sink; it sends on the first event. */
  constructor(options: EndpointAuditSinkOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new ConfigError("the endpoint URL is not a URL");
    }
    if (!options.token) {
      throw new ConfigError("the endpoint needs a token with the audit-write role");
    }
    this.#url = `${url.toString().replace(/\/+$/, "")}/v1/audit`;
    this.#token = options.token;
    this.#instance = options.instanceId ?? crypto.randomUUID();
    if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(this.#instance)) {
      throw new ConfigError(
        "option instanceId must be 1 to 128 letters, digits, '_', '.', ':', '-'",
      );
    }
    this.#batchSize = Math.min(1000, Math.max(1, options.batchSize ?? 500));
    const max = options.maxBufferedEvents ?? 100_000;
    if (!Number.isInteger(max) || max < this.#batchSize) {
      throw new RangeError("option maxBufferedEvents must be an integer >= batchSize");
    }
    this.#buffer = new EventBuffer(max);
    this.#flushMs = options.flushIntervalMs ?? 200;
    this.#retryMinMs = options.retryMinMs ?? 250;
    this.#retryMaxMs = options.retryMaxMs ?? 5_000;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#now = options.now ?? Date.now;
  }

  /** This instance's id, as sent with every batch. */
  get instanceId(): string {
    return this.#instance;
  }

  /** Counters (a snapshot). */
  stats(): EndpointAuditSinkStats {
    return { ...this.#stats, buffered: this.#buffer.length + (this.#inflight?.size ?? 0) };
  }

  /** Whether sending is failing now. */
  health(): AuditSinkHealth {
    return { failing: this.#failing, lastError: this.#failing ? this.#stats.lastError : null };
  }

  /** Enqueues one event: synchronous, no I/O, never throws. */
  record(event: AuditEvent): void {
    this.#stats.recorded += event.count;
    if (this.#closed) {
      this.#drop(event.count);
      return;
    }
    const before = this.#buffer.dropped;
    this.#buffer.push(event, this.#inflight?.size ?? 0);
    if (this.#buffer.dropped > before) this.#drop(this.#buffer.dropped - before);
    if (this.#idle || this.#buffer.length >= this.#batchSize) this.#wake();
    this.#loop ??= this.#run();
  }

  /** Resolves once every event recorded before the call is written or dropped. */
  flush(): Promise<void> {
    return this.#settlement.flush(this.#stats.recorded, this.#kick);
  }

  /** Wakes the writer for a waiting flush() or confirm(): at once, not after the back-off. */
  readonly #kick = (): void => {
    this.#urgent = true;
    this.#wake();
    this.#loop ??= this.#run();
  };

  /**
   * Resolves once every event recorded before the call is written; rejects
   * as soon as a request fails (the events stay buffered and are resent) or
   * one of them is dropped. For `withAudit`'s `onFailure: "fail"`.
   */
  confirm(): Promise<void> {
    const target = this.#stats.recorded;
    const dropped = this.#stats.dropped;
    return this.#settlement.confirm(target, this.#kick).then(() => {
      if (this.#stats.dropped > dropped) throw new AuditWriteFailedError("lost");
    });
  }

  /** Sends what is buffered (for at most `closeTimeoutMs`); what is left is counted as dropped. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.flush(),
      new Promise<void>((r) => (timer = setTimeout(r, this.#closeTimeoutMs))),
    ]);
    clearTimeout(timer);
    this.#stopped = true;
    this.#wake();
    await this.#loop;
    const lost = this.#buffer.length + (this.#inflight?.accesses ?? 0);
    if (lost > 0) {
      this.#buffer.take(this.#buffer.length);
      this.#inflight = null;
      this.#drop(lost);
    }
    this.#settlement.releaseAll();
  }

  #drop(n: number): void {
    this.#stats.dropped += n;
    this.#settlement.add(n);
  }

  #wake(): void {
    const w = this.#wakeUp;
    this.#wakeUp = null;
    w?.();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wakeUp = null;
        resolve();
      }, ms);
      this.#wakeUp = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** The next batch: the drop report first, then up to `batchSize` events, seq numbered. */
  #form(): Batch | null {
    const events = this.#buffer.take(this.#batchSize);
    const lost = this.#buffer.takeDropped();
    if (lost.count > 0) events.unshift(droppedEvent(lost.count, lost.service, this.#now()));
    if (events.length === 0) return null;
    let accesses = 0;
    const wire = events.map((e) => {
      if (e.action !== "dropped") accesses += e.count;
      this.#seq += 1;
      const { service: _service, ...rest } = e;
      return { seq: this.#seq, ...rest };
    });
    return {
      body: JSON.stringify({ instance: this.#instance, events: wire }),
      accesses,
      size: events.length,
    };
  }

  async #run(): Promise<void> {
    let delay = this.#retryMinMs;
    while (!this.#stopped) {
      if (!this.#inflight) {
        if (!this.#urgent && this.#buffer.length < this.#batchSize) {
          if (this.#buffer.length === 0 && this.#buffer.dropped === 0) {
            // Nothing to send: wait, without a timer, for the next event (or close).
            this.#idle = true;
            await new Promise<void>((resolve) => (this.#wakeUp = resolve));
            this.#idle = false;
            continue;
          }
          await this.#sleep(this.#flushMs);
        }
        this.#inflight = this.#form();
        if (!this.#inflight) {
          this.#urgent = false;
          continue;
        }
      }
      const status = await this.#post(this.#inflight.body);
      if (typeof status === "object") {
        this.#stats.duplicates += status.duplicates;
        this.#stats.written += this.#inflight.accesses;
        this.#settlement.add(this.#inflight.accesses);
        this.#inflight = null;
        this.#failing = false;
        this.#stats.lastError = null;
        delay = this.#retryMinMs;
        if (this.#settlement.settled >= this.#stats.recorded) this.#urgent = false;
        continue;
      }
      this.#stats.failedPosts += 1;
      this.#failing = true;
      this.#stats.lastError = typeof status === "number" ? `http_${status}` : status;
      if (status === 400 || status === 413) {
        // The endpoint can never take this batch: count it lost, report it in the next one.
        const b = this.#inflight;
        this.#inflight = null;
        this.#buffer.dropped += b.accesses;
        this.#drop(b.accesses);
        continue;
      }
      this.#settlement.fail(new AuditWriteFailedError(this.#stats.lastError ?? "unknown"));
      await this.#sleep(delay);
      delay = Math.min(delay * 2, this.#retryMaxMs);
    }
  }

  /** `{duplicates}` for a 200, else the status or the error's name. */
  async #post(body: string): Promise<{ duplicates: number } | number | string> {
    try {
      const res = await this.#fetch(this.#url, {
        method: "POST",
        headers: { authorization: `Bearer ${this.#token}`, "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      if (res.status === 200) {
        const answer = await res.json().catch(() => ({})) as { duplicates?: unknown };
        return { duplicates: typeof answer.duplicates === "number" ? answer.duplicates : 0 };
      }
      await res.body?.cancel();
      return res.status;
    } catch (err) {
      return err instanceof Error ? err.name : "unknown";
    }
  }
}
