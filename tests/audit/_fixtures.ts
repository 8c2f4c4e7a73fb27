/** Shared helpers of the audit tests. */

import { AuditKey } from "../../audit/chain.ts";
import type { AuditEvent } from "../../audit/types.ts";

/** A fixed audit key for tests. */
export const TEST_KEY_B64: string = btoa("test-audit-key-0123456789abcdefghij");

/** The audit key for tests. */
export function testKey(): AuditKey {
  return AuditKey.fromBase64(TEST_KEY_B64);
}

/** An event with defaults. */
export function event(over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    accessedAtMs: Date.UTC(2026, 10, 29, 12, 0, 0),
    service: "billing",
    secretName: "db/password",
    action: "get",
    outcome: "ok",
    source: "backend",
    backend: "memory",
    version: null,
    latencyMs: 1.5,
    errorCode: null,
    count: 1,
    ...over,
  };
}
