/**
 * What the buffering sinks share: a bounded FIFO of audit events that drops
 * the oldest when full and counts what it dropped, so a sink can report the
 * loss once it can write again; and the count of settled accesses (written
 * or dropped) that `flush()` and `confirm()` wait on.
 *
 * @module
 */

import type { AuditEvent } from "./types.ts";

/** A bounded queue of events; O(1) push, shift and drop. */
export class EventBuffer {
  #items: (AuditEvent | undefined)[] = [];
  #head = 0;
  /** Events dropped since the last {@linkcode EventBuffer.takeDropped}. */
  dropped = 0;
  /** The service of the last dropped event (for the drop report). */
  droppedService = "";
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds an event; drops the oldest while more than `capacity - reserved` are held. */
  push(event: AuditEvent, reserved = 0): void {
    this.#items.push(event);
    while (this.length > Math.max(1, this.capacity - reserved)) {
      const old = this.#items[this.#head];
      this.#items[this.#head] = undefined;
      this.#head += 1;
      this.dropped += old?.count ?? 1;
      this.droppedService = old?.service ?? this.droppedService;
    }
    this.#compact();
  }

  /** Puts an event at the front (the drop report goes first). */
  unshift(event: AuditEvent): void {
    if (this.#head > 0) {
      this.#head -= 1;
      this.#items[this.#head] = event;
    } else {
      this.#items.unshift(event);
    }
  }

  /** Removes and returns up to `n` events, oldest first. */
  take(n: number): AuditEvent[] {
    const end = Math.min(this.#items.length, this.#head + n);
    const out = this.#items.slice(this.#head, end) as AuditEvent[];
    for (let i = this.#head; i < end; i++) this.#items[i] = undefined;
    this.#head = end;
    this.#compact();
    return out;
  }

  /** Returns the drop count and resets it. */
  takeDropped(): { count: number; service: string } {
    const r = { count: this.dropped, service: this.droppedService };
    this.dropped = 0;
    return r;
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

/**
 * The event that reports `count` lost events: `reason` is its error code
 * (`buffer_full`: dropped before they were sealed; `refused:<SQLSTATE>`: sealed
 * rows the store can never accept), and `seqRange` (`first-last`, in its
 * `version` field) the positions of this chain the lost rows held, when they
 * were sealed, so `verify` reports the gap as dropped rather than deleted.
 */
export function droppedEvent(
  count: number,
  service: string,
  atMs: number,
  reason = "buffer_full",
  seqRange: string | null = null,
): AuditEvent {
  return {
    accessedAtMs: atMs,
    service: service || "keyward",
    secretName: "",
    action: "dropped",
    outcome: "error",
    source: "backend",
    backend: null,
    version: seqRange,
    latencyMs: 0,
    errorCode: reason,
    count,
  };
}

interface Waiter {
  target: number;
  resolve: () => void;
  /** `confirm()` waiters: rejected as soon as a write fails. */
  reject?: (err: Error) => void;
}

/**
 * Accesses settled so far (written, or dropped and counted), and the callers
 * waiting for a count: `flush()` waits until its accesses are settled,
 * `confirm()` too but is rejected at the first failed write.
 */
export class Settlement {
  #settled = 0;
  #waiters: Waiter[] = [];

  /** Accesses settled so far. */
  get settled(): number {
    return this.#settled;
  }

  /**
   * Resolves once `target` accesses are settled; with `failFast`, rejects at
   * the next {@linkcode Settlement.fail} before that.
   */
  until(target: number, failFast: boolean): Promise<void> {
    if (this.#settled >= target) return Promise.resolve();
    return new Promise((resolve, reject) =>
      this.#waiters.push(failFast ? { target, resolve, reject } : { target, resolve })
    );
  }

  /**
   * A sink's `flush()`: resolves once `target` accesses are settled; `kick`
   * (wake the writer now) runs only when some are still pending.
   */
  flush(target: number, kick: () => void): Promise<void> {
    if (this.#settled >= target) return Promise.resolve();
    kick();
    return this.until(target, false);
  }

  /** A sink's `confirm()`: as {@linkcode Settlement.flush}, rejected at the first failed write. */
  confirm(target: number, kick: () => void): Promise<void> {
    const done = this.until(target, true);
    if (this.#settled < target) kick();
    return done;
  }

  /** `accesses` more are settled: resolves the waiters whose count is reached. */
  add(accesses: number): void {
    this.#settled += accesses;
    if (this.#waiters.length > 0) this.#keep((w) => this.#settled < w.target, (w) => w.resolve());
  }

  /** Resolves every waiter (the sink is closed: nothing more will settle). */
  releaseAll(): void {
    this.#keep(() => false, (w) => w.resolve());
  }

  /** A write failed: rejects the fail-fast waiters with `err`; the others keep waiting. */
  fail(err: Error): void {
    this.#keep((w) => w.reject === undefined, (w) => w.reject!(err));
  }

  #keep(stays: (w: Waiter) => boolean, leave: (w: Waiter) => void): void {
    const still: Waiter[] = [];
    for (const w of this.#waiters) stays(w) ? still.push(w) : leave(w);
    this.#waiters = still;
  }
}
