/**
 * One audit event per request on a secret route, under the token's service
 * (`anonymous` when no valid token came). Names only, never a value.
 *
 * @module
 */

import type { AuditAction, AuditOutcome, AuditSink, AuditSource } from "../audit/types.ts";

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

/** Writes the event for a finished request. */
export function recordRequest(
  sink: AuditSink,
  audit: RequestAudit,
  status: number,
  startedAtMs: number,
  latencyMs: number,
  backend: string | null,
): void {
  sink.record({
    accessedAtMs: startedAtMs,
    service: audit.service,
    secretName: audit.name,
    action: audit.action,
    outcome: outcomeOf(status),
    source: audit.source ?? "backend",
    backend,
    version: audit.version ?? null,
    latencyMs,
    errorCode: status < 400 ? null : audit.errorCode ?? `http_${status}`,
    count: 1,
  });
}

function outcomeOf(status: number): AuditOutcome {
  if (status < 400) return "ok";
  if (status === 404) return "not_found";
  if (status === 401 || status === 403 || status === 429) return "denied";
  return "error";
}
