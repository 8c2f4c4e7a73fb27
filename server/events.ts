/**
 * Rotation events through the endpoint (issue 16): `GET /v1/events` relays,
 * as server-sent events, what the endpoint receives on its one rotation
 * subscription (Postgres LISTEN `keyward_rotation`), names only, filtered by
 * the token's prefixes; `POST /v1/events` publishes names (an instance's
 * write) through that subscription's `publish`. Both need the `events` role.
 *
 * The stream: a `ready` event once subscribed, then one `rotated` event per
 * batch of names (`data: ["db/password"]`, with an increasing `id:`), a
 * `resync` event when the endpoint's own subscription was re-opened (events
 * may have been missed: a client refreshes everything it holds), and a
 * comment line as a heartbeat every `heartbeatMs`.
 *
 * @module
 */

import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { RotationEvents } from "../cache/rotation_events.ts";
import { nameProblem } from "../core/names.ts";
import { keywardLogger } from "../core/log.ts";
import { errorResponse } from "./_errors.ts";
import type { LimitOptions } from "./_limits.ts";
import { common, err, NAME_PATTERN, noStore } from "./_openapi.ts";
import { allowsName, type TokenEntry, type TokenRole } from "./tokens.ts";

/** The most names one `POST /v1/events` may carry. */
export const MAX_PUBLISHED_NAMES = 1000;
/** The largest `POST /v1/events` body, in bytes. */
export const MAX_PUBLISH_BODY_BYTES = 128 * 1024;

/** The headers of the event stream (and of its HEAD answer). */
const STREAM_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store",
  "x-accel-buffering": "no",
};

interface Client {
  entry: TokenEntry;
  send(chunk: string): void;
  close(): void;
}

/**
 * One subscription to the rotation events, fanned out to every connected
 * SSE client. Subscribes lazily (on the first client or publish) and once.
 */
export class EventRelay {
  readonly #source: RotationEvents;
  readonly #heartbeatMs: number;
  readonly #clients = new Set<Client>();
  readonly #log = keywardLogger("server", "events");
  #subscribed: Promise<() => Promise<void>> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #id = 0;
  #closed = false;

  /** Relays `source`; a heartbeat comment goes to every client each `heartbeatMs`. */
  constructor(source: RotationEvents, options: { heartbeatMs?: number } = {}) {
    this.#source = source;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
  }

  /** Clients connected now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Subscribes once; resolves when listening. */
  start(): Promise<void> {
    this.#subscribed ??= this.#source.subscribe(
      (names) => this.#fanOut(names),
      () => this.#resync(),
    ).catch((err) => {
      // Postgres unreachable now: the next client or publish tries again.
      this.#subscribed = undefined;
      throw err;
    });
    this.#timer ??= setInterval(() => this.#broadcast(": heartbeat\n\n"), this.#heartbeatMs);
    // Deno: do not keep the process alive for the heartbeat alone.
    (this.#timer as { unref?: () => void }).unref?.();
    return this.#subscribed.then(() => {});
  }

  /** Publishes `names` through the subscription's channel. */
  async publish(names: string[]): Promise<void> {
    await this.start();
    await this.#source.publish(names);
  }

  /**
   * The SSE response for `entry`; the stream lives until the client goes
   * (the server cancels the body) or `close()`.
   */
  async open(entry: TokenEntry): Promise<Response> {
    await this.start();
    const encoder = new TextEncoder();
    let client: Client | undefined;
    const drop = () => {
      if (client) this.#clients.delete(client);
    };
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        let open = true;
        client = {
          entry,
          send: (chunk) => {
            if (!open) return;
            try {
              controller.enqueue(encoder.encode(chunk));
            } catch {
              open = false;
              drop();
            }
          },
          close: () => {
            if (!open) return;
            open = false;
            drop();
            try {
              controller.close();
            } catch { /* already closed */ }
          },
        };
        this.#clients.add(client);
        client.send(`retry: 1000\nevent: ready\ndata: {}\n\n`);
        if (this.#closed) client.close();
      },
      cancel: () => drop(),
    });
    return new Response(body, { headers: STREAM_HEADERS });
  }

  /** Ends every stream (clients reconnect elsewhere or later) and the subscription. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    for (const c of [...this.#clients]) c.close();
    const stop = await this.#subscribed?.catch(() => undefined);
    await stop?.();
  }

  #fanOut(names: string[]): void {
    this.#id += 1;
    for (const c of this.#clients) {
      const allowed = names.filter((n) => allowsName(c.entry, n));
      if (allowed.length > 0) {
        c.send(`id: ${this.#id}\nevent: rotated\ndata: ${JSON.stringify(allowed)}\n\n`);
      }
    }
  }

  #resync(): void {
    this.#log.info("Rotation events re-opened; telling {count} clients to refresh", {
      count: this.#clients.size,
    });
    this.#broadcast("event: resync\ndata: {}\n\n");
  }

  #broadcast(chunk: string): void {
    for (const c of this.#clients) c.send(chunk);
  }
}

/** Checks the body of `POST /v1/events`: `{"names": [...]}`; the names or a reason. */
export function parsePublish(body: unknown): { names: string[] } | { error: string } {
  const names = (body as { names?: unknown } | null)?.names;
  if (!Array.isArray(names) || names.length === 0 || names.length > MAX_PUBLISHED_NAMES) {
    return { error: `names must be a list of 1 to ${MAX_PUBLISHED_NAMES} secret names` };
  }
  for (const n of names) {
    if (typeof n !== "string" || nameProblem(n) !== undefined) {
      return { error: "names must be valid secret names" };
    }
  }
  return { names: names as string[] };
}

/**
 * What a route module gets from the app: the wrapper every route goes
 * through, and auth. A route comes with its OpenAPI definition (its method
 * and path, without parameters, are the definition's), so none is served
 * without one.
 */
export interface RouteKit {
  /** Registers a handler (limits, metrics, audit around it) and its definition in `/openapi.json`. */
  add(
    definition: RouteConfig & { method: "get" | "post" },
    handler: (c: Context) => Response | Promise<Response>,
    limits?: LimitOptions,
  ): void;
  /** The token's entry for `role`, or the refusal. */
  authenticate(
    c: Context,
    role: TokenRole,
  ): TokenEntry | Response | Promise<TokenEntry | Response>;
}

const notConfigured = err(
  "this endpoint relays no rotation events (started without KEYWARD_SERVER_EVENTS); " +
    "answered before the token is checked",
);

/** `GET /v1/events`: the definition in `/openapi.json`. */
export const eventStreamRoute = createRoute({
  method: "get",
  path: "/v1/events",
  operationId: "streamRotationEvents",
  summary: "Rotation events as server-sent events (role events)",
  description: "Relays what the endpoint receives on its one rotation subscription (Postgres " +
    "LISTEN `keyward_rotation`): secret names only, never a value, filtered by the token's " +
    "prefixes. The stream does not end while the endpoint runs: `retry: 1000` and a `ready` " +
    "event once subscribed; then a `rotated` event per batch of names (`data:` a JSON list of " +
    "names, with an increasing `id:`); a `resync` event (`data: {}`) when the endpoint's own " +
    "subscription was re-opened, so events may have been missed and a client refreshes " +
    "everything it holds; a comment line (`: heartbeat`) every 15 s by default. HEAD answers " +
    "the same status and headers without opening a stream.",
  security: [{ bearer: ["events"] }],
  responses: {
    200: {
      description: "an endless `text/event-stream` (the events above, UTF-8)",
      headers: {
        ...noStore,
        "X-Accel-Buffering": { schema: { type: "string" as const, enum: ["no"] } },
      },
      content: {
        "text/event-stream": {
          schema: z.string().openapi({
            example: "retry: 1000\nevent: ready\ndata: {}\n\n: heartbeat\n\n" +
              'id: 1\nevent: rotated\ndata: ["database/password"]\n\n' +
              "event: resync\ndata: {}\n\n",
          }),
        },
      },
    },
    401: common[401],
    403: err("the token lacks the events role"),
    404: notConfigured,
    413: err("a request body over the limit (1024 bytes by default) or Transfer-Encoding"),
    414: common[414],
    429: common[429],
    431: common[431],
    500: common[500],
    503: err(
      "the endpoint's rotation subscription cannot be opened now (try again), or the token " +
        "file is unusable",
    ),
  },
});

/** `POST /v1/events`: the definition in `/openapi.json`. */
export const eventPublishRoute = createRoute({
  method: "post",
  path: "/v1/events",
  operationId: "publishRotationEvent",
  summary: "Publish rotated secret names (role events)",
  description: "Sends the names through the endpoint's rotation subscription (Postgres " +
    "`NOTIFY keyward_rotation`), so every subscriber, on this host or any other, refreshes them. " +
    "Every name must be within the token's prefixes.",
  security: [{ bearer: ["events"] }],
  request: {
    body: {
      required: true,
      description: `JSON, at most ${MAX_PUBLISH_BODY_BYTES} bytes, with a Content-Length ` +
        "(413 otherwise). Other fields are ignored.",
      content: {
        "application/json": {
          schema: z.object({
            names: z.array(
              z.string().min(1).max(512).regex(new RegExp(NAME_PATTERN)).openapi({
                description: "a secret name (the pattern is a little stricter than the naming " +
                  "rule: no segment starting with '.')",
              }),
            ).min(1).max(MAX_PUBLISHED_NAMES),
          }).openapi("RotationPublish", { example: { names: ["database/password"] } }),
        },
      },
    },
  },
  responses: {
    200: {
      description: "sent: every subscriber hears of the names",
      content: {
        "application/json": {
          schema: z.object({
            published: z.number().int().min(1).max(MAX_PUBLISHED_NAMES).openapi({
              description: "how many names were sent",
            }),
          }).openapi("RotationPublished"),
        },
      },
    },
    400: err(
      `the body is not JSON, or \`names\` is not a list of 1 to ${MAX_PUBLISHED_NAMES} ` +
        "valid secret names",
    ),
    401: common[401],
    403: err("the token lacks the events role, or a name is outside its prefixes"),
    404: notConfigured,
    413: err(
      `the body is over ${MAX_PUBLISH_BODY_BYTES} bytes, has no Content-Length, or comes with ` +
        "Transfer-Encoding",
    ),
    414: common[414],
    429: common[429],
    431: common[431],
    500: common[500],
    503: err(
      "the names cannot be sent now (the subscription is down; nothing was sent, send again), " +
        "or the token file is unusable",
    ),
  },
});

/** `GET /v1/events` and `POST /v1/events` (absent when the endpoint relays no events). */
export function registerEventRoutes(kit: RouteKit, relay: EventRelay | undefined): void {
  kit.add(eventStreamRoute, async (c) => {
    if (!relay) {
      return errorResponse(c, 404, "no_events", "this endpoint relays no rotation events");
    }
    const entry = await kit.authenticate(c, "events");
    if (entry instanceof Response) return entry;
    try {
      // Hono answers HEAD through the GET handler and drops the body unread: a stream
      // opened for it would never be cancelled, and its client would stay in the relay.
      if (c.req.method === "HEAD") {
        await relay.start();
        return new Response(null, { headers: STREAM_HEADERS });
      }
      return await relay.open(entry);
    } catch {
      return errorResponse(c, 503, "events_unavailable", "the rotation events cannot be read now");
    }
  });
  kit.add(eventPublishRoute, async (c) => {
    if (!relay) {
      return errorResponse(c, 404, "no_events", "this endpoint relays no rotation events");
    }
    const entry = await kit.authenticate(c, "events");
    if (entry instanceof Response) return entry;
    const parsed = parsePublish(await c.req.json().catch(() => null));
    if ("error" in parsed) return errorResponse(c, 400, "invalid_body", parsed.error);
    if (!parsed.names.every((n) => allowsName(entry, n))) {
      return errorResponse(c, 403, "forbidden", "this token does not allow these names");
    }
    try {
      await relay.publish(parsed.names);
    } catch {
      return errorResponse(c, 503, "events_unavailable", "the rotation events cannot be sent now");
    }
    return c.json({ published: parsed.names.length });
  }, { maxBodyBytes: MAX_PUBLISH_BODY_BYTES });
}
