/**
 * Composes the endpoint: limits, auth, policy, rate limit, metrics and audit
 * around the routes. Starts nothing; see `server/serve.ts`.
 *
 * @module
 */

import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AuditSink } from "../audit/types.ts";
import type {
  ReadOptions,
  SecretManager,
  SecretRead,
  ServeListener,
  Stage,
} from "../core/types.ts";
import { validatePrefix } from "../core/names.ts";
import { SecretAccessError } from "../core/errors.ts";
import { type RequestAudit, RequestAuditor } from "./_audit.ts";
import { errorResponse, fromManagerError } from "./_errors.ts";
import { checkLimits, type LimitOptions, methodNotAllowed, requestHeader } from "./_limits.ts";
import { Metrics, type RouteStats } from "./_metrics.ts";
import { checkName, PathNames } from "./_names.ts";
import {
  agentRoute,
  healthRoute,
  listRoute,
  metricsRoute,
  openapiRoute,
  pingRoute,
  readRoute,
  readyRoute,
  securitySchemes,
} from "./_openapi.ts";
import { RateLimiter } from "./_rate_limit.ts";
import { Authenticator, bearer } from "./_auth.ts";
import { type ReadSource, SourceTrackingReader } from "./_read.ts";
import { AgentAnswers, agentStage, parseAgentId, parseAgentQuery } from "./_agent.ts";
import {
  allowsName,
  allowsStage,
  type TokenEntry,
  type TokenRole,
  type TokenSource,
} from "./tokens.ts";
import { type ConsoleOptions, mountConsole } from "./console/mod.ts";
import type { RotationEvents } from "../cache/rotation_events.ts";
import { EventRelay, registerEventRoutes, type RouteKit } from "./events.ts";
import { type AuditIngest, AuditIngestor, registerAuditRoutes } from "./audit_ingest.ts";

/**
 * Options of `createServerApp`.
 *
 * @example Every option
 * ```ts
 * import { type ServerAppOptions, staticTokens } from "@keyward/secrets/server";
 * import { MemorySecretManager, RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const options: ServerAppOptions = {
 *   manager: new MemorySecretManager(),
 *   tokens: staticTokens([]),
 *   audit: new RecordingAuditSink(),
 *   backendName: "memory",
 *   ratePerSecond: 50,
 *   limits: { maxUrlBytes: 4096, maxHeaderBytes: 16_384, maxBodyBytes: 1024 },
 *   now: Date.now,
 *   probe: async () => {},
 * };
 * if (options.ratePerSecond !== 50) throw new Error();
 * ```
 */
export interface ServerAppOptions {
  /** The manager secrets are read from (put `withCache` in front of remote backends). */
  manager: SecretManager;
  /** The tokens: `tokenFileSource(path)` or `staticTokens([...])`. */
  tokens: TokenSource;
  /**
   * Where the secret requests' events go, under the token's service: one
   * event per request, except reads the cache answered, counted per
   * (service, name, version, minute) and written as one event with the count.
   */
  audit: AuditSink;
  /**
   * The backend's short name, for metrics, audit rows and the agent route's ARN.
   * @default {"keyward"}
   */
  backendName?: string;
  /**
   * Requests per second per token (a token entry's `ratePerSecond` wins).
   * @default {50}
   */
  ratePerSecond?: number;
  /** Request size limits. */
  limits?: LimitOptions;
  /**
   * The clock, in epoch milliseconds.
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * How `/readyz` learns the backend answers: resolves when it does.
   * @default {a `listSecrets` of a name no one uses, with a 2 s timeout}
   */
  probe?: (signal: AbortSignal) => Promise<void>;
  /**
   * The operator console at `/console` (off when omitted): what it shows and
   * the key signing its session cookies. See docs/CONSOLE.md.
   */
  console?: ConsoleOptions;
  /**
   * Rotation events to relay on `GET /v1/events` (and publish from
   * `POST /v1/events`): the endpoint's one subscription, e.g.
   * `PostgresRotationEvents` over its own connection. Absent: those routes answer 404.
   */
  events?: RotationEvents;
  /**
   * How often an idle event stream carries a heartbeat, in milliseconds.
   * @default {15000}
   */
  eventHeartbeatMs?: number;
  /**
   * Where `POST /v1/audit` writes instances' audit events (the endpoint's
   * own Postgres sink: `postgresAuditIngest(sink, sql)`). Absent: 404.
   */
  auditIngest?: AuditIngest;
}

/**
 * The endpoint as a request handler: `fetch` for any runtime's server,
 * `request` for tests (a path or a `Request`, no port).
 *
 * @example Handing the endpoint to Deno.serve (not run here)
 * ```ts ignore
 * import { createServerApp, type EndpointApp } from "@keyward/secrets/server";
 * declare const options: Parameters<typeof createServerApp>[0];
 * const app: EndpointApp = createServerApp(options).app;
 * Deno.serve({ hostname: "127.0.0.1", port: 8787 }, app.fetch);
 * ```
 */
export interface EndpointApp {
  /** Answers one request. */
  fetch(request: Request): Response | Promise<Response>;
  /** Answers a request given as a path (on `http://localhost`) or a `Request`. */
  request(input: string | URL | Request, init?: RequestInit): Response | Promise<Response>;
}

/**
 * What `createServerApp` returns.
 *
 * @example Counting what the cache served
 * ```ts
 * import { createServerApp, staticTokens, type ServerApp } from "@keyward/secrets/server";
 * import { withCache } from "@keyward/secrets";
 * import { MemorySecretManager, RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * let forward: ServerApp["onServe"] = () => {};
 * const manager = withCache(new MemorySecretManager(), { onServe: (e) => forward(e) });
 * const server: ServerApp = createServerApp({
 *   manager,
 *   tokens: staticTokens([]),
 *   audit: new RecordingAuditSink(),
 * });
 * forward = server.onServe;
 * if (server.inFlight() !== 0) throw new Error();
 * ```
 */
export interface ServerApp {
  /** The app: `app.fetch(request)`, `app.request(path)`. */
  app: EndpointApp;
  /** Pass to `withCache(backend, { onServe })` so cache hits and stale serves are counted. */
  onServe: ServeListener;
  /** Requests being answered now. */
  inFlight(): number;
  /** Writes the counted cache hits to the audit sink (done at each minute's end too) and flushes it. */
  flush(): Promise<void>;
  /** Ends the event streams and the events subscription (before the listener's shutdown). */
  close(): Promise<void>;
}

type Vars = { Variables: { errorCode?: string } };

const SECRET_PREFIX = "/v1/secrets/";

/** Builds the app (see `server.ts` for the public documentation). */
export function buildServerApp(options: ServerAppOptions): ServerApp {
  const { manager, tokens, audit: sink } = options;
  const backend = options.backendName ?? "keyward";
  const now = options.now ?? Date.now;
  const limiter = new RateLimiter({ ratePerSecond: options.ratePerSecond ?? 50, now });
  const metrics = new Metrics();
  const auditor = new RequestAuditor(sink, backend, now);
  const reader = new SourceTrackingReader(manager);
  const parsedPaths = new PathNames(SECRET_PREFIX);
  const agent = new AgentAnswers(manager, backend);
  const probe = options.probe ??
    ((signal: AbortSignal) =>
      manager.listSecrets("keyward-readiness-probe/", { signal }).then(() => {}));
  let inFlight = 0;
  /** A read was served (by the backend or the cache) since start-up: /readyz can say the cache is warm. */
  let servedOnce = false;

  const app = new OpenAPIHono<Vars>();
  for (
    const route of [
      readRoute,
      listRoute,
      agentRoute,
      pingRoute,
      healthRoute,
      readyRoute,
      metricsRoute,
      openapiRoute,
    ]
  ) {
    app.openAPIRegistry.registerPath(route);
  }
  for (const [name, scheme] of Object.entries(securitySchemes)) {
    app.openAPIRegistry.registerComponent("securitySchemes", name, scheme);
  }

  type Handler = (c: Context<Vars>) => Response | Promise<Response>;
  /** A secret route's handler: fills in the request's audit record. */
  type AuditedHandler = (c: Context<Vars>, audit: RequestAudit) => Response | Promise<Response>;

  /** Counts, times and audits a finished request. */
  const finish = (
    c: Context<Vars>,
    stats: RouteStats,
    audit: RequestAudit | undefined,
    started: number,
    t0: number,
    res: Response,
  ): Response => {
    inFlight -= 1;
    const ms = performance.now() - t0;
    metrics.request(stats, res.status, ms / 1000);
    if (audit !== undefined) {
      if (res.status >= 400) audit.errorCode ??= c.get("errorCode");
      auditor.record(audit, res.status, started, Math.round(ms));
    }
    return res;
  };
  const ownLimits = new Map<string, { limits: LimitOptions | undefined }>();

  /**
   * Every route goes through this (a wrapper, not a middleware, so a request
   * costs one function call; the route's counters are looked up here, once):
   * limits first, then the handler; afterwards the request is counted, timed
   * and, on a secret route (`action`), audited. A thrown error is a 500
   * without a stack.
   */
  const wrap = (
    label: string,
    handler: AuditedHandler,
    action?: "get" | "list",
  ): Handler => {
    const stats = metrics.route(label);
    // POST routes of server/events.ts and server/audit_ingest.ts bring their own limits;
    // looked up once here, not per request.
    const own = ownLimits.get(label);
    const routeLimits = own?.limits ?? limits;
    const post = own !== undefined;
    // The not-found handler answers a wrong method on a known path itself (405 with its Allow).
    const methods = label === "other" ? "by-caller" : "checked";
    return (c) => {
      inFlight += 1;
      const started = now();
      const t0 = performance.now();
      // Every field from the start: one object shape for every request.
      const audit: RequestAudit | undefined = action === undefined ? undefined : {
        action,
        name: action === "get" ? "[invalid]" : "",
        service: "anonymous",
        source: undefined,
        version: undefined,
        errorCode: undefined,
      };
      const refused = checkLimits(c, routeLimits, post, methods);
      if (refused) return finish(c, stats, audit, started, t0, refused);
      let out: Response | Promise<Response>;
      try {
        out = handler(c, audit!);
      } catch {
        return finish(c, stats, audit, started, t0, internalError(c));
      }
      if (!(out instanceof Promise)) return finish(c, stats, audit, started, t0, out);
      return out.then(
        (res) => finish(c, stats, audit, started, t0, res),
        () => finish(c, stats, audit, started, t0, internalError(c)),
      );
    };
  };
  const internalError = (c: Context) => errorResponse(c, 500, "internal", "internal error");
  const limits = options.limits ?? {};
  const route = (path: string, label: string, handler: Handler) => {
    app.get(path, wrap(label, handler));
  };
  const secretRoute = (path: string, action: "get" | "list", handler: AuditedHandler) => {
    app.get(path, wrap(path === "/v1/secrets/*" ? "/v1/secrets/{name}" : path, handler, action));
  };
  app.onError((_err, c) => errorResponse(c, 500, "internal", "internal error"));
  app.notFound(wrap("other", (c) => {
    // A path the app serves, with another method: 405 naming the methods it takes
    // (POST /v1/audit answered PUT with "Allow: GET" before). Other paths: GET only.
    const allowed = methodsOf(c.req.path);
    const method = c.req.method === "HEAD" ? "GET" : c.req.method;
    if (allowed.length > 0 ? !allowed.includes(method) : method !== "GET") {
      return methodNotAllowed(c, allowed.length > 0 ? allowed : ["GET"]);
    }
    return errorResponse(c, 404, "no_route", "no such route");
  }));
  /** The methods the app's routes answer on `path` (exact paths and `/*` prefixes). */
  const methodsOf = (path: string): string[] => {
    const found = new Set<string>();
    for (const r of app.routes) {
      if (r.method === "ALL") continue;
      const hit = r.path.endsWith("/*") ? path.startsWith(r.path.slice(0, -1)) : r.path === path;
      if (hit) found.add(r.method);
    }
    return [...found].sort();
  };

  const auth = new Authenticator({ tokens, limiter, now });
  const authenticate = (
    c: Context<Vars>,
    token: string | undefined,
    status: 401 | 403,
    role: TokenRole | undefined,
    audit?: RequestAudit,
  ) => auth.check(c, token, status, role, audit);

  const queriesOf = (c: Context): Record<string, string[]> =>
    c.req.url.includes("?") ? c.req.queries() : {};

  const forbidden = (c: Context) =>
    errorResponse(c, 403, "forbidden", "this token does not allow this name or stage");

  const refuseForwarded = (c: Context): Response | undefined =>
    requestHeader(c, "x-forwarded-for") === undefined
      ? undefined
      : errorResponse(c, 400, "forwarded", "requests carrying X-Forwarded-For are refused");

  if (options.console) {
    mountConsole(app as never, {
      options: options.console,
      tokens,
      now,
      signIn: (c, token) => authenticate(c as Context<Vars>, token, 401, "operator"),
      wrap: wrap as never,
    });
  }

  route("/healthz", "/healthz", (c) => {
    return c.json({ status: "ok", versions: {} });
  });

  route("/ping", "/ping", (c) => {
    return c.text("healthy");
  });

  route("/readyz", "/readyz", async (c) => {
    try {
      await tokens.entries();
    } catch {
      return c.json({ status: "not_ready", reason: "the token file cannot be used" }, 503);
    }
    try {
      await probe(AbortSignal.timeout(2_000));
      return c.json({ status: "ready" });
    } catch (err) {
      const { code } = fromManagerError(err);
      if (servedOnce) {
        return c.json({
          status: "ready",
          reason: `the backend does not answer (${code}); reads are served from the cache`,
        });
      }
      return c.json({
        status: "not_ready",
        reason: `the backend does not answer (${code}) and nothing has been cached yet`,
      }, 503);
    }
  });

  route("/openapi.json", "/openapi.json", (c) => {
    return c.json(app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: { title: "keyward secrets endpoint", version: "1" },
    }));
  });

  route("/metrics", "/metrics", async (c) => {
    const entry = await authenticate(c, bearer(c), 401, undefined);
    if (entry instanceof Response) return entry;
    return c.text(metrics.render(entry.roles.includes("metrics")), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    });
  });

  secretRoute("/v1/secrets", "list", async (c, audit) => {
    const fwd = refuseForwarded(c);
    if (fwd) return fwd;
    const entry = await authenticate(c, bearer(c), 401, "read", audit);
    if (entry instanceof Response) return entry;
    const query = queriesOf(c);
    const unknown = Object.keys(query).filter((k) => k !== "prefix");
    if (unknown.length > 0 || (query.prefix?.length ?? 0) > 1) {
      return errorResponse(c, 400, "invalid_parameter", "only ?prefix= is accepted, once");
    }
    const prefix = query.prefix?.[0] ?? "";
    try {
      validatePrefix(prefix);
    } catch {
      audit.name = "[invalid]";
      return errorResponse(c, 400, "invalid_name", "not a valid name prefix");
    }
    audit.name = prefix;
    try {
      const names = await manager.listSecrets(prefix);
      return secretJson(c, { names: names.filter((n) => allowsName(entry, n)) });
    } catch (err) {
      const e = fromManagerError(err);
      if (e.status >= 500) metrics.backendError(e.code);
      audit.errorCode = e.code;
      return errorResponse(c, e.status, e.code, e.message);
    }
  });

  /**
   * `GET /v1/secrets/{name}` once the token is checked. Synchronous when the
   * cache holds the read fresh (no promise on the way), else the read's promise.
   */
  const readByPath = (
    c: Context<Vars>,
    audit: RequestAudit,
    entry: TokenEntry | Response,
  ): Response | Promise<Response> => {
    if (entry instanceof Response) return entry;
    const url = c.req.url;
    const parsed = parsedPaths.parse(url);
    if (!parsed.ok) return errorResponse(c, 400, "invalid_name", parsed.reason);
    const name = parsed.name;
    audit.name = name;
    let stage: string = "current";
    let field: string | undefined;
    if (url.includes("?")) {
      const query = c.req.queries();
      const unknown = Object.keys(query).filter((k) => k !== "stage" && k !== "field");
      if (unknown.length > 0 || Object.values(query).some((v) => v.length > 1)) {
        return errorResponse(c, 400, "invalid_parameter", "only ?stage= and ?field= are accepted");
      }
      stage = query.stage?.[0] ?? "current";
      if (stage !== "current" && stage !== "previous" && stage !== "pending") {
        return errorResponse(c, 400, "invalid_parameter", "stage is current, previous or pending");
      }
      field = query.field?.[0];
      if (field !== undefined && !/^[A-Za-z0-9_.\-]{1,256}$/.test(field)) {
        return errorResponse(c, 400, "invalid_parameter", "not a valid field name");
      }
    }
    // The policy first: the same answer whether the secret exists or not.
    if (!allowsName(entry, name) || !allowsStage(entry, stage as Stage)) return forbidden(c);
    let opts: ReadOptions = CURRENT;
    if (stage !== "current" || field !== undefined) {
      opts = { stage: stage as Stage };
      if (field !== undefined) opts.field = field;
    }
    const answer = (read: SecretRead): Response => {
      noteServed(name, audit.source as ReadSource);
      audit.version = read.version;
      return secretJson(c, {
        name,
        value: read.value,
        version: read.version,
        stage: read.stage ?? stage,
      });
    };
    if (opts === CURRENT) {
      try {
        const fresh = reader.readNow(name, audit);
        if (fresh !== undefined) return answer(fresh);
      } catch (err) {
        return managerError(c, err, audit);
      }
    }
    return reader.read(name, opts, audit).then(answer).catch((err) => managerError(c, err, audit));
  };

  secretRoute("/v1/secrets/*", "get", (c, audit) => {
    const fwd = refuseForwarded(c);
    if (fwd) return fwd;
    // A promise only when the token source answers later (the token file being re-read).
    const checked = authenticate(c, bearer(c), 401, "read", audit);
    return checked instanceof Promise
      ? checked.then((entry) => readByPath(c, audit, entry))
      : readByPath(c, audit, checked);
  });

  secretRoute("/secretsmanager/get", "get", async (c, audit) => {
    const fwd = refuseForwarded(c);
    if (fwd) return fwd;
    const token = c.req.header("x-aws-parameters-secrets-token") ??
      c.req.header("x-vault-token") ?? bearer(c);
    const entry = await authenticate(c, token, 403, "read", audit);
    if (entry instanceof Response) return entry;
    const q = parseAgentQuery(c);
    if ("error" in q) return errorResponse(c, 400, "invalid_parameter", q.error);
    const id = parseAgentId(q.secretId);
    const checked = checkName(id);
    if (!checked.ok) return errorResponse(c, 400, "invalid_name", checked.reason);
    const name = checked.name;
    audit.name = name;
    const stage = q.versionStage === undefined ? "current" : agentStage(q.versionStage);
    if (!allowsName(entry, name)) return forbidden(c);
    if (stage !== undefined && !allowsStage(entry, stage)) return forbidden(c);
    if (stage === undefined) {
      return errorResponse(c, 404, "not_found", "no version holds this staging label");
    }
    const opts: ReadOptions = q.versionId !== undefined ? { version: q.versionId } : { stage };
    if (q.versionId !== undefined && q.versionStage !== undefined) opts.stage = stage;
    if (q.refreshNow) opts.forceFetch = true;
    try {
      const read = await reader.read(name, opts, audit);
      const source = audit.source as ReadSource;
      // A read by version: the version must hold a stage the policy allows.
      const held: Stage | undefined = read.stage;
      if (q.versionId !== undefined && (held === undefined || !allowsStage(entry, held))) {
        return forbidden(c);
      }
      noteServed(name, source);
      audit.version = read.version;
      return secretJson(c, await agent.answer(name, read));
    } catch (err) {
      // The agent answers 403 when the backend itself denies the read.
      if (err instanceof SecretAccessError && err.reason === "denied") {
        metrics.backendError("access:denied");
        audit.errorCode = "backend_denied";
        return errorResponse(c, 403, "backend_denied", "the backend denied this read");
      }
      return managerError(c, err, audit);
    }
  });

  // Rotation events and audit through the endpoint (issue 16): server/events.ts, server/audit_ingest.ts.
  const kit: RouteKit = {
    add: (definition, handler, limits) => {
      const { method, path } = definition;
      const label = method === "post" ? `POST ${path}` : path;
      // The route's own limits (its body size) over the app's (request line, headers).
      if (method === "post") ownLimits.set(label, { limits: { ...options.limits, ...limits } });
      app[method](path, wrap(label, handler));
      app.openAPIRegistry.registerPath(definition);
    },
    authenticate: (c, role) => authenticate(c, bearer(c), 401, role),
  };
  const relay = options.events
    ? new EventRelay(options.events, { heartbeatMs: options.eventHeartbeatMs ?? 15_000 })
    : undefined;
  registerEventRoutes(kit, relay);
  registerAuditRoutes(
    kit,
    options.auditIngest ? new AuditIngestor(options.auditIngest) : undefined,
  );

  function noteServed(name: string, source: "cache" | "stale" | "backend"): void {
    servedOnce = true;
    metrics.served(name, source);
  }

  function managerError(c: Context, err: unknown, audit: RequestAudit): Response {
    const e = fromManagerError(err);
    if (e.status >= 500) metrics.backendError(e.code);
    audit.errorCode = e.code;
    return errorResponse(c, e.status, e.code, e.message);
  }

  return {
    app,
    onServe: reader.onServe,
    inFlight: () => inFlight,
    flush: () => auditor.flush(),
    close: async () => await relay?.close(),
  };
}

/** The options of a plain read (no stage, version or field): one object, never changed. */
const CURRENT: ReadOptions = Object.freeze({ stage: "current" });
const SECRET_HEADERS = { "content-type": "application/json", "cache-control": "no-store" };
const JSON_TYPE = { "content-type": "application/json" };

/**
 * A secret answer: JSON, never cached by anyone on the way (the same two
 * headers on every runtime). On Deno a `Response` built with a lone content
 * type is cheap and `headers.set` adds the second header for less than the
 * constructor charges for two (it then builds a native response for them):
 * about 1 µs less per request under load. Elsewhere (Node's
 * `@hono/node-server` writes a plain header object directly) the object.
 */
const secretResponse: (body: string) => Response =
  typeof (globalThis as { Deno?: unknown }).Deno === "undefined"
    ? (body) => new Response(body, { headers: SECRET_HEADERS })
    : (body) => {
      const res = new Response(body, { headers: JSON_TYPE });
      res.headers.set("cache-control", "no-store");
      return res;
    };

/** A secret answer as JSON. */
function secretJson(_c: Context, body: unknown): Response {
  return secretResponse(JSON.stringify(body));
}
