/**
 * The audit of the secret routes, under the token's service (`anonymous`
 * when no valid token came). Names only, never a value.
 *
 * As `withAudit` does for a cache: a successful read the cache answered is
 * counted per (service, name, version, minute) and written as one event with
 * the count when the minute ends, on `flush()` and on shutdown. Every other
 * request (a read the backend answered, a stale serve, a listing, an error,
 * a denial) is one event of its own.
 *
 * @module
 */

import { MinuteWindow } from "../audit/_minute_window.ts";
import type {
  AuditAction,
  AuditEvent,
  AuditOutcome,
  AuditSink,
  AuditSource,
} from "../audit/types.ts";

/** What a handler fills in for the audit event of its request. */
export interface RequestAudit {
  /** `get` or `list`. */
  action: AuditAction;
  /** The name read, the prefix listed, or `[invalid]`. */
  name: string;
  /** The token's service, or `anonymous`. */
  service: string;
  /** Who answered. */
  source?: AuditSource;
  /** The version read. */
  version?: string;
  /** The error code, when the request failed. */
  errorCode?: string;
}

/** One counter: the requests of a minute served from the cache for one (service, name, version). */
interface Count {
  service: string;
  name: string;
  version: string | null;
  n: number;
}

/** Writes the events of finished requests; counts cache hits (per minute: `MinuteWindow`). */
export class RequestAuditor {
  readonly #sink: AuditSink;
  readonly #backend: string | null;
  /** service -> name -> version (`""` for none) -> count. Nested, so a hit builds no key string. */
  #counts = new Map<string, Map<string, Map<string, Count>>>();
  readonly #window: MinuteWindow;

  /** `now` is the clock the timer that ends a minute is armed against. */
  constructor(sink: AuditSink, backend: string | null, now: () => number) {
    this.#sink = sink;
    this.#backend = backend;
    this.#window = new MinuteWindow((at) => this.#writeCounts(at), now, unrefTimer);
  }

  /** Records a finished request: counted when the cache answered it, else one event. */
  record(audit: RequestAudit, status: number, startedAtMs: number, latencyMs: number): void {
    this.#window.rollIfPast(startedAtMs);
    if (status < 400 && audit.source === "cache") {
      if (!this.#window.pending) this.#window.open(startedAtMs);
      this.#count(audit);
      return;
    }
    this.#emit({
      accessedAtMs: startedAtMs,
      service: audit.service,
      secretName: audit.name,
      action: audit.action,
      outcome: outcomeOf(status),
      source: audit.source ?? "backend",
      backend: this.#backend,
      version: audit.version ?? null,
      latencyMs,
      errorCode: status < 400 ? null : audit.errorCode ?? `http_${status}`,
      count: 1,
    });
  }

  /** Writes the pending counts, then flushes the sink. */
  flush(): Promise<void> {
    this.#window.roll();
    return this.#sink.flush();
  }

  #count(audit: RequestAudit): void {
    let names = this.#counts.get(audit.service);
    if (names === undefined) this.#counts.set(audit.service, names = new Map());
    let versions = names.get(audit.name);
    if (versions === undefined) names.set(audit.name, versions = new Map());
    const version = audit.version ?? "";
    const c = versions.get(version);
    if (c !== undefined) {
      c.n += 1;
      return;
    }
    versions.set(version, {
      service: audit.service,
      name: audit.name,
      version: audit.version ?? null,
      n: 1,
    });
  }

  /** Writes one event per counter (at the start of its minute, latency 0) and starts over. */
  #writeCounts(at: number): void {
    const counts = this.#counts;
    this.#counts = new Map();
    for (const names of counts.values()) {
      for (const versions of names.values()) {
        for (const c of versions.values()) {
          this.#emit({
            accessedAtMs: at,
            service: c.service,
            secretName: c.name,
            action: "get",
            outcome: "ok",
            source: "cache",
            backend: this.#backend,
            version: c.version,
            latencyMs: 0,
            errorCode: null,
            count: c.n,
          });
        }
      }
    }
  }

  #emit(event: AuditEvent): void {
    // A throw here reaches the request (a 500), as before counting.
    this.#sink.record(event);
  }
}

/** Node's `timer.unref()`, or `Deno.unrefTimer` on Deno. */
function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
  (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno?.unrefTimer?.(
    timer as unknown as number,
  );
}

function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return "ok";
  if (status === 404) return "not_found";
  if (status === 401 || status === 403 || status === 429) return "denied";
  return "error";
}
