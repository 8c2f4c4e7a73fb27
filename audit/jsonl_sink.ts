/**
 * The JSON-lines audit sink (the embedded default): one JSON object per
 * event, written to any `WritableStream`. Runtime-neutral.
 *
 * @module
 */

import { keywardLogger } from "../core/log.ts";
import { droppedEvent, EventBuffer } from "./_buffer.ts";
import { isoMicros, parseIsoMicros } from "./_time.ts";
import { AuditChain, type AuditKey } from "./chain.ts";
import type {
  AuditCheckpoint,
  AuditEvent,
  AuditSink,
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

/**
 * Writes audit events as JSON lines to a `WritableStream`. `record()` only
 * enqueues; a background pump writes, so a slow stream never blocks a read.
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
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #chain: AuditChain | null;
  readonly #buffer: EventBuffer;
  readonly #onCheckpoint?: (checkpoint: AuditCheckpoint) => void | Promise<void>;
  readonly #now: () => number;
  readonly #log = keywardLogger("audit", "jsonl");
  #written: ChainHead | null = null;
  #pump: Promise<void> | null = null;
  #broken = false;
  #closed = false;

  /** Writes to `stream` (it is locked to this sink and closed by `close()`). */
  constructor(stream: WritableStream<Uint8Array>, options: JsonLinesSinkOptions = {}) {
    const max = options.maxBufferedEvents ?? 10_000;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError("option maxBufferedEvents must be a positive integer");
    }
    this.#writer = stream.getWriter();
    this.#chain = options.key ? new AuditChain(options.key, options) : null;
    this.#buffer = new EventBuffer(max);
    this.#onCheckpoint = options.onCheckpoint;
    this.#now = options.now ?? Date.now;
  }

  /** The chain's id, or `null` without a key. */
  get chainId(): string | null {
    return this.#chain?.chainId ?? null;
  }

  /** Enqueues one event (never blocks, never throws). */
  record(event: AuditEvent): void {
    if (this.#closed || this.#broken) {
      this.#buffer.dropped += event.count;
      return;
    }
    this.#buffer.push(event);
    this.#pump ??= Promise.resolve().then(() => this.#run());
  }

  /** Resolves once every event recorded so far is written. */
  async flush(): Promise<void> {
    while (this.#pump) await this.#pump;
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

  /** Flushes, exports the checkpoint and closes the stream. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    try {
      const cp = this.checkpoint();
      if (cp && this.#onCheckpoint) await this.#onCheckpoint(cp);
    } finally {
      if (!this.#broken) await this.#writer.close().catch(() => {});
      if (this.#buffer.dropped > 0) {
        this.#log.error("{count} audit events were lost", { count: this.#buffer.dropped });
      }
    }
  }

  async #run(): Promise<void> {
    try {
      while (this.#buffer.length > 0 && !this.#broken) {
        const events = this.#buffer.take(this.#buffer.length);
        const lost = this.#buffer.takeDropped();
        if (lost.count > 0) events.unshift(droppedEvent(lost.count, lost.service, this.#now()));
        let text = "";
        let last: SealedAuditEvent | null = null;
        for (const e of events) {
          const sealed = this.#chain ? (last = this.#chain.seal(e)) : e;
          text += toJsonLine(sealed) + "\n";
        }
        try {
          await this.#writer.write(encoder.encode(text));
          if (last) this.#written = { chainId: last.chainId, seq: last.seq, mac: last.mac };
        } catch (err) {
          this.#broken = true;
          this.#buffer.dropped += events.reduce((n, e) => n + e.count, 0);
          this.#log.error("The audit stream failed; audit events are being lost: {error}", {
            error: err instanceof Error ? err.name : "unknown",
          });
        }
      }
    } finally {
      this.#pump = null;
    }
  }
}
