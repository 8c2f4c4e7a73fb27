/**
 * An {@linkcode AuditSink} that keeps every event in memory, for tests.
 *
 * @module
 */

import type { AuditEvent, AuditSink } from "../audit/types.ts";

/**
 * Records audit events in memory; `events` lists them in order.
 *
 * @example
 * ```ts
 * import { MemorySecretManager, RecordingAuditSink } from "@keyward/secrets/testing";
 * import { withAudit } from "@keyward/secrets";
 *
 * const sink = new RecordingAuditSink();
 * const audited = withAudit(new MemorySecretManager(), sink, { service: "api" });
 * await audited.getSecret("missing/name").catch(() => {});
 * if (sink.events[0].outcome !== "not_found") throw new Error();
 * ```
 */
export class RecordingAuditSink implements AuditSink {
  /** Every recorded event, oldest first. */
  readonly events: AuditEvent[] = [];
  /** How many times `flush()` was called. */
  flushes = 0;
  /** Whether `close()` was called. */
  closed = false;

  /** Keeps a copy of the event. */
  record(event: AuditEvent): void {
    this.events.push({ ...event });
  }

  /** Counts the call. */
  flush(): Promise<void> {
    this.flushes += 1;
    return Promise.resolve();
  }

  /** Marks the sink closed. */
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Events matching every given field. */
  find(match: Partial<AuditEvent>): AuditEvent[] {
    return this.events.filter((e) =>
      Object.entries(match).every(([k, v]) => e[k as keyof AuditEvent] === v)
    );
  }

  /** Forgets the recorded events. */
  clear(): void {
    this.events.length = 0;
  }
}
