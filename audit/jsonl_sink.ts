/**
 * The JSON-lines audit sink (the embedded default): one JSON object per
 * event, written to any `WritableStream`. Runtime-neutral.
 *
 * @module
 */

import { keywardLogger } from "../core/log.ts";
import { droppedEvent, EventBuffer } from "./_buffer.ts";
import { isoMicros, parseIsoMicros } from "./chain.ts";
import { AuditChain, type AuditKey } from "./chain.ts";
import type {
  AuditCheckpoint,
  AuditEvent,
  AuditSink,
  AuditSinkHealth,
  ChainHead,
  SealedAuditEvent,
} from "./types.ts";

/**
 * Options of {@linkcode JsonLinesAuditSink}.
 *
 * @example Sealed lines and a checkpoint that proves nothing was cut off the end
 * ```ts
 * import {
 *   type AuditCheckpoint,
 *   AuditKey,
 *   fromJsonLine,
 *   JsonLinesAuditSink,
 *   type JsonLinesSinkOptions,
 *   MemorySecretManager,
 *   verifyAuditRows,
 *   withAudit,
 * } from "@keyward/secrets";
 *
 * const key = AuditKey.fromBase64(btoa("k".repeat(32)));
 * const checkpoints: AuditCheckpoint[] = [];
 * const options: JsonLinesSinkOptions = {
 *   key,
 *   chainId: "api-1",
 *   maxBufferedEvents: 1_000,
 *   onCheckpoint: (cp) => void checkpoints.push(cp), // store it away from the log
 *   now: () => 0,
 * };
 * let text = "";
 * const decoder = new TextDecoder();
 * const stream = new WritableStream<Uint8Array>({ write: (c) => void (text += decoder.decode(c)) });
 * const audited = withAudit(new MemorySecretManager(), new JsonLinesAuditSink(stream, options), {
 *   service: "api",
 * });
 * await audited.listSecrets();
 * await audited.listSecrets("db/");
 * await audited.close(); // writes the lines, then hands over the checkpoint
 * const rows = text.trim().split("\n").map((line, i) => ({ ...fromJsonLine(line), id: i + 1 }));
 * if (rows.length !== 2 || checkpoints[0].chains["api-1"].seq !== 2) throw new Error();
 * if (!(await verifyAuditRows(rows, { key, checkpoint: checkpoints[0] })).ok) throw new Error();
 * ```
 */
export interface JsonLinesSinkOptions {
  /** Seals events into a hash chain under this key; without it, lines carry no chain fields. */
  key?: AuditKey;
  /**
   * The chain's id.
   * @default {a random UUID}
   */
  chainId?: string;
  /**
   * Events held while the stream is slow; past this the oldest are dropped and counted.
   * @default {10000}
   */
  maxBufferedEvents?: number;
  /** Receives the chain head on `exportCheckpoint()` and on `close()` (only with a `key`). */
  onCheckpoint?: (checkpoint: AuditCheckpoint) => void | Promise<void>;
  /**
   * Continue the chain `chainId` from the head the writer stores for it
   * (the file sink keeps heads beside the trail), so the events of several
   * processes with one writer identity (CLI runs) form one chain and a
   * deleted line shows as a gap. Needs a `key`, a `chainId` and a writer
   * that stores heads (an {@linkcode AuditLineWriter} with `appendChained`).
   * @default {false}
   */
  resume?: boolean;
  /**
   * The first retry delay after a failed write, in milliseconds; doubles up to 10 s.
   * @default {250}
   */
  retryMinMs?: number;
  /**
   * The clock, in epoch milliseconds.
   * @default {Date.now}
   */
  now?: () => number;
}

/**
 * The JSON form of one event, as written (snake_case, like the table's columns).
 *
 * @example
 * ```ts
 * import { toJsonLine } from "@keyward/secrets";
 *
 * const line = toJsonLine({
 *   accessedAtMs: 0, service: "api", secretName: "db/password", action: "get",
 *   outcome: "ok", source: "cache", backend: "memory", version: null,
 *   latencyMs: 0, errorCode: null, count: 3,
 * });
 * const o = JSON.parse(line);
 * if (o.accessed_at !== "1970-01-01T00:00:00.000Z" || o.secret_name !== "db/password") {
 *   throw new Error();
 * }
 * if ("mac" in o) throw new Error("an unsealed event carries no chain fields");
 * ```
 */
export function toJsonLine(e: AuditEvent | SealedAuditEvent): string {
  const base: Record<string, unknown> = {
    accessed_at: isoMicros(e.accessedAtMs),
    service: e.service,
    secret_name: e.secretName,
    action: e.action,
    outcome: e.outcome,
    source: e.source,
    backend: e.backend,
    version: e.version,
    latency_ms: e.latencyMs,
    error_code: e.errorCode,
    count: e.count,
  };
  if ("mac" in e) {
    base.chain_id = e.chainId;
    base.seq = e.seq;
    base.prev_mac = e.prevMac;
    base.mac = e.mac;
  }
  return JSON.stringify(base);
}

/**
 * Parses a line written by {@linkcode toJsonLine} (a sealed event).
 *
 * @example A sealed event survives the round trip
 * ```ts
 * import { AuditChain, AuditKey, fromJsonLine, toJsonLine } from "@keyward/secrets";
 *
 * const sealed = new AuditChain(AuditKey.fromBase64(btoa("k".repeat(32)))).seal({
 *   accessedAtMs: 1_700_000_000_000, service: "api", secretName: "db/password",
 *   action: "get", outcome: "ok", source: "backend", backend: "memory", version: "v1",
 *   latencyMs: 4, errorCode: null, count: 1,
 * });
 * const parsed = fromJsonLine(toJsonLine(sealed));
 * if (JSON.stringify(parsed) !== JSON.stringify(sealed)) throw new Error();
 * ```
 */
export function fromJsonLine(line: string): SealedAuditEvent {
  const o = JSON.parse(line) as Record<string, unknown>;
  return {
    accessedAtMs: parseIsoMicros(String(o.accessed_at)),
    service: String(o.service),
    secretName: String(o.secret_name),
    action: o.action as SealedAuditEvent["action"],
    outcome: o.outcome as SealedAuditEvent["outcome"],
    source: o.source as SealedAuditEvent["source"],
    backend: (o.backend ?? null) as string | null,
    version: (o.version ?? null) as string | null,
    latencyMs: Number(o.latency_ms),
    errorCode: (o.error_code ?? null) as string | null,
    count: Number(o.count),
    chainId: String(o.chain_id),
    seq: Number(o.seq),
    prevMac: String(o.prev_mac),
    mac: String(o.mac),
  };
}

/**
 * Builds a checkpoint from chain heads.
 *
 * @example
 * ```ts
 * import { checkpointOf } from "@keyward/secrets";
 *
 * const cp = checkpointOf([{ chainId: "chain-1", seq: 7, mac: "ab".repeat(32) }], 0);
 * if (cp.version !== 1 || cp.createdAt !== "1970-01-01T00:00:00.000Z") throw new Error();
 * if (cp.chains["chain-1"].seq !== 7) throw new Error();
 * ```
 */
export function checkpointOf(heads: ChainHead[], nowMs: number = Date.now()): AuditCheckpoint {
  const chains: AuditCheckpoint["chains"] = {};
  for (const h of heads) chains[h.chainId] = { seq: h.seq, mac: h.mac };
  return { version: 1, createdAt: new Date(nowMs).toISOString(), chains };
}

const encoder = /* @__PURE__ */ new TextEncoder();
const RETRY_MAX_MS = 10_000;

/**
 * Where a {@linkcode JsonLinesAuditSink} writes, when a `WritableStream` is
 * not enough: a write is whole or nothing and may be retried after it
 * failed (a `WritableStream` stays broken after its first failed write).
 * The file sink's writer is one.
 *
 * @example Lines kept in memory
 * ```ts
 * import { type AuditLineWriter, JsonLinesAuditSink, MemorySecretManager, withAudit } from "@keyward/secrets";
 *
 * const lines: string[] = [];
 * const writer: AuditLineWriter = {
 *   write: (chunk) => {
 *     lines.push(...new TextDecoder().decode(chunk).trim().split("\n"));
 *     return Promise.resolve();
 *   },
 *   close: () => Promise.resolve(),
 * };
 * const audited = withAudit(new MemorySecretManager(), new JsonLinesAuditSink(writer), { service: "api" });
 * await audited.listSecrets();
 * await audited.close();
 * if (lines.length !== 1 || JSON.parse(lines[0]).action !== "list") throw new Error();
 * ```
 */
export interface AuditLineWriter {
  /** Appends `chunk` (whole lines) entirely, or not at all and rejects. */
  write(chunk: Uint8Array): Promise<void>;
  /** Releases the destination. */
  close(): Promise<void>;
  /** Opens (and repairs) the destination; rejects when it cannot be written. */
  ready?(): Promise<void>;
  /**
   * Under an exclusive lock: reads the head stored for `chainId`, appends
   * the chunk `build` makes from it (whole or nothing), and stores the head
   * `build` returns.
   */
  appendChained?(
    chainId: string,
    build: (stored: ChainHead | null) => { chunk: Uint8Array; head: ChainHead | null },
  ): Promise<void>;
}

/**
 * Counters of a {@linkcode JsonLinesAuditSink}.
 *
 * @example
 * ```ts
 * import { JsonLinesAuditSink, type JsonLinesSinkStats } from "@keyward/secrets";
 *
 * const sink = new JsonLinesAuditSink(new WritableStream());
 * const stats: JsonLinesSinkStats = sink.stats();
 * if (stats.written !== 0 || stats.failedWrites !== 0 || stats.lastError !== null) throw new Error();
 * await sink.close();
 * ```
 */
export interface JsonLinesSinkStats {
  /** Accesses recorded. */
  recorded: number;
  /** Accesses written. */
  written: number;
  /** Accesses lost (a full buffer, or still unwritten at `close()`). */
  dropped: number;
  /** Events waiting to be written. */
  buffered: number;
  /** Writes that failed (each is retried). */
  failedWrites: number;
  /** What the last failed write failed with, while writes fail; else `null`. */
  lastError: string | null;
}

/** Why a sink could not write: an error code or name, never a message (it may quote a path or more). */
export function failureLabel(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === "string" && /^[A-Za-z0-9_]{1,40}$/.test(code)) return code;
  return err instanceof Error && /^[A-Za-z]{1,40}$/.test(err.name) ? err.name : "unknown";
}

/** A write failure a sink reports through `confirm()` and `ready()`. */
export class AuditWriteFailedError extends Error {
  /** The failure's code or name. */
  readonly label: string;
  /** Builds the error. */
  constructor(label: string) {
    super(`the audit trail cannot be written (${label})`);
    this.name = "AuditWriteFailedError";
    this.label = label;
  }
}

function streamWriter(stream: WritableStream<Uint8Array>): AuditLineWriter {
  const w = stream.getWriter();
  return { write: (chunk) => w.write(chunk), close: () => w.close() };
}

const accessesOf = (e: AuditEvent) => (e.action === "dropped" ? 0 : e.count);

/**
 * Writes audit events as JSON lines to a `WritableStream` or an
 * {@linkcode AuditLineWriter}. `record()` only enqueues; a background pump
 * writes, so a slow stream never blocks a read. A failed write keeps its
 * events and is retried (after 250 ms, doubling up to 10 s, and on every
 * `flush()`); meanwhile `health()` reports the failure, and the failure is
 * logged (category `keyward.audit.jsonl`).
 *
 * @example Writing audit lines to a stream
 * ```ts
 * import { JsonLinesAuditSink, MemorySecretManager, withAudit } from "@keyward/secrets";
 *
 * const chunks: Uint8Array[] = [];
 * const sink = new JsonLinesAuditSink(new WritableStream({ write: (c) => { chunks.push(c); } }));
 * const audited = withAudit(new MemorySecretManager(), sink, { service: "api" });
 * await audited.listSecrets("db/");
 * await audited.close();
 * const line = JSON.parse(new TextDecoder().decode(chunks[0]));
 * if (line.action !== "list" || line.outcome !== "ok") throw new Error();
 * ```
 */
export class JsonLinesAuditSink implements AuditSink {
  readonly #writer: AuditLineWriter;
  readonly #chain: AuditChain | null;
  readonly #resume: boolean;
  readonly #buffer: EventBuffer;
  readonly #onCheckpoint?: (checkpoint: AuditCheckpoint) => void | Promise<void>;
  readonly #now: () => number;
  readonly #retryMinMs: number;
  readonly #log = keywardLogger("audit", "jsonl");
  #written: ChainHead | null = null;
  #pump: Promise<void> | null = null;
  /** Events taken from the buffer whose write failed: written (sealed afresh) before any other. */
  #unwritten: AuditEvent[] | null = null;
  #failing: string | null = null;
  #retryDelay: number;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #stats: JsonLinesSinkStats = {
    recorded: 0,
    written: 0,
    dropped: 0,
    buffered: 0,
    failedWrites: 0,
    lastError: null,
  };

  /**
   * Writes to `out`: a `WritableStream` (locked to this sink and closed by
   * `close()`; after a failed write it stays broken) or an
   * {@linkcode AuditLineWriter}.
   */
  constructor(
    out: WritableStream<Uint8Array> | AuditLineWriter,
    options: JsonLinesSinkOptions = {},
  ) {
    const max = options.maxBufferedEvents ?? 10_000;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError("option maxBufferedEvents must be a positive integer");
    }
    this.#retryMinMs = options.retryMinMs ?? 250;
    if (!Number.isInteger(this.#retryMinMs) || this.#retryMinMs < 1) {
      throw new RangeError("option retryMinMs must be a positive integer");
    }
    this.#retryDelay = this.#retryMinMs;
    this.#writer = out instanceof WritableStream ? streamWriter(out) : out;
    this.#chain = options.key ? new AuditChain(options.key, options) : null;
    this.#resume = options.resume ?? false;
    if (this.#resume && (!options.key || options.chainId === undefined)) {
      throw new RangeError("option resume needs a key and a chainId");
    }
    if (this.#resume && !this.#writer.appendChained) {
      throw new RangeError("option resume needs a writer that stores chain heads (appendChained)");
    }
    this.#buffer = new EventBuffer(max);
    this.#onCheckpoint = options.onCheckpoint;
    this.#now = options.now ?? Date.now;
  }

  /** The chain's id, or `null` without a key. */
  get chainId(): string | null {
    return this.#chain?.chainId ?? null;
  }

  /** Counters (a snapshot). */
  stats(): JsonLinesSinkStats {
    return { ...this.#stats, buffered: this.#buffer.length + (this.#unwritten?.length ?? 0) };
  }

  /** Whether writes are failing now. */
  health(): AuditSinkHealth {
    return { failing: this.#failing !== null, lastError: this.#failing };
  }

  /** Enqueues one event (never blocks, never throws). */
  record(event: AuditEvent): void {
    this.#stats.recorded += accessesOf(event);
    if (this.#closed) {
      this.#lose(accessesOf(event));
      return;
    }
    const before = this.#buffer.dropped;
    this.#buffer.push(event);
    if (this.#buffer.dropped > before) this.#stats.dropped += this.#buffer.dropped - before;
    // While failing, the retry timer writes (not every record).
    if (this.#failing === null) this.#pump ??= Promise.resolve().then(() => this.#run());
  }

  /**
   * Resolves once every event recorded so far is written, or a write failed
   * (then `health()` says so and the events are retried).
   */
  async flush(): Promise<void> {
    if (this.#buffer.length > 0 || this.#unwritten) {
      this.#pump ??= Promise.resolve().then(() => this.#run());
    }
    while (this.#pump) await this.#pump;
  }

  /** Opens (and repairs) the destination; rejects when it cannot be written. */
  async ready(): Promise<void> {
    if (!this.#writer.ready) return;
    try {
      await this.#writer.ready();
    } catch (err) {
      this.#fail(err);
      throw new AuditWriteFailedError(failureLabel(err));
    }
  }

  /**
   * Resolves once every event recorded before the call is written; rejects
   * when the write fails (while failing, it tries once more at once).
   */
  async confirm(): Promise<void> {
    const target = this.#stats.recorded;
    const dropped = this.#stats.dropped;
    await this.flush();
    if (this.#failing !== null) throw new AuditWriteFailedError(this.#failing);
    if (this.#stats.dropped > dropped || this.#stats.written + this.#stats.dropped < target) {
      throw new AuditWriteFailedError("lost");
    }
  }

  /** The head of the events written so far, as a checkpoint (`null` without a key). */
  checkpoint(): AuditCheckpoint | null {
    if (!this.#chain) return null;
    return checkpointOf(this.#written ? [this.#written] : [], this.#now());
  }

  /** Flushes, then hands the checkpoint to `onCheckpoint`. */
  async exportCheckpoint(): Promise<void> {
    await this.flush();
    const cp = this.checkpoint();
    if (cp && this.#onCheckpoint) await this.#onCheckpoint(cp);
  }

  /**
   * Flushes (one more attempt when writes were failing), exports the
   * checkpoint and closes the destination; what could not be written is
   * lost, counted and logged.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearTimeout(this.#retryTimer);
    await this.flush();
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    try {
      const cp = this.checkpoint();
      if (cp && this.#onCheckpoint) await this.#onCheckpoint(cp);
    } finally {
      const rest = [...(this.#unwritten ?? []), ...this.#buffer.take(this.#buffer.length)];
      this.#unwritten = null;
      const lost = rest.reduce((n, e) => n + accessesOf(e), 0);
      this.#lose(lost);
      await this.#writer.close().catch(() => {});
      if (this.#stats.dropped > 0) {
        this.#log.error("{count} audit events were lost", { count: this.#stats.dropped });
      }
    }
  }

  #lose(accesses: number): void {
    this.#stats.dropped += accesses;
  }

  #fail(err: unknown): void {
    const label = failureLabel(err);
    this.#stats.failedWrites += 1;
    this.#stats.lastError = label;
    if (this.#failing === null) {
      this.#log.error(
        "The audit trail cannot be written ({error}); events are kept and retried",
        { error: label },
      );
    }
    this.#failing = label;
    if (this.#closed) return;
    clearTimeout(this.#retryTimer);
    const timer = setTimeout(() => {
      this.#pump ??= Promise.resolve().then(() => this.#run());
    }, this.#retryDelay);
    // Node: the timer must not keep the process alive (Deno: close() clears it).
    (timer as { unref?: () => void }).unref?.();
    this.#retryTimer = timer;
    this.#retryDelay = Math.min(this.#retryDelay * 2, RETRY_MAX_MS);
  }

  async #run(): Promise<void> {
    try {
      while (true) {
        let events = this.#unwritten;
        if (!events) {
          if (this.#buffer.length === 0) break;
          events = this.#buffer.take(this.#buffer.length);
          const lost = this.#buffer.takeDropped();
          if (lost.count > 0) events.unshift(droppedEvent(lost.count, lost.service, this.#now()));
        }
        this.#unwritten = events;
        const before = this.#chain?.head() ?? null;
        try {
          await this.#write(events);
        } catch (err) {
          // Take the seals back: the events are sealed afresh on the next attempt.
          this.#chain?.resume(before);
          this.#fail(err);
          break;
        }
        this.#unwritten = null;
        this.#written = this.#chain?.head() ?? null;
        this.#stats.written += events.reduce((n, e) => n + accessesOf(e), 0);
        if (this.#failing !== null) {
          this.#failing = null;
          this.#stats.lastError = null;
          this.#retryDelay = this.#retryMinMs;
          clearTimeout(this.#retryTimer);
          this.#log.info("The audit trail is written again");
        }
      }
    } finally {
      this.#pump = null;
    }
  }

  #lines(events: AuditEvent[]): Uint8Array {
    let text = "";
    for (const e of events) text += toJsonLine(this.#chain ? this.#chain.seal(e) : e) + "\n";
    return encoder.encode(text);
  }

  async #write(events: AuditEvent[]): Promise<void> {
    const chain = this.#chain;
    if (chain && this.#resume) {
      await this.#writer.appendChained!(chain.chainId, (stored) => {
        const own = chain.head();
        if (stored && (own === null || stored.seq > own.seq)) chain.resume(stored);
        const chunk = this.#lines(events);
        return { chunk, head: chain.head() };
      });
    } else {
      await this.#writer.write(this.#lines(events));
    }
  }
}
