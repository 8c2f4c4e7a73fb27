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

const MINUTE_MS = 60_000;

/** One counter: the requests of a minute served from the cache for one (service, name, version). */
interface Count {
  service: string;
  name: string;
  version: string | null;
  n: number;
}

/** Writes the events of finished requests; counts cache hits. */
export class RequestAuditor {
  readonly #sink: AuditSink;
  readonly #backend: string | null;
  readonly #now: () => number;
  /** service -> name -> version (`""` for none) -> count. Nested, so a hit builds no key string. */
  #counts = new Map<string, Map<string, Map<string, Count>>>();
  #minute = -1;
  #pending = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** `now` is the clock the timer that ends a minute is armed against. */
  constructor(sink: AuditSink, backend: string | null, now: () => number) {
    this.#sink = sink;
    this.#backend = backend;
    this.#now = now;
  }

  /** Records a finished request: counted when the cache answered it, else one event. */
  record(audit: RequestAudit, status: number, startedAtMs: number, latencyMs: number): void {
    const minute = Math.floor(startedAtMs / MINUTE_MS);
    if (this.#pending && minute > this.#minute) this.#roll();
    if (status < 400 && audit.source === "cache") {
      if (!this.#pending) this.#start(minute);
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
    this.#roll();
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

  /** Notes the minute of the first counted hit and arms the timer that writes the counts at its end. */
  #start(minute: number): void {
    this.#minute = minute;
    this.#pending = true;
    const delay = Math.max(0, (minute + 1) * MINUTE_MS - this.#now());
    const timer = setTimeout(() => {
      this.#timer = undefined;
      try {
        this.#roll();
      } catch {
        // A sink that throws on record (they buffer) loses these counts; nothing else to do here.
      }
    }, delay);
    // The timer must not keep the process (or a test) alive; shutdown flushes.
    (timer as { unref?: () => void }).unref?.();
    (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno?.unrefTimer?.(
      timer as unknown as number,
    );
    this.#timer = timer;
  }

  /** Writes one event per counter (at the start of its minute, latency 0) and starts over. */
  #roll(): void {
    if (!this.#pending) return;
    this.#pending = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const at = this.#minute * MINUTE_MS;
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

function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return "ok";
  if (status === 404) return "not_found";
  if (status === 401 || status === 403 || status === 429) return "denied";
  return "error";
}
