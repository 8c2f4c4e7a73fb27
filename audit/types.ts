/**
 * The audit trail's types: what one event holds (names, never values), the
 * sink that receives events, and the sealed (hash-chained) form stored in
 * `secret_access_log`. Types only (`AUDIT_ACTIONS` lives in
 * `./chain.ts`), so no module loads this one at run time.
 *
 * @module
 */

/**
 * What was done. `dropped` is written by a sink itself: it lost `count`
 * events while its store was unreachable and its buffer was full.
 *
 * @example Each call is one action
 * ```ts
 * import { MemorySecretManager, withAudit } from "@keyward/secrets";
 * import { RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const sink = new RecordingAuditSink();
 * const secrets = withAudit(new MemorySecretManager(), sink, { service: "api" });
 * await secrets.setSecret("db/password", "pw-0123456789");
 * await secrets.getSecret("db/password");
 * await secrets.listSecrets("db/");
 * if (sink.events.map((e) => e.action).join() !== "set,get,list") throw new Error();
 * ```
 */
export type AuditAction =
  | "get"
  | "list"
  | "set"
  | "describe"
  | "promote"
  | "delete"
  | "rotate"
  | "dropped";

/**
 * How the call ended: `denied` is an access refusal, `error` any other failure.
 *
 * @example
 * ```ts
 * import { MemorySecretManager, withAudit } from "@keyward/secrets";
 * import { RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const sink = new RecordingAuditSink();
 * const secrets = withAudit(new MemorySecretManager(), sink, { service: "api" });
 * await secrets.getSecret("missing/name").catch(() => {});
 * const [event] = sink.events;
 * if (event.outcome !== "not_found" || event.errorCode !== "not_found") throw new Error();
 * ```
 */
export type AuditOutcome = "ok" | "not_found" | "denied" | "error";

/**
 * Who answered: the backend, a fresh cache entry, a stale one served during an outage,
 * or the environment behind the backend (`SECRET_FALLBACK=env`: a secret the backend does
 * not hold yet).
 *
 * @example Cache serves are counted through the cache's `onServe`
 * ```ts
 * import { MemorySecretManager, withAudit, withCache } from "@keyward/secrets";
 * import { RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const sink = new RecordingAuditSink();
 * const backend = new MemorySecretManager({ initial: { "db/password": "pw-0123456789" } });
 * const audited = withAudit(backend, sink, { service: "api" });
 * const secrets = withCache(audited, { onServe: audited.recordServe });
 * await secrets.getSecret("db/password"); // the backend answers
 * await secrets.getSecret("db/password"); // the cache answers
 * await audited.flush();
 * if (sink.events.map((e) => e.source).join() !== "backend,cache") throw new Error();
 * await secrets.close();
 * ```
 */
export type AuditSource = "backend" | "cache" | "stale" | "fallback";

/**
 * One audited access. Every field is a name, a label, a number or a time:
 * none can hold a secret's value, and none is ever filled from one.
 *
 * @example
 * ```ts
 * import { MemorySecretManager, withAudit } from "@keyward/secrets";
 * import { RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const sink = new RecordingAuditSink();
 * const secrets = withAudit(new MemorySecretManager(), sink, { service: "billing", now: () => 0 });
 * await secrets.setSecret("db/password", "pw-0123456789");
 * const [event] = sink.events;
 * if (event.service !== "billing" || event.secretName !== "db/password") throw new Error();
 * if (event.backend !== "memory" || event.accessedAtMs !== 0) throw new Error();
 * if (event.action !== "set" || event.outcome !== "ok" || event.count !== 1) throw new Error();
 * if (JSON.stringify(event).includes("pw-0123456789")) throw new Error("an event holds no value");
 * ```
 */
export interface AuditEvent {
  /** When it happened (for aggregated cache serves: the start of the minute), epoch ms. */
  accessedAtMs: number;
  /** The service that made the call (`withAudit`'s `service` option). */
  service: string;
  /** The secret's name; for `list`, the prefix listed (may be empty). */
  secretName: string;
  /** What was done. */
  action: AuditAction;
  /** How it ended. */
  outcome: AuditOutcome;
  /** Who answered. */
  source: AuditSource;
  /** The backend's short name (`memory`, `vault`, `aws`, ...), when known. */
  backend: string | null;
  /** The version asked for or written, when known. */
  version: string | null;
  /** How long the call took, in milliseconds (0 for aggregated serves). */
  latencyMs: number;
  /** The error's code (`not_found`, `access:denied`, ...), when it failed. */
  errorCode: string | null;
  /** How many accesses this event stands for (1, or the aggregated count). */
  count: number;
}

/**
 * An {@linkcode AuditEvent} sealed into a hash chain, as stored.
 *
 * @example Consecutive events are linked
 * ```ts
 * import { AuditChain, AuditKey, type AuditEvent } from "@keyward/secrets";
 *
 * const event: AuditEvent = {
 *   accessedAtMs: 0, service: "api", secretName: "db/password", action: "get",
 *   outcome: "ok", source: "backend", backend: "memory", version: null,
 *   latencyMs: 1, errorCode: null, count: 1,
 * };
 * const chain = new AuditChain(AuditKey.fromBase64(btoa("k".repeat(32))), { chainId: "c1" });
 * const [a, b] = [chain.seal(event), chain.seal(event)];
 * if (a.chainId !== "c1" || a.seq !== 1 || b.seq !== 2 || b.prevMac !== a.mac) throw new Error();
 * ```
 */
export interface SealedAuditEvent extends AuditEvent {
  /** The writer instance's chain (random, one per writer). */
  chainId: string;
  /** Position in the chain, from 1, without gaps. */
  seq: number;
  /** The previous event's `mac` (the chain's genesis value for seq 1). */
  prevMac: string;
  /** HMAC-SHA-256 (hex) over `prevMac` and the event's canonical fields, under the audit key. */
  mac: string;
}

/**
 * A stored row: a sealed event with the store's own id (insertion order).
 *
 * @example Rows are what `verifyAuditRows` checks
 * ```ts
 * import { AuditChain, AuditKey, type AuditRow, verifyAuditRows } from "@keyward/secrets";
 *
 * const key = AuditKey.fromBase64(btoa("k".repeat(32)));
 * const chain = new AuditChain(key);
 * const rows: AuditRow[] = [1, 2].map((id) => ({
 *   id,
 *   ...chain.seal({
 *     accessedAtMs: 0, service: "api", secretName: "db/password", action: "get",
 *     outcome: "ok", source: "backend", backend: "memory", version: null,
 *     latencyMs: 1, errorCode: null, count: 1,
 *   }),
 * }));
 * if (!(await verifyAuditRows(rows, { key })).ok) throw new Error();
 * ```
 */
export interface AuditRow extends SealedAuditEvent {
  /** The store's id; increases with insertion order. */
  id: number;
}

/**
 * The last sealed event of one chain, as exported to a checkpoint.
 *
 * @example
 * ```ts
 * import { type ChainHead, checkpointOf } from "@keyward/secrets";
 *
 * const head: ChainHead = { chainId: "c1", seq: 12, mac: "ab".repeat(32) };
 * if (checkpointOf([head]).chains.c1.seq !== 12) throw new Error();
 * ```
 */
export interface ChainHead {
  /** The chain. */
  chainId: string;
  /** The last sequence number written. */
  seq: number;
  /** That event's mac. */
  mac: string;
}

/**
 * Chain heads exported outside the database, so `audit verify` can tell a
 * truncated tail from a chain that simply ended.
 *
 * @example A sink's checkpoint after two events
 * ```ts
 * import { type AuditCheckpoint, AuditKey, JsonLinesAuditSink } from "@keyward/secrets";
 * import { MemorySecretManager, withAudit } from "@keyward/secrets";
 *
 * const checkpoints: AuditCheckpoint[] = [];
 * const sink = new JsonLinesAuditSink(new WritableStream(), {
 *   key: AuditKey.fromBase64(btoa("k".repeat(32))),
 *   onCheckpoint: (cp) => void checkpoints.push(cp),
 * });
 * const secrets = withAudit(new MemorySecretManager(), sink, { service: "api" });
 * await secrets.listSecrets();
 * await secrets.listSecrets();
 * await secrets.close();
 * const head = checkpoints[0].chains[sink.chainId!];
 * if (checkpoints[0].version !== 1 || head.seq !== 2 || head.mac.length !== 64) throw new Error();
 * ```
 */
export interface AuditCheckpoint {
  /** The format version. */
  version: 1;
  /** When the checkpoint was taken (ISO 8601). */
  createdAt: string;
  /** Head per chain id. */
  chains: Record<string, { seq: number; mac: string }>;
}

/**
 * Where audit events go. `record` is called on the hot path of secret reads:
 * it must be synchronous and cheap (enqueue only), and never throw.
 *
 * @example A sink of your own: count failures per secret
 * ```ts
 * import type { AuditEvent, AuditSink } from "@keyward/secrets";
 * import { MemorySecretManager, withAudit } from "@keyward/secrets";
 *
 * class FailureCounter implements AuditSink {
 *   readonly failures = new Map<string, number>();
 *   record(e: AuditEvent): void {
 *     if (e.outcome === "ok") return;
 *     this.failures.set(e.secretName, (this.failures.get(e.secretName) ?? 0) + e.count);
 *   }
 *   flush(): Promise<void> {
 *     return Promise.resolve();
 *   }
 *   close(): Promise<void> {
 *     return Promise.resolve();
 *   }
 * }
 * const sink = new FailureCounter();
 * const secrets = withAudit(new MemorySecretManager(), sink, { service: "api" });
 * await secrets.getSecret("missing/name").catch(() => {});
 * await secrets.close();
 * if (sink.failures.get("missing/name") !== 1) throw new Error();
 * ```
 */
export interface AuditSink {
  /** Enqueues one event. */
  record(event: AuditEvent): void;
  /** Resolves once every event recorded before the call is written. */
  flush(): Promise<void>;
  /** Flushes, then releases the sink's resources. */
  close(): Promise<void>;
  /**
   * Checks that events can be written now (opens the file or the
   * connection, checks the right to insert); rejects when they cannot.
   * Optional: `withAudit`'s `onFailure: "fail"` awaits it before the first call.
   */
  ready?(): Promise<void>;
  /**
   * Resolves once every event recorded before the call is written; rejects
   * as soon as a write fails or the sink is known to be failing (the events
   * stay buffered and are retried). Optional: `withAudit`'s
   * `onFailure: "fail"` awaits it after each call (without it, `flush()`
   * and then `health()` are consulted).
   */
  confirm?(): Promise<void>;
  /** Whether writes are failing now, and with what. Optional. */
  health?(): AuditSinkHealth;
}

/**
 * Whether an {@linkcode AuditSink} can write now.
 *
 * @example A health check that reports a failing audit trail
 * ```ts
 * import { type AuditSinkHealth, JsonLinesAuditSink } from "@keyward/secrets";
 *
 * const sink = new JsonLinesAuditSink(new WritableStream());
 * const health: AuditSinkHealth = sink.health();
 * if (health.failing || health.lastError !== null) throw new Error("a fresh sink is healthy");
 * await sink.close();
 * ```
 */
export interface AuditSinkHealth {
  /** True from a failed write until the next write succeeds. */
  failing: boolean;
  /** What the last failed write failed with (an error code or name, never a message), while failing. */
  lastError: string | null;
}
