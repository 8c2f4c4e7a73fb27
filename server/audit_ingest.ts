/**
 * Audit through the endpoint (issue 16): `POST /v1/audit` takes a batch of
 * an instance's audit events (a token with the `audit-write` role) and
 * writes them through the endpoint's own sink and chain, under the token's
 * service (never the body's).
 *
 * A batch is `{"instance": "<id>", "events": [{"seq": 1, ...}, ...]}` with
 * strictly increasing per-instance `seq`. The endpoint remembers the last
 * seq taken per instance (and, after a restart, reads it back from the
 * table: `max(origin_seq)`), so events of a batch resent after a timeout
 * are written once. The answer is 200 only once the sink confirmed the
 * write; 503 otherwise (the instance resends; what the endpoint already
 * holds is not taken twice).
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import type { Sql } from "postgres";
import { originOf } from "../audit/_origin.ts";
import type { AuditEvent, AuditSink } from "../audit/types.ts";
import { AUDIT_ACTIONS } from "../audit/chain.ts";
import { errorResponse } from "./_errors.ts";
import { common, err } from "./_openapi.ts";
import type { RouteKit } from "./events.ts";

/** The most events one batch may carry. */
export const MAX_AUDIT_BATCH = 1000;
/** The largest batch body, in bytes. */
export const MAX_AUDIT_BODY_BYTES = 1_048_576;

/**
 * Where `POST /v1/audit` writes instances' events, and what is already
 * stored per instance (so a batch resent after a lost answer is written once).
 *
 * @example An ingest over a sink of your own (the stored origins kept beside it)
 * ```ts
 * import { type AuditIngest, createServerApp, staticTokens } from "@keyward/secrets/server";
 * import { MemorySecretManager, RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const sink = new RecordingAuditSink();
 * const auditIngest: AuditIngest = { sink, lastStored: () => Promise.resolve(0) };
 * const { app } = createServerApp({
 *   manager: new MemorySecretManager(),
 *   tokens: staticTokens([]),
 *   audit: new RecordingAuditSink(),
 *   auditIngest,
 * });
 * const res = await app.request("/v1/audit", { method: "POST", body: "{}", headers: { "content-length": "2" } });
 * if (res.status !== 401) throw new Error(String(res.status)); // a token with audit-write is needed
 * ```
 */
export interface AuditIngest {
  /** The endpoint's sink (its own chain). */
  sink: AuditSink;
  /** The last seq of `instance` already in the store (0 when none). */
  lastStored(instance: string): Promise<number>;
}

/**
 * An ingest over the endpoint's Postgres sink and a connection to the same
 * table: the last seq stored per instance is `max(origin_seq)`.
 *
 * @example (Not run by `deno test --doc`: it needs Postgres with the migrations applied.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { AuditKey } from "@keyward/secrets";
 * import { PostgresAuditSink } from "@keyward/secrets/postgres";
 * import { postgresAuditIngest } from "@keyward/secrets/server";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!, { max: 2 });
 * const key = AuditKey.fromBase64(Deno.env.get("KEYWARD_AUDIT_KEY")!);
 * const auditIngest = postgresAuditIngest(new PostgresAuditSink({ sql, key }), sql);
 * // createServerApp({ ..., auditIngest })
 * ```
 */
export function postgresAuditIngest(sink: AuditSink, sql: Sql): AuditIngest {
  return {
    sink,
    async lastStored(instance) {
      const [row] = await sql<{ last: string | null }[]>`
        SELECT max(origin_seq)::text AS last FROM secret_access_log
        WHERE origin_instance = ${instance}`;
      return row?.last ? Number(row.last) : 0;
    },
  };
}

/** One forwarded event, as sent. */
type Wire = Omit<AuditEvent, "service"> & { seq: number };

const SOURCE_VALUES = ["backend", "cache", "stale", "fallback"] as const;
const OUTCOME_VALUES = ["ok", "not_found", "denied", "error"] as const;
const SOURCES = new Set<string>(SOURCE_VALUES);
const OUTCOMES = new Set<string>(OUTCOME_VALUES);
const ACTIONS = new Set<string>(AUDIT_ACTIONS);
const INSTANCE = /^[A-Za-z0-9_.:-]{1,128}$/;
/**
 * The latest `accessedAtMs` taken: 9999-12-31T23:59:59.999Z (and nothing
 * before 1970). No access happened outside; and beyond what a `Date` holds
 * no sink can write the time: one such event held the Postgres sink
 * retrying its batch, and every batch after it, for good.
 */
const LATEST_MS = 253_402_300_799_999;

const optText = (v: unknown, max: number) =>
  v === null || (typeof v === "string" && v.length <= max);

/** Checks a batch body; the instance and its events, or a reason. */
export function parseAuditBatch(
  body: unknown,
): { instance: string; events: Wire[] } | { error: string } {
  const b = body as { instance?: unknown; events?: unknown } | null;
  if (typeof b?.instance !== "string" || !INSTANCE.test(b.instance)) {
    return { error: "instance must be 1 to 128 letters, digits, '_', '.', ':', '-'" };
  }
  if (!Array.isArray(b.events) || b.events.length === 0 || b.events.length > MAX_AUDIT_BATCH) {
    return { error: `events must be a list of 1 to ${MAX_AUDIT_BATCH} events` };
  }
  let last = 0;
  for (const e of b.events as Record<string, unknown>[]) {
    const ok = typeof e === "object" && e !== null &&
      Number.isSafeInteger(e.seq) && (e.seq as number) > last &&
      typeof e.accessedAtMs === "number" && e.accessedAtMs >= 0 && e.accessedAtMs <= LATEST_MS &&
      typeof e.secretName === "string" && e.secretName.length <= 1024 &&
      ACTIONS.has(e.action as string) && OUTCOMES.has(e.outcome as string) &&
      SOURCES.has(e.source as string) && optText(e.backend, 64) &&
      optText(e.version, 256) && optText(e.errorCode, 128) &&
      typeof e.latencyMs === "number" && Number.isFinite(e.latencyMs) && e.latencyMs >= 0 &&
      Number.isSafeInteger(e.count) && (e.count as number) > 0;
    if (!ok) return { error: "each event needs increasing seq and the audit event's fields" };
    last = e.seq as number;
  }
  return { instance: b.instance, events: b.events as Wire[] };
}

/** Takes batches: one at a time per instance, each event once. */
export class AuditIngestor {
  readonly #ingest: AuditIngest;
  /** The last seq handed to the sink, per instance. */
  readonly #taken = new Map<string, number>();
  readonly #queues = new Map<string, Promise<unknown>>();

  /** Writes through `ingest`. */
  constructor(ingest: AuditIngest) {
    this.#ingest = ingest;
  }

  /**
   * Hands the events of the batch not taken yet to the sink, under
   * `service`, and resolves once the sink confirmed them written (rejects
   * when it could not: the instance resends).
   */
  take(
    service: string,
    instance: string,
    events: Wire[],
  ): Promise<{ accepted: number; duplicates: number }> {
    const before = this.#queues.get(instance) ?? Promise.resolve();
    const run = before.catch(() => {}).then(() => this.#take(service, instance, events));
    const tail = run.catch(() => {});
    this.#queues.set(instance, tail);
    void tail.then(() => {
      if (this.#queues.get(instance) === tail) this.#queues.delete(instance);
    });
    return run;
  }

  async #take(service: string, instance: string, events: Wire[]) {
    let last = this.#taken.get(instance);
    if (last === undefined) {
      last = await this.#ingest.lastStored(instance);
      if (this.#taken.size >= 100_000) this.#taken.clear();
    }
    const sink = this.#ingest.sink;
    let accepted = 0;
    for (const w of events) {
      if (w.seq <= last) continue;
      const event: AuditEvent = {
        accessedAtMs: w.accessedAtMs,
        service,
        secretName: w.secretName,
        action: w.action,
        outcome: w.outcome,
        source: w.source,
        backend: w.backend,
        version: w.version,
        latencyMs: w.latencyMs,
        errorCode: w.errorCode,
        count: w.count,
      };
      originOf.set(event, { instance, seq: w.seq });
      sink.record(event);
      last = w.seq;
      accepted += 1;
    }
    this.#taken.set(instance, last);
    // Held by the sink now: a resend is not taken again, and answered once written.
    await (sink.confirm ? sink.confirm() : sink.flush());
    return { accepted, duplicates: events.length - accepted };
  }
}

const SAFE = Number.MAX_SAFE_INTEGER;

/** One forwarded event in the document (what `parseAuditBatch` checks). */
const WireEventSchema = z.object({
  seq: z.number().int().min(1).max(SAFE).openapi({
    description: "the instance's sequence number: strictly increasing within the batch and " +
      "across the instance's batches",
  }),
  accessedAtMs: z.number().min(0).max(LATEST_MS).openapi({
    description: "when, in epoch milliseconds (1970 to 9999)",
  }),
  secretName: z.string().max(1024),
  action: z.enum(AUDIT_ACTIONS as readonly [string, ...string[]]),
  outcome: z.enum(OUTCOME_VALUES),
  source: z.enum(SOURCE_VALUES),
  backend: z.string().max(64).nullable(),
  version: z.string().max(256).nullable(),
  errorCode: z.string().max(128).nullable(),
  latencyMs: z.number().min(0),
  count: z.number().int().min(1).max(SAFE).openapi({
    description: "how many reads the event stands for (cache serves counted per minute)",
  }),
}).openapi("ForwardedAuditEvent", {
  description: "An audit event as the instance recorded it, without `service` (a `service` " +
    "field is ignored: the token's service is recorded).",
});

/** `POST /v1/audit`: the definition in `/openapi.json`. */
export const auditIngestRoute = createRoute({
  method: "post",
  path: "/v1/audit",
  operationId: "ingestAuditBatch",
  summary: "Take a batch of an instance's audit events (role audit-write)",
  description: "Writes the events through the endpoint's own audit sink and chain, under the " +
    "token's service (never the body's). Per instance, events at or below the last `seq` " +
    "already taken (after a restart: stored) are skipped as duplicates, so a batch resent after " +
    "a lost answer is written once. Batches of one instance are taken one at a time. 200 only " +
    "once the sink confirmed the write.",
  security: [{ bearer: ["audit-write"] }],
  request: {
    body: {
      required: true,
      description: `JSON, at most ${MAX_AUDIT_BODY_BYTES} bytes, with a Content-Length ` +
        "(413 otherwise). Other fields are ignored.",
      content: {
        "application/json": {
          schema: z.object({
            instance: z.string().regex(INSTANCE).openapi({
              description: "the instance's id (1 to 128 of letters, digits, '_', '.', ':', '-')",
            }),
            events: z.array(WireEventSchema).min(1).max(MAX_AUDIT_BATCH),
          }).openapi("AuditBatch", {
            example: {
              instance: "signal-7f3a:4242",
              events: [{
                seq: 1,
                accessedAtMs: 1_796_601_600_000,
                secretName: "database/password",
                action: "get",
                outcome: "ok",
                source: "cache",
                backend: "vault",
                version: "3",
                errorCode: null,
                latencyMs: 0.4,
                count: 12,
              }],
            },
          }),
        },
      },
    },
  },
  responses: {
    200: {
      description: "written (the new events) or already held (the duplicates)",
      content: {
        "application/json": {
          schema: z.object({
            accepted: z.number().int().min(0).max(MAX_AUDIT_BATCH),
            duplicates: z.number().int().min(0).max(MAX_AUDIT_BATCH),
          }).openapi("AuditBatchTaken"),
        },
      },
    },
    400: err(
      "the body is not JSON, the instance id is not valid, or `events` is not a list of 1 to " +
        `${MAX_AUDIT_BATCH} events with increasing seq and every field above`,
    ),
    401: common[401],
    403: err("the token lacks the audit-write role"),
    404: err(
      "this endpoint ingests no audit (started without KEYWARD_SERVER_AUDIT_INGEST); answered " +
        "before the token is checked",
    ),
    413: err(
      `the body is over ${MAX_AUDIT_BODY_BYTES} bytes, has no Content-Length, or comes with ` +
        "Transfer-Encoding",
    ),
    414: common[414],
    429: common[429],
    431: common[431],
    500: common[500],
    503: err(
      "the audit trail cannot be written now (resend the batch: what was taken is not taken " +
        "twice), or the token file is unusable",
    ),
  },
});

/** `POST /v1/audit` (404 when the endpoint ingests no audit). */
export function registerAuditRoutes(kit: RouteKit, ingestor: AuditIngestor | undefined): void {
  kit.add(auditIngestRoute, async (c) => {
    if (!ingestor) return errorResponse(c, 404, "no_audit", "this endpoint ingests no audit");
    const entry = await kit.authenticate(c, "audit-write");
    if (entry instanceof Response) return entry;
    const parsed = parseAuditBatch(await c.req.json().catch(() => null));
    if ("error" in parsed) return errorResponse(c, 400, "invalid_body", parsed.error);
    try {
      return c.json(await ingestor.take(entry.service, parsed.instance, parsed.events));
    } catch {
      return errorResponse(c, 503, "audit_unavailable", "the audit trail cannot be written now");
    }
  }, { maxBodyBytes: MAX_AUDIT_BODY_BYTES });
}
