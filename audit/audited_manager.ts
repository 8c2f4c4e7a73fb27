/**
 * `withAudit`: wraps any manager and records every call as an audit event
 * (names, outcomes, timings; never a value).
 *
 * @module
 */

import {
  type ErrorContext,
  InvalidSecretNameError,
  KeywardError,
  SecretAccessError,
  SecretNotFoundError,
  UnsupportedOperationError,
} from "../core/errors.ts";
import { MinuteWindow } from "./_minute_window.ts";
import { keywardLogger } from "../core/log.ts";
import { invalidNamePlaceholder, nameProblem } from "../core/_name_rules.ts";
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
  WriteOptions,
} from "../core/types.ts";
import type { AuditAction, AuditEvent, AuditOutcome, AuditSink, AuditSource } from "./types.ts";

/**
 * Options of {@linkcode withAudit}.
 *
 * @example A fixed clock, an explicit backend name and a sink shared with other managers
 * ```ts
 * import { type AuditOptions, MemorySecretManager, withAudit } from "@keyward/secrets";
 * import { RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const sink = new RecordingAuditSink();
 * const noon = Date.UTC(2026, 10, 29, 12);
 * const options: AuditOptions = {
 *   service: "billing",
 *   backend: "vault-eu", // instead of "memory", derived from the class name
 *   now: () => noon,
 *   closeSink: false, // the sink outlives this manager: close() only flushes it
 * };
 * const secrets = new MemorySecretManager({ initial: { "db/password": "pw-0123456789" } });
 * const audited = withAudit(secrets, sink, options);
 * await audited.getSecret("db/password");
 * await audited.close();
 * const [event] = sink.events;
 * if (event.service !== "billing" || event.backend !== "vault-eu") throw new Error();
 * if (event.accessedAtMs !== noon) throw new Error();
 * if (sink.closed || sink.flushes !== 1) throw new Error("closeSink: false flushes, never closes");
 * ```
 */
export interface AuditOptions {
  /** The service's name, written on every event. */
  service: string;
  /**
   * The backend's short name written on events.
   * @default {derived from the manager's class: `MemorySecretManager` -> `memory`}
   */
  backend?: string;
  /**
   * The wall clock, in epoch milliseconds (event times and cache-serve minutes).
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * Whether `close()` also closes the sink.
   * @default {true}
   */
  closeSink?: boolean;
  /**
   * What a call does when its event cannot be recorded.
   *
   * - `"warn"` (a service that must keep trading): the call is served; the
   *   sink keeps the event and retries, logs the failure (category
   *   `keyward.audit.*`) and shows it in its `stats()` and `health()`.
   * - `"fail"` (the CLI): nothing is served that is not recorded. Before the
   *   first call, and while the sink is failing, the sink's `ready()` is
   *   checked (the file opens, the role may insert); a failure refuses the
   *   call before the backend is asked. After each call, its event must be
   *   written (the sink's `confirm()`: the JSON-lines append, the Postgres
   *   insert) before the result is returned; if it cannot be, the call
   *   throws {@linkcode AuditUnavailableError} instead of returning the value.
   *   Each call then waits for one write: meant for the CLI and low rates.
   *   Cache serves counted through `recordServe` are not confirmed one by one.
   * @default {"warn"}
   */
  onFailure?: "warn" | "fail";
}

/**
 * A call refused because the audit trail could not record it (`withAudit`
 * with `onFailure: "fail"`). A {@linkcode SecretAccessError} with reason
 * `unreachable`: retry once the audit store is back.
 *
 * @example Refusing to serve a read the audit trail cannot record
 * ```ts
 * import { AuditUnavailableError, JsonLinesAuditSink, MemorySecretManager, withAudit } from "@keyward/secrets";
 *
 * const broken = new WritableStream<Uint8Array>({
 *   write: () => Promise.reject(Object.assign(new Error("disk full"), { code: "ENOSPC" })),
 * });
 * const secrets = withAudit(
 *   new MemorySecretManager({ initial: { "db/password": "pw-0123456789" } }),
 *   new JsonLinesAuditSink(broken),
 *   { service: "cli", onFailure: "fail" },
 * );
 * try {
 *   await secrets.getSecret("db/password");
 *   throw new Error("served without an audit record");
 * } catch (err) {
 *   if (!(err instanceof AuditUnavailableError) || err.auditError !== "ENOSPC") throw err;
 *   if (!err.message.includes("the audit trail could not record this read")) throw err;
 * }
 * await secrets.close();
 * ```
 */
export class AuditUnavailableError extends SecretAccessError {
  /** What the audit store failed with (an error code or name, never a message). */
  readonly auditError: string;
  /**
   * Builds the error; `done` says the backend call itself succeeded (a write
   * that was made but could not be recorded).
   */
  constructor(context: ErrorContext, auditError: string, action = "read", done = false) {
    super(
      context,
      done
        ? `the ${action} was done, but the audit trail could not record it (${auditError})`
        : `the audit trail could not record this ${action} (${auditError})`,
      "unreachable",
    );
    this.auditError = auditError;
  }
}

/**
 * What a rotation step reports to {@linkcode AuditedSecretManager.recordRotation}.
 *
 * @example Recording a step that succeeded and one that failed
 * ```ts
 * import { MemorySecretManager, type RotationAuditDetails, withAudit } from "@keyward/secrets";
 * import { RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const sink = new RecordingAuditSink();
 * const secrets = new MemorySecretManager({ initial: { "db/password": "pw-0123456789" } });
 * const audited = withAudit(secrets, sink, { service: "rotator" });
 * const pending = await secrets.setSecret("db/password", "pw-9876543210", { stage: "pending" });
 * const done: RotationAuditDetails = { version: pending.version, latencyMs: 42 };
 * const failed: RotationAuditDetails = { outcome: "error", errorCode: "access:timeout" };
 * audited.recordRotation("db/password", done);
 * audited.recordRotation("api/token", failed);
 * await audited.close();
 * const [ok, bad] = sink.find({ action: "rotate" });
 * if (ok.outcome !== "ok" || ok.version !== pending.version || ok.latencyMs !== 42) throw new Error();
 * if (bad.secretName !== "api/token" || bad.errorCode !== "access:timeout") throw new Error();
 * if (bad.version !== null || bad.latencyMs !== 0) throw new Error("the defaults");
 * ```
 */
export interface RotationAuditDetails {
  /**
   * How the step ended.
   * @default {"ok"}
   */
  outcome?: AuditOutcome;
  /** The version the rotation wrote or promoted. */
  version?: string;
  /**
   * How long the step took, in milliseconds.
   * @default {0}
   */
  latencyMs?: number;
  /** The failure's code, when it failed. */
  errorCode?: string;
}

/**
 * A {@linkcode SecretManager} that records every call to an {@linkcode AuditSink}.
 *
 * @example Cache serves are counted, then written as one event per secret and source
 * ```ts
 * import { type AuditedSecretManager, MemorySecretManager, withAudit } from "@keyward/secrets";
 * import { RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const sink = new RecordingAuditSink();
 * const audited: AuditedSecretManager = withAudit(new MemorySecretManager(), sink, {
 *   service: "api",
 *   now: () => 90_000, // in the minute that starts at 60 000 ms
 * });
 * for (let i = 0; i < 3; i++) audited.recordServe({ name: "db/password", source: "cache" });
 * audited.recordServe({ name: "db/password", source: "stale" });
 * if (sink.events.length !== 0) throw new Error("a serve is a counter bump, not an event");
 * await audited.flush();
 * const written = sink.events.map((e) => `${e.source}:${e.count}@${e.accessedAtMs}`).join();
 * if (written !== "cache:3@60000,stale:1@60000") throw new Error(written);
 * await audited.close();
 * ```
 */
export interface AuditedSecretManager extends SecretManager {
  /**
   * Counts a read a cache served itself: pass it as the cache's `onServe`.
   * A counter bump only (no I/O, no await, no clock read); counts are
   * written as one event per (secret, source, minute) when the minute ends (a
   * timer armed by the minute's first serve, or the next audited call of a
   * later minute), on `flush()` and on `close()`.
   */
  readonly recordServe: ServeListener;
  /** Records one rotation step (`rotate` action) for the rotation engine. */
  recordRotation(name: string, details?: RotationAuditDetails): void;
  /**
   * Records a read the `SECRET_FALLBACK=env` fallback served from the
   * environment because the backend does not hold the secret (source
   * `fallback`, backend `env`).
   */
  recordFallback(name: string, version: string | null): void;
  /** Writes the pending cache-serve counts to the sink and flushes it. */
  flush(): Promise<void>;
}

const ACTION_WORDS: Record<AuditAction, string> = {
  get: "read",
  list: "listing",
  set: "write",
  describe: "description",
  promote: "promotion",
  delete: "deletion",
  rotate: "rotation",
  dropped: "event",
};
const SAFE_ABORT_NAMES = /* @__PURE__ */ new Set(["AbortError", "TimeoutError"]);

/** The outcome and error code of a failure; never its message. */
export function classifyError(
  err: unknown,
): { outcome: AuditOutcome; errorCode: string; backend: string | null } {
  const backend = err instanceof KeywardError ? err.backend ?? null : null;
  if (err instanceof SecretNotFoundError) {
    return { outcome: "not_found", errorCode: "not_found", backend };
  }
  if (err instanceof SecretAccessError) {
    return {
      outcome: err.reason === "denied" ? "denied" : "error",
      errorCode: `access:${err.reason}`,
      backend,
    };
  }
  if (err instanceof KeywardError) return { outcome: "error", errorCode: err.code, backend };
  if (err instanceof Error && SAFE_ABORT_NAMES.has(err.name)) {
    return {
      outcome: "error",
      errorCode: err.name === "AbortError" ? "aborted" : "timeout",
      backend,
    };
  }
  return { outcome: "error", errorCode: "unknown", backend };
}

function inferBackend(manager: SecretManager): string | null {
  const name = (manager as { constructor?: { name?: unknown } }).constructor?.name;
  if (typeof name !== "string" || name === "Object") return null;
  const short = name.replace(/(Secret)?Manager$/, "").toLowerCase();
  return /^[a-z0-9_-]{1,32}$/.test(short) ? short : null;
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

class AuditedManager implements AuditedSecretManager {
  readonly #inner: SecretManager;
  readonly #sink: AuditSink;
  readonly #service: string;
  readonly #backend: string | null;
  readonly #now: () => number;
  readonly #closeSink: boolean;
  readonly #fail: boolean;
  #ready = false;
  readonly #log = keywardLogger("audit");
  readonly #window: MinuteWindow;
  #cacheCounts = new Map<string, { n: number }>();
  #staleCounts = new Map<string, { n: number }>();

  constructor(inner: SecretManager, sink: AuditSink, options: AuditOptions) {
    if (typeof options?.service !== "string" || options.service.length === 0) {
      throw new RangeError("option service must be a non-empty string");
    }
    this.#inner = inner;
    this.#sink = sink;
    this.#service = options.service;
    this.#backend = options.backend ?? inferBackend(inner);
    this.#now = options.now ?? Date.now;
    this.#window = new MinuteWindow((at) => this.#writeServes(at), this.#now);
    this.#closeSink = options.closeSink ?? true;
    const onFailure = options.onFailure ?? "warn";
    if (onFailure !== "warn" && onFailure !== "fail") {
      throw new RangeError('option onFailure must be "warn" or "fail"');
    }
    this.#fail = onFailure === "fail";
  }

  readonly recordServe: ServeListener = (event: ServeEvent): void => {
    // The hot path: a map lookup and an increment. The clock is read once per
    // minute of activity, when the roll-over timer is armed.
    if (!this.#window.pending) this.#window.open();
    const counts = event.source === "stale" ? this.#staleCounts : this.#cacheCounts;
    const c = counts.get(event.name);
    if (c === undefined) counts.set(event.name, { n: 1 });
    else c.n += 1;
  };

  recordRotation(name: string, details: RotationAuditDetails = {}): void {
    this.#emit({
      accessedAtMs: this.#now(),
      service: this.#service,
      secretName: name,
      action: "rotate",
      outcome: details.outcome ?? "ok",
      source: "backend",
      backend: this.#backend,
      version: details.version ?? null,
      latencyMs: roundMs(details.latencyMs ?? 0),
      errorCode: details.errorCode ?? null,
      count: 1,
    });
  }

  recordFallback(name: string, version: string | null): void {
    this.#emit({
      accessedAtMs: this.#now(),
      service: this.#service,
      secretName: name,
      action: "get",
      outcome: "ok",
      source: "fallback",
      backend: "env",
      version,
      latencyMs: 0,
      errorCode: null,
      count: 1,
    });
  }

  getSecret(name: string, opts: ReadOptions = {}): Promise<string> {
    return this.#call("get", name, opts.version ?? null, () => this.#inner.getSecret(name, opts));
  }

  listSecrets(prefix = "", opts: SignalOptions = {}): Promise<string[]> {
    return this.#call("list", prefix, null, () => this.#inner.listSecrets(prefix, opts));
  }

  setSecret(name: string, value: SecretValue, opts: WriteOptions = {}): Promise<SecretVersion> {
    return this.#call(
      "set",
      name,
      null,
      () => this.#inner.setSecret(name, value, opts),
      (v) => v.version,
    );
  }

  describeSecret(name: string, opts: SignalOptions = {}): Promise<SecretMetadata> {
    return this.#call("describe", name, null, () => this.#inner.describeSecret(name, opts));
  }

  promote(name: string, version: string, opts: SignalOptions = {}): Promise<SecretVersion> {
    return this.#call(
      "promote",
      name,
      version,
      () => this.#inner.promote(name, version, opts),
      (v) => v.version,
    );
  }

  deleteSecret(name: string, opts: DeleteOptions = {}): Promise<void> {
    return this.#call("delete", name, null, () => this.#inner.deleteSecret(name, opts));
  }

  // Temporary (helper "core"): the audit helper owns these; readSecret is audited as a read.
  readSecret(name: string, opts: ReadOptions = {}): Promise<SecretRead> {
    return this.#call("get", name, opts.version ?? null, () => this.#inner.readSecret(name, opts));
  }

  deprecateVersion(name: string, _version: string, _opts?: SignalOptions): Promise<void> {
    return Promise.reject(
      new UnsupportedOperationError("deprecateVersion", { secret: name, backend: "audit" }),
    );
  }

  destroyVersion(name: string, _version: string, _opts?: SignalOptions): Promise<void> {
    return Promise.reject(
      new UnsupportedOperationError("destroyVersion", { secret: name, backend: "audit" }),
    );
  }

  async flush(): Promise<void> {
    this.#window.roll();
    await this.#sink.flush();
  }

  async close(): Promise<void> {
    this.#window.roll();
    try {
      await this.#inner.close();
    } finally {
      if (this.#closeSink) await this.#sink.close();
      else await this.#sink.flush();
    }
  }

  async #call<T>(
    action: AuditAction,
    name: string,
    version: string | null,
    fn: () => Promise<T>,
    versionOf?: (result: T) => string,
  ): Promise<T> {
    const accessedAtMs = this.#now();
    const started = performance.now();
    if (this.#fail) await this.#checkReady(action, name, version, accessedAtMs, started);
    let result: T;
    try {
      result = await fn();
      this.#emit(
        this.#event(action, name, accessedAtMs, started, "ok", "backend", {
          version: versionOf ? versionOf(result) : version,
          errorCode: null,
          backend: null,
        }),
      );
    } catch (err) {
      const c = classifyError(err);
      // A refused name may be a value pasted by mistake: record its length, never its text.
      const refused = err instanceof InvalidSecretNameError ||
        (action !== "list" && nameProblem(name) !== undefined);
      const recorded = refused ? invalidNamePlaceholder(name) : name;
      this.#emit(
        this.#event(action, recorded, accessedAtMs, started, c.outcome, "backend", {
          version,
          errorCode: c.errorCode,
          backend: c.backend,
        }),
      );
      throw err;
    }
    if (this.#fail) {
      const failure = await this.#confirm();
      if (failure !== null) {
        const writes = action === "set" || action === "promote" || action === "delete";
        throw new AuditUnavailableError(
          { secret: name, ...(this.#backend ? { backend: this.#backend } : {}) },
          failure,
          ACTION_WORDS[action],
          writes,
        );
      }
    }
    return result;
  }

  /** `fail` mode, before a call: the sink must be able to write (checked once, and while failing). */
  async #checkReady(
    action: AuditAction,
    name: string,
    version: string | null,
    accessedAtMs: number,
    started: number,
  ): Promise<void> {
    if (this.#ready && !this.#sink.health?.().failing) return;
    try {
      await this.#sink.ready?.();
      this.#ready = true;
      return;
    } catch (err) {
      const label = err instanceof Error && "label" in err ? String(err.label) : "unknown";
      // The refused attempt is recorded too (kept by the sink until it can write).
      this.#emit(
        this.#event(action, name, accessedAtMs, started, "error", "backend", {
          version,
          errorCode: "audit_unavailable",
          backend: null,
        }),
      );
      throw new AuditUnavailableError(
        { secret: name, ...(this.#backend ? { backend: this.#backend } : {}) },
        label,
        ACTION_WORDS[action],
      );
    }
  }

  /** `fail` mode, after a call: waits until its event is written; the failure's label, or null. */
  async #confirm(): Promise<string | null> {
    try {
      if (this.#sink.confirm) await this.#sink.confirm();
      else await this.#sink.flush();
    } catch (err) {
      return err instanceof Error && "label" in err ? String(err.label) : "unknown";
    }
    const health = this.#sink.health?.();
    return health?.failing ? health.lastError ?? "unknown" : null;
  }

  #event(
    action: AuditAction,
    name: string,
    accessedAtMs: number,
    started: number,
    outcome: AuditOutcome,
    source: AuditSource,
    extra: { version: string | null; errorCode: string | null; backend: string | null },
  ): AuditEvent {
    return {
      accessedAtMs,
      service: this.#service,
      secretName: name,
      action,
      outcome,
      source,
      backend: this.#backend ?? extra.backend,
      version: extra.version,
      latencyMs: roundMs(performance.now() - started),
      errorCode: extra.errorCode,
      count: 1,
    };
  }

  #emit(event: AuditEvent): void {
    this.#window.rollIfPast(event.accessedAtMs);
    try {
      this.#sink.record(event);
    } catch (err) {
      this.#log.error("The audit sink refused an event for {secret}: {error}", {
        secret: event.secretName,
        error: classifyError(err).errorCode,
      });
    }
  }

  /** Writes the counts of a minute as one event per (secret, source). */
  #writeServes(at: number): void {
    const cache = this.#cacheCounts;
    const stale = this.#staleCounts;
    this.#cacheCounts = new Map();
    this.#staleCounts = new Map();
    for (const [name, c] of cache) this.#emitServes(name, "cache", c.n, at);
    for (const [name, c] of stale) this.#emitServes(name, "stale", c.n, at);
  }

  #emitServes(name: string, source: AuditSource, count: number, at: number): void {
    this.#emit({
      accessedAtMs: at,
      service: this.#service,
      secretName: name,
      action: "get",
      outcome: "ok",
      source,
      backend: this.#backend,
      version: null,
      latencyMs: 0,
      errorCode: null,
      count,
    });
  }
}

/**
 * Wraps `manager` so every call is recorded to `sink`: action, outcome,
 * source, backend, version, latency and error code; never a value. Put it
 * inside a cache and give the cache its `recordServe`, so cache hits are
 * counted without I/O.
 *
 * @example Auditing behind a cache
 * ```ts
 * import { MemorySecretManager, withAudit } from "@keyward/secrets";
 * import { RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const sink = new RecordingAuditSink();
 * const audited = withAudit(new MemorySecretManager({ initial: { "db/password": "hunter2-long" } }), sink, {
 *   service: "billing",
 * });
 * await audited.getSecret("db/password");
 * audited.recordServe({ name: "db/password", source: "cache" }); // what a cache calls on a hit
 * await audited.close();
 * const [read, hits] = sink.events;
 * if (read.source !== "backend" || hits.source !== "cache" || hits.count !== 1) throw new Error();
 * ```
 */
export function withAudit(
  manager: SecretManager,
  sink: AuditSink,
  options: AuditOptions,
): AuditedSecretManager {
  return new AuditedManager(manager, sink, options);
}
