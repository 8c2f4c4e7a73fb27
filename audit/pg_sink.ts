/**
 * The Postgres audit sink: batched multi-row inserts into
 * `secret_access_log`, a bounded buffer that rides out a database outage,
 * and a hash chain sealed under an audit key the database never holds.
 *
 * @module
 */

import type { Sql } from "postgres";
import { ConfigError } from "../core/errors.ts";
import { keywardLogger } from "../core/log.ts";
import type { SecretManager } from "../core/types.ts";
import { droppedEvent, EventBuffer, Settlement } from "./_buffer.ts";
import { connectFromSecret, connectUrl } from "../pg/connect.ts";
import { isoMicros } from "./chain.ts";
import { originOf } from "./_origin.ts";
import { AuditChain, type AuditKey } from "./chain.ts";
import { AuditWriteFailedError, checkpointOf } from "./jsonl_sink.ts";
import type {
  AuditCheckpoint,
  AuditEvent,
  AuditSink,
  AuditSinkHealth,
  ChainHead,
  SealedAuditEvent,
} from "./types.ts";

/**
 * Options of {@linkcode PostgresAuditSink}.
 *
 * @example Smaller batches, a bounded outage buffer and a checkpoint file
 * (Not run by `deno test --doc`: it needs a Postgres server with the migrations applied.)
 * ```ts ignore
 * import { AuditKey, MemorySecretManager, withAudit } from "@keyward/secrets";
 * import {
 *   checkpointFileWriter,
 *   PostgresAuditSink,
 *   type PostgresAuditSinkOptions,
 * } from "@keyward/secrets/postgres";
 *
 * const options: PostgresAuditSinkOptions = {
 *   url: Deno.env.get("DATABASE_URL")!, // local work and CI; production: postgresSinkFromSecret()
 *   key: AuditKey.fromBase64(Deno.env.get("KEYWARD_AUDIT_KEY")!),
 *   batchSize: 500,
 *   maxBufferedEvents: 50_000, // held in memory while the database is down
 *   flushIntervalMs: 100,
 *   closeTimeoutMs: 5_000,
 *   onCheckpoint: checkpointFileWriter("/var/lib/keyward/audit.checkpoint.json"),
 * };
 * const secrets = withAudit(new MemorySecretManager(), new PostgresAuditSink(options), {
 *   service: "billing",
 * });
 * await secrets.listSecrets();
 * await secrets.close(); // writes what is buffered (5 s at most), then exports the checkpoint
 * ```
 */
export interface PostgresAuditSinkOptions {
  /** The key events are sealed under (from the secret manager, or `KEYWARD_AUDIT_KEY`). */
  key: AuditKey;
  /** A connected `npm:postgres` instance (not closed by the sink); or give `url`. */
  sql?: Sql;
  /**
   * A connection URL; the sink opens (and closes) its own connection. In
   * production, prefer {@linkcode postgresSinkFromSecret}, which reads the
   * password from the secret manager; `DATABASE_URL` suits local work and CI.
   */
  url?: string;
  /**
   * The chain's id.
   * @default {a random UUID: one chain per sink instance}
   */
  chainId?: string;
  /**
   * Continue the chain `chainId` from its last row in the table (or its
   * prune anchor), so the events of several processes with one writer
   * identity (CLI runs) form one chain and a deleted row shows as a gap.
   * Two processes writing at once stay correct (a position taken by the
   * other is re-sealed after it), but contend: give long-running writers
   * chains of their own. Needs a `chainId`.
   * @default {false}
   */
  resume?: boolean;
  /**
   * Events per insert.
   * @default {1000}
   */
  batchSize?: number;
  /**
   * Events held while the database is slow or down; past this the oldest are
   * dropped, counted, and the count is written as a `dropped` event once the
   * database is back.
   * @default {100000}
   */
  maxBufferedEvents?: number;
  /**
   * How long a partial batch waits for more events, in milliseconds.
   * @default {200}
   */
  flushIntervalMs?: number;
  /**
   * The first retry delay after a failed insert, in milliseconds; doubles up to `retryMaxMs`.
   * @default {250}
   */
  retryMinMs?: number;
  /**
   * The longest retry delay, in milliseconds.
   * @default {10000}
   */
  retryMaxMs?: number;
  /**
   * How long `close()` keeps trying to write what is buffered, in milliseconds.
   * @default {10000}
   */
  closeTimeoutMs?: number;
  /** Receives the chain head on `exportCheckpoint()` and on `close()`. */
  onCheckpoint?: (checkpoint: AuditCheckpoint) => void | Promise<void>;
  /**
   * The clock, in epoch milliseconds (for `dropped` events and checkpoints).
   * @default {Date.now}
   */
  now?: () => number;
}

/**
 * Counters of a {@linkcode PostgresAuditSink}, for health checks and tests.
 *
 * @example A health check that fails while events pile up or once any were lost
 * (Not run by `deno test --doc`: it needs a Postgres server with the migrations applied.)
 * ```ts ignore
 * import { AuditKey, MemorySecretManager, withAudit } from "@keyward/secrets";
 * import { PostgresAuditSink, type PostgresAuditSinkStats } from "@keyward/secrets/postgres";
 *
 * const sink = new PostgresAuditSink({
 *   url: Deno.env.get("DATABASE_URL")!,
 *   key: AuditKey.fromBase64(Deno.env.get("KEYWARD_AUDIT_KEY")!),
 * });
 * const auditHealthy = (stats: PostgresAuditSinkStats): boolean =>
 *   stats.dropped === 0 && stats.buffered < 10_000;
 *
 * const secrets = withAudit(new MemorySecretManager(), sink, { service: "billing" });
 * await secrets.listSecrets();
 * await secrets.flush();
 * const stats = sink.stats();
 * if (!auditHealthy(stats)) {
 *   console.error(`audit: ${stats.buffered} events waiting, ${stats.dropped} lost`);
 * }
 * await secrets.close();
 * ```
 */
export interface PostgresAuditSinkStats {
  /** Events (accesses, by `count`) recorded. */
  recorded: number;
  /** Events written to the table. */
  written: number;
  /** Events dropped because the buffer was full (or the sink closed before it could write them). */
  dropped: number;
  /** Events waiting in memory. */
  buffered: number;
  /** Inserts that failed and were retried. */
  failedInserts: number;
  /**
   * What the last failed write failed with (a SQLSTATE or an error name),
   * while writes are failing; `null` once a write succeeds.
   */
  lastError: string | null;
}

interface Batch {
  /** The events as recorded, to seal them afresh when another writer took their positions. */
  events: AuditEvent[];
  sealed: SealedAuditEvent[];
  /** Accesses it stands for (the `dropped` report excluded). */
  accesses: number;
}

/**
 * Errors a retry can never fix: a data exception (class 22) or an integrity
 * violation (class 23) caused by the rows themselves. Everything else
 * (permission denied 42501, a missing table, a dropped connection, 57P01
 * admin shutdown, a timeout, ...) may pass: those batches stay and are retried.
 */
const NEVER_SUCCEEDS_SQLSTATE = /^(22|23)/;

/**
 * The code a row is refused with when no retry can write it, else undefined:
 * the SQLSTATE of a data exception or integrity violation, or `invalid` when
 * the row could not even be built (a `RangeError`: a time no `Date` holds).
 * Without the second, one such event stalled the sink: retried forever, and
 * every later event queued behind it.
 */
function refusalCode(err: unknown): string | undefined {
  const state = sqlState(err);
  if (state !== undefined) return NEVER_SUCCEEDS_SQLSTATE.test(state) ? state : undefined;
  return err instanceof RangeError ? "invalid" : undefined;
}

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function errorLabel(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === "string" && /^[A-Za-z0-9_]{1,40}$/.test(code)) return code;
  return err instanceof Error ? err.name : "unknown";
}

/**
 * Writes audit events to `secret_access_log`. `record()` is synchronous and
 * only enqueues, so a secret read never waits for the database; a background
 * loop seals the events into the sink's hash chain and inserts them in
 * batches (one statement per batch, `unnest` over arrays).
 *
 * @example
 * ```ts ignore
 * import { AuditKey, MemorySecretManager, withAudit } from "@keyward/secrets";
 * import { PostgresAuditSink } from "@keyward/secrets/postgres";
 *
 * const sink = new PostgresAuditSink({
 *   url: Deno.env.get("DATABASE_URL")!, // local work and CI; production: postgresSinkFromSecret()
 *   key: AuditKey.fromBase64(Deno.env.get("KEYWARD_AUDIT_KEY")!),
 * });
 * const secrets = withAudit(new MemorySecretManager(), sink, { service: "billing" });
 * await secrets.close(); // flushes the sink and exports its checkpoint
 * ```
 */
export class PostgresAuditSink implements AuditSink {
  readonly #sql: Sql;
  readonly #ownsSql: boolean;
  readonly #chain: AuditChain;
  readonly #buffer: EventBuffer;
  readonly #batchSize: number;
  readonly #flushIntervalMs: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #closeTimeoutMs: number;
  readonly #onCheckpoint?: (checkpoint: AuditCheckpoint) => void | Promise<void>;
  readonly #now: () => number;
  readonly #log = keywardLogger("audit", "postgres");
  #inflight: Batch | null = null;
  /** The batch sealed while `#inflight` is being inserted (pipelining). */
  #next: Batch | null = null;
  #loop: Promise<void> | null = null;
  #wakeUp: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #urgent = false;
  #stopped = false;
  #closed = false;
  #failing = false;
  readonly #resume: boolean;
  /** With `resume`: whether the chain's stored head was read. */
  #headLoaded = false;
  #written: ChainHead | null = null;
  /** Accesses written or dropped, and the flush() and confirm() callers waiting for them. */
  readonly #settlement = new Settlement();
  #stats: PostgresAuditSinkStats = {
    recorded: 0,
    written: 0,
    dropped: 0,
    buffered: 0,
    failedInserts: 0,
    lastError: null,
  };
  /** Runs of refused rows not yet reported by a `dropped` record. */
  #refused: { from: number; to: number; count: number; code: string; service: string }[] = [];

  /** Creates the sink; it connects lazily, on the first write. */
  constructor(options: PostgresAuditSinkOptions) {
    if (!options?.key) throw new ConfigError("the Postgres audit sink needs an audit key");
    if (!options.sql && !options.url) {
      throw new ConfigError("the Postgres audit sink needs a connection: give `sql` or `url`");
    }
    const positive = (name: string, value: number) => {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`option ${name} must be a positive integer`);
      }
      return value;
    };
    this.#batchSize = positive("batchSize", options.batchSize ?? 1000);
    const max = positive("maxBufferedEvents", options.maxBufferedEvents ?? 100_000);
    if (max < this.#batchSize) {
      throw new RangeError("option maxBufferedEvents must be >= batchSize");
    }
    this.#flushIntervalMs = options.flushIntervalMs ?? 200;
    this.#retryMinMs = positive("retryMinMs", options.retryMinMs ?? 250);
    this.#retryMaxMs = positive("retryMaxMs", options.retryMaxMs ?? 10_000);
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.#buffer = new EventBuffer(max);
    this.#chain = new AuditChain(options.key, options);
    this.#resume = options.resume ?? false;
    if (this.#resume && options.chainId === undefined) {
      throw new RangeError("option resume needs a chainId");
    }
    this.#onCheckpoint = options.onCheckpoint;
    this.#now = options.now ?? Date.now;
    if (options.sql) {
      this.#sql = options.sql;
      this.#ownsSql = false;
    } else {
      this.#sql = connectUrl(options.url!, "option url");
      this.#ownsSql = true;
    }
  }

  /** The chain this sink writes. */
  get chainId(): string {
    return this.#chain.chainId;
  }

  /** Counters (a snapshot). */
  stats(): PostgresAuditSinkStats {
    return {
      ...this.#stats,
      buffered: this.#buffer.length + this.#sealedCount(),
    };
  }

  /** Whether writes are failing now (from a failed insert until the next one succeeds). */
  health(): AuditSinkHealth {
    return { failing: this.#failing, lastError: this.#failing ? this.#stats.lastError : null };
  }

  /**
   * Checks that the table can be written now: connects and asks whether
   * this role may insert into `secret_access_log`. Rejects otherwise (and
   * the sink counts as failing until a write succeeds).
   */
  async ready(): Promise<void> {
    let allowed: boolean;
    try {
      const [row] = await this.#sql<{ ok: boolean }[]>`
        SELECT has_table_privilege('secret_access_log', 'INSERT') AS ok`;
      allowed = row.ok;
    } catch (err) {
      this.#retrying(err);
      throw new AuditWriteFailedError(errorLabel(err));
    }
    if (!allowed) {
      this.#retrying(Object.assign(new Error("permission denied"), { code: "42501" }));
      throw new AuditWriteFailedError("42501");
    }
    if (this.#failing && this.#buffer.length === 0 && this.#sealedCount() === 0) {
      this.#failing = false;
      this.#stats.lastError = null;
    }
  }

  /**
   * Resolves once every event recorded before the call is written; rejects
   * as soon as an insert fails (the events stay buffered and are retried) or
   * one of them is dropped. While writes are failing, it retries at once
   * rather than after the back-off.
   */
  confirm(): Promise<void> {
    const target = this.#stats.recorded;
    const dropped = this.#stats.dropped;
    return this.#settlement.confirm(target, this.#kick).then(() => {
      if (this.#stats.dropped > dropped) throw new AuditWriteFailedError("lost");
    });
  }

  /** Enqueues one event: synchronous, no I/O, never throws. */
  record(event: AuditEvent): void {
    this.#stats.recorded += event.count;
    if (this.#closed) {
      this.#drop(event.count);
      return;
    }
    const before = this.#buffer.dropped;
    this.#buffer.push(event, this.#sealedCount());
    if (this.#buffer.dropped > before) this.#drop(this.#buffer.dropped - before);
    if (this.#buffer.length >= this.#batchSize) this.#wake();
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

  /** The head of the events written so far, as a checkpoint. */
  checkpoint(): AuditCheckpoint {
    return checkpointOf(this.#written ? [this.#written] : [], this.#now());
  }

  /** Flushes, then hands the checkpoint to `onCheckpoint`. */
  async exportCheckpoint(): Promise<void> {
    await this.flush();
    if (this.#onCheckpoint) await this.#onCheckpoint(this.checkpoint());
  }

  /**
   * Writes what is buffered (for at most `closeTimeoutMs`), exports the
   * checkpoint, and closes the connection the sink opened.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      this.flush().then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.#closeTimeoutMs))),
    ]);
    clearTimeout(timer);
    this.#stopped = true;
    this.#wake();
    if (timedOut) {
      const lost = this.#buffer.length + (this.#inflight?.accesses ?? 0) +
        (this.#next?.accesses ?? 0);
      this.#log.error("The audit database stayed unreachable; {count} audit events were lost", {
        count: lost,
      });
    }
    try {
      if (this.#onCheckpoint) await this.#onCheckpoint(this.checkpoint());
    } finally {
      if (this.#ownsSql) await this.#sql.end({ timeout: 1 });
      await this.#loop;
      const rest = this.#buffer.take(this.#buffer.length).reduce((n, e) => n + e.count, 0);
      this.#drop(rest + (this.#inflight?.accesses ?? 0) + (this.#next?.accesses ?? 0));
      this.#inflight = null;
      this.#next = null;
    }
  }

  /** Counts lost accesses; they are settled (a flush does not wait for them). */
  #drop(accesses: number): void {
    if (accesses <= 0) return;
    this.#stats.dropped += accesses;
    this.#settlement.add(accesses);
  }

  #wake(): void {
    clearTimeout(this.#timer);
    const w = this.#wakeUp;
    this.#wakeUp = null;
    w?.();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeUp = resolve;
      this.#timer = setTimeout(() => {
        this.#wakeUp = null;
        resolve();
      }, ms);
    });
  }

  async #run(): Promise<void> {
    let delay = this.#retryMinMs;
    try {
      while (!this.#stopped) {
        if (!this.#inflight && this.#next) {
          this.#inflight = this.#next;
          this.#next = null;
        }
        if (this.#resume && !this.#headLoaded && !this.#inflight) {
          if (this.#buffer.length === 0) break;
          try {
            this.#chain.resume(await this.#storedHead());
            this.#headLoaded = true;
          } catch (err) {
            this.#retrying(err);
            await this.#sleep(delay);
            delay = Math.min(delay * 2, this.#retryMaxMs);
            continue;
          }
        }
        if (!this.#inflight) {
          if (this.#buffer.length === 0) break;
          if (this.#buffer.length < this.#batchSize && !this.#urgent && !this.#closed) {
            await this.#sleep(this.#flushIntervalMs);
            if (this.#stopped) break;
          }
          this.#inflight = this.#sealBatch();
          if (!this.#inflight) continue;
        }
        const batch = this.#inflight;
        const attempt = this.#insert(batch.sealed);
        // Seal the next batch while this one travels (sealing is CPU, the insert is I/O).
        if (!this.#next && this.#buffer.length >= this.#batchSize) this.#next = this.#sealBatch();
        try {
          await attempt;
        } catch (err) {
          if (await this.#alreadyWritten(err, batch.sealed)) {
            // The previous attempt committed but its answer was lost.
          } else if (this.#resume && sqlState(err) === "23505") {
            // Another process of this writer took these positions: seal the events afresh after it.
            const events = [...batch.events, ...(this.#next?.events ?? [])];
            this.#inflight = null;
            this.#next = null;
            for (let i = events.length - 1; i >= 0; i--) this.#buffer.unshift(events[i]);
            this.#headLoaded = false;
            continue;
          } else if (refusalCode(err) !== undefined) {
            // Find the rows refused: insert the batch row by row; only those are lost.
            if (await this.#insertRowByRow(batch)) {
              this.#inflight = null;
              delay = this.#retryMinMs;
              this.#recovered();
              continue;
            }
            this.#retrying(err);
            await this.#sleep(delay);
            delay = Math.min(delay * 2, this.#retryMaxMs);
            continue;
          } else {
            this.#retrying(err);
            await this.#sleep(delay);
            delay = Math.min(delay * 2, this.#retryMaxMs);
            continue;
          }
        }
        delay = this.#retryMinMs;
        this.#wrote(batch.sealed, batch.accesses);
        this.#inflight = null;
        this.#recovered();
      }
    } finally {
      this.#loop = null;
      clearTimeout(this.#timer);
    }
  }

  /** Notes rows as written: the chain head, the counters, the waiting flushes. */
  #wrote(rows: SealedAuditEvent[], accesses: number): void {
    if (rows.length === 0) return;
    const last = rows[rows.length - 1];
    this.#written = { chainId: last.chainId, seq: last.seq, mac: last.mac };
    this.#stats.written += accesses;
    this.#settlement.add(accesses);
  }

  /** A write failed with an error that may pass: the batch stays and is retried. */
  #retrying(err: unknown): void {
    this.#stats.failedInserts += 1;
    this.#stats.lastError = errorLabel(err);
    // confirm() callers learn it now; flush() callers keep waiting for the retries.
    this.#settlement.fail(new AuditWriteFailedError(this.#stats.lastError));
    if (!this.#failing) {
      this.#failing = true;
      this.#log.warn("The audit database cannot be written ({error}); buffering events", {
        error: errorLabel(err),
      });
    }
  }

  /** After a successful write: ends a failure, and queues the reports of what was lost. */
  #recovered(): void {
    if (this.#failing) {
      this.#failing = false;
      this.#stats.lastError = null;
      this.#log.info("The audit database is written again");
    }
    const reports: AuditEvent[] = [];
    const lost = this.#buffer.takeDropped();
    if (lost.count > 0) {
      this.#log.warn("{count} audit events were dropped while the database was unreachable", {
        count: lost.count,
      });
      reports.push(droppedEvent(lost.count, lost.service, this.#now()));
    }
    for (const r of this.#refused.splice(0)) {
      reports.push(
        droppedEvent(r.count, r.service, this.#now(), `refused:${r.code}`, `${r.from}-${r.to}`),
      );
    }
    for (let i = reports.length - 1; i >= 0; i--) this.#buffer.unshift(reports[i]);
    if (this.#buffer.length === 0) this.#urgent = false;
  }

  /**
   * Inserts `batch` one row at a time after the store refused it whole with
   * an error no retry can fix: the rows refused again are dropped (counted,
   * logged, and reported by a `dropped` record naming their positions), the
   * others are written. Returns false when a row fails with an error that may
   * pass: the rows not yet written stay in `batch` to be retried.
   */
  async #insertRowByRow(batch: Batch): Promise<boolean> {
    while (batch.sealed.length > 0) {
      const row = batch.sealed[0];
      const accesses = row.action === "dropped" ? 0 : row.count;
      try {
        await this.#insert([row]);
      } catch (err) {
        const code = refusalCode(err);
        if (await this.#alreadyWritten(err, [row])) {
          // written by an earlier attempt whose answer was lost
        } else if (code !== undefined) {
          this.#log.error(
            "The audit database refused an event ({code}); it is lost and reported as dropped",
            { code },
          );
          const prev = this.#refused.at(-1);
          if (prev && prev.to === row.seq - 1 && prev.code === code) {
            prev.to = row.seq;
            prev.count += row.count;
          } else {
            this.#refused.push({
              from: row.seq,
              to: row.seq,
              count: row.count,
              code,
              service: row.service,
            });
          }
          batch.sealed.shift();
          batch.accesses -= accesses;
          this.#drop(accesses);
          continue;
        } else {
          return false;
        }
      }
      batch.sealed.shift();
      batch.accesses -= accesses;
      this.#wrote([row], accesses);
    }
    return true;
  }

  #sealedCount(): number {
    return (this.#inflight?.sealed.length ?? 0) + (this.#next?.sealed.length ?? 0);
  }

  #sealBatch(): Batch | null {
    const events = this.#buffer.take(this.#batchSize);
    if (events.length === 0) return null;
    let accesses = 0;
    const sealed = events.map((e) => {
      if (e.action !== "dropped") accesses += e.count;
      const sealed = this.#chain.seal(e);
      const origin = originOf.get(e);
      if (origin) originOf.set(sealed, origin);
      return sealed;
    });
    return { events, sealed, accesses };
  }

  /** The last stored position of this chain: its newest row, or its prune anchor. */
  async #storedHead(): Promise<ChainHead | null> {
    const chainId = this.#chain.chainId;
    const rows = await this.#sql<{ seq: string; mac: string }[]>`
      SELECT h.seq::text AS seq, h.mac FROM (
        SELECT seq, mac FROM secret_access_log WHERE chain_id = ${chainId}
        UNION ALL
        SELECT seq, mac FROM secret_access_log_anchor WHERE chain_id = ${chainId}
      ) h ORDER BY h.seq DESC LIMIT 1`;
    return rows.length === 0 ? null : { chainId, seq: Number(rows[0].seq), mac: rows[0].mac };
  }

  async #alreadyWritten(err: unknown, batch: SealedAuditEvent[]): Promise<boolean> {
    if (sqlState(err) !== "23505") return false;
    try {
      const macs = batch.map((e) => e.mac);
      const rows = await this.#sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM secret_access_log
        WHERE chain_id = ${batch[0].chainId}
          AND seq BETWEEN ${batch[0].seq} AND ${batch[batch.length - 1].seq}
          AND mac = ANY(${macs}::text[])`;
      return rows[0].n === batch.length;
    } catch {
      return false;
    }
  }

  async #insert(batch: SealedAuditEvent[]): Promise<void> {
    const n = batch.length;
    const at = new Array<string>(n), service = new Array<string>(n), name = new Array<string>(n);
    const action = new Array<string>(n), outcome = new Array<string>(n);
    const source = new Array<string>(n), backend = new Array<string | null>(n);
    const version = new Array<string | null>(n), latency = new Array<number>(n);
    const code = new Array<string | null>(n), count = new Array<number>(n);
    const chain = new Array<string>(n), seq = new Array<number>(n);
    const prev = new Array<string>(n), mac = new Array<string>(n);
    const originInstance = new Array<string | null>(n), originSeq = new Array<number | null>(n);
    let forwarded = false;
    for (let i = 0; i < n; i++) {
      const e = batch[i];
      const origin = originOf.get(e);
      originInstance[i] = origin?.instance ?? null;
      originSeq[i] = origin?.seq ?? null;
      if (origin) forwarded = true;
      // Sent as text: npm:postgres would turn a timestamptz parameter into a Date (milliseconds).
      at[i] = isoMicros(e.accessedAtMs);
      service[i] = e.service;
      name[i] = e.secretName;
      action[i] = e.action;
      outcome[i] = e.outcome;
      source[i] = e.source;
      backend[i] = e.backend;
      version[i] = e.version;
      latency[i] = e.latencyMs;
      code[i] = e.errorCode;
      count[i] = e.count;
      chain[i] = e.chainId;
      seq[i] = e.seq;
      prev[i] = e.prevMac;
      mac[i] = e.mac;
    }
    if (forwarded) {
      // Events an instance forwarded through the endpoint: their origin is stored for dedupe.
      await this.#sql`
        INSERT INTO secret_access_log (accessed_at, service, secret_name, action, outcome, source,
          backend, version, latency_ms, error_code, count, chain_id, seq, prev_mac, mac,
          origin_instance, origin_seq)
        SELECT at::timestamptz, service, name, action, outcome, source, backend, version, latency,
          code, count, chain, seq, prev, mac, oi, os
        FROM unnest(${at}::text[], ${service}::text[], ${name}::text[],
          ${action}::text[], ${outcome}::text[], ${source}::text[], ${backend}::text[],
          ${version}::text[], ${latency}::float8[], ${code}::text[], ${count}::int[],
          ${chain}::text[], ${seq}::bigint[], ${prev}::text[], ${mac}::text[],
          ${originInstance}::text[], ${originSeq}::bigint[])
          AS u(at, service, name, action, outcome, source, backend, version, latency, code, count,
            chain, seq, prev, mac, oi, os)`;
      return;
    }
    await this.#sql`
      INSERT INTO secret_access_log (accessed_at, service, secret_name, action, outcome, source,
        backend, version, latency_ms, error_code, count, chain_id, seq, prev_mac, mac)
      SELECT at::timestamptz, service, name, action, outcome, source, backend, version, latency,
        code, count, chain, seq, prev, mac
      FROM unnest(${at}::text[], ${service}::text[], ${name}::text[],
        ${action}::text[], ${outcome}::text[], ${source}::text[], ${backend}::text[],
        ${version}::text[], ${latency}::float8[], ${code}::text[], ${count}::int[],
        ${chain}::text[], ${seq}::bigint[], ${prev}::text[], ${mac}::text[])
        AS u(at, service, name, action, outcome, source, backend, version, latency, code, count,
          chain, seq, prev, mac)`;
  }
}

/**
 * Builds a {@linkcode PostgresAuditSink} whose connection comes from the
 * secret manager: the secret holds a URL (`postgres://user:password@host/db`)
 * or fields `host`, `port`, `user`, `password`, `database`. The way to
 * connect in production: the password never sits in the environment.
 *
 * @example
 * ```ts ignore
 * import { AuditKey, withAudit } from "@keyward/secrets";
 * import { createSecretManager } from "@keyward/secrets/factory";
 * import { postgresSinkFromSecret } from "@keyward/secrets/postgres";
 *
 * // Needs Postgres with the migrations applied, and the secrets below in the backend.
 * const secrets = await createSecretManager();
 * const sink = await postgresSinkFromSecret(secrets, "database/audit", {
 *   key: await AuditKey.fromSecret(secrets, "keyward/audit_key"),
 * });
 * const audited = withAudit(secrets, sink, { service: "billing" });
 * await audited.close(); // flushes the sink
 * ```
 */
export async function postgresSinkFromSecret(
  manager: SecretManager,
  name: string,
  options: Omit<PostgresAuditSinkOptions, "sql" | "url">,
): Promise<PostgresAuditSink> {
  const sql = await connectFromSecret(manager, name);
  return new OwningPostgresAuditSink(sql, options);
}

/** A sink that closes the connection it was handed. */
class OwningPostgresAuditSink extends PostgresAuditSink {
  readonly #owned: Sql;
  constructor(sql: Sql, options: Omit<PostgresAuditSinkOptions, "sql" | "url">) {
    super({ ...options, sql });
    this.#owned = sql;
  }
  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      await this.#owned.end({ timeout: 1 });
    }
  }
}
