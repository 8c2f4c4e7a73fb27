/**
 * The audit trail's types: what one event holds (names, never values), the
 * sink that receives events, and the sealed (hash-chained) form stored in
 * `secret_access_log`.
 *
 * @module
 */

/**
 * What was done. `dropped` is written by a sink itself: it lost `count`
 * events while its store was unreachable and its buffer was full.
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
 * Every {@linkcode AuditAction}.
 *
 * @example Checking an action read from outside (a query parameter, a CLI flag)
 * ```ts
 * import { AUDIT_ACTIONS, type AuditAction } from "@keyward/secrets";
 *
 * const actions: readonly string[] = AUDIT_ACTIONS;
 * const isAction = (s: string): s is AuditAction => actions.includes(s);
 * if (!isAction("rotate") || isAction("read")) throw new Error();
 * ```
 */
export const AUDIT_ACTIONS: readonly AuditAction[] = [
  "get",
  "list",
  "set",
  "describe",
  "promote",
  "delete",
  "rotate",
  "dropped",
];

/** How the call ended: `denied` is an access refusal, `error` any other failure. */
export type AuditOutcome = "ok" | "not_found" | "denied" | "error";

/** Who answered: the backend, a fresh cache entry, or a stale one served during an outage. */
export type AuditSource = "backend" | "cache" | "stale";

/**
 * One audited access. Every field is a name, a label, a number or a time:
 * none can hold a secret's value, and none is ever filled from one.
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

/** An {@linkcode AuditEvent} sealed into a hash chain, as stored. */
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

/** A stored row: a sealed event with the store's own id (insertion order). */
export interface AuditRow extends SealedAuditEvent {
  /** The store's id; increases with insertion order. */
  id: number;
}

/** The last sealed event of one chain, as exported to a checkpoint. */
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
 */
export interface AuditSink {
  /** Enqueues one event. */
  record(event: AuditEvent): void;
  /** Resolves once every event recorded before the call is written. */
  flush(): Promise<void>;
  /** Flushes, then releases the sink's resources. */
  close(): Promise<void>;
}
