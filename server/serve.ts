/**
 * `deno task serve` (and `node --import tsx server/serve.ts` on Node 20):
 * runs the secrets endpoint on `127.0.0.1:8787` unless told otherwise
 * (KEYWARD_SERVER_HOST/PORT; a non-loopback host needs
 * KEYWARD_SERVER_TLS_CERT_FILE and KEYWARD_SERVER_TLS_KEY_FILE). The backend
 * comes from `createSecretManager()` when SECRET_BACKEND is set, else the
 * embedded file store, chosen explicitly; either way it says which. Tokens
 * come from the token file (KEYWARD_TOKENS_FILE); the audit goes to
 * KEYWARD_SERVER_AUDIT_FILE (one line per request, except reads the cache
 * answered: one line per service, name, version and minute, with the count). SIGINT/SIGTERM: stop accepting, finish
 * the requests in flight, flush the audit sink, close the backend.
 *
 * @module
 */

import { mkdir, readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { AuditKey } from "../audit/chain.ts";
import { jsonLinesFileSink } from "../audit/jsonl_file_sink.ts";
import { ConfigError, KeywardError } from "../core/errors.ts";
import { createSecretManager } from "../factory.ts";
import type { SecretManager, ServeListener } from "../core/types.ts";
import type { AuditSink } from "../audit/types.ts";
import { createServerApp, type ServerAppOptions } from "../server.ts";
import type { Sql } from "postgres";
import { parseSettings } from "../settings/parse.ts";
import { postgresAuditIngest } from "./audit_ingest.ts";
import { readServerSettings } from "./_settings.ts";
import { parseTokenFile, tokenFileSource } from "./tokens.ts";

/** A running endpoint. */
export interface RunningServer {
  /** Where it listens, e.g. `http://127.0.0.1:8787`. */
  url: string;
  /** Requests being answered now. */
  inFlight(): number;
  /**
   * The app's serve listener: a manager given in `StartOverrides` forwards
   * its cache's `onServe` here, so cache hits are counted and stale serves
   * are told apart.
   */
  onServe: ServeListener;
  /** Stops accepting, finishes requests in flight, flushes the audit sink, closes the backend. */
  shutdown(): Promise<void>;
}

/** What tests may put in place of the settings' choices. */
export interface StartOverrides {
  /** The manager to serve instead of the one the settings build. */
  manager?: SecretManager;
  /** The audit sink to use instead of the JSON-lines file of the settings. */
  audit?: AuditSink;
  /** How often an idle event stream carries a heartbeat, in milliseconds (default 15 s). */
  eventHeartbeatMs?: number;
}

type Env = Record<string, string | undefined>;
type Say = (line: string) => void;

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** Starts the endpoint from the settings in `env`. */
export async function startServer(
  env: Env,
  say: Say,
  overrides: StartOverrides = {},
): Promise<RunningServer> {
  const settings = readServerSettings(env);
  const chosen = settings.backend;
  // Built first, so a SECRET_BACKEND that is not a backend is refused by the
  // factory (which never repeats it) before anything is printed.
  const manager = overrides.manager ?? await createSecretManager({
    env: chosen ? env : { ...env, SECRET_BACKEND: "file" },
  });
  const backendName = chosen ?? "file";
  say(
    chosen
      ? `backend: ${chosen} (SECRET_BACKEND)`
      : `backend: the embedded file store at ${settings.filePath} (SECRET_BACKEND is not set; ` +
        `set it to serve vault, aws, env or file explicitly)`,
  );
  const auditPath = resolve(settings.auditFile);
  await mkdir(dirname(auditPath), { recursive: true, mode: 0o700 });
  const keyText = settings.auditKey;
  const audit = overrides.audit ??
    jsonLinesFileSink(auditPath, keyText ? { key: AuditKey.fromBase64(keyText) } : {});
  say(
    `audit: one line per request (cache hits counted per minute) to ${auditPath}${
      keyText ? " (chained)" : ""
    }`,
  );
  await describeTokenFile(settings.tokensFile, say);
  const consoleSetup = settings.console
    ? await (await import("./console/setup.ts")).consoleFromSettings(env, manager, auditPath)
    : undefined;
  if (consoleSetup) say("console: /console (tokens with the operator role sign in)");
  const fleet = await fleetWiring(env, manager, say);
  const server = createServerApp({
    manager,
    tokens: tokenFileSource(settings.tokensFile),
    audit,
    backendName,
    ratePerSecond: settings.ratePerSecond,
    ...(consoleSetup ? { console: consoleSetup.options } : {}),
    ...fleet.options,
    ...(overrides.eventHeartbeatMs ? { eventHeartbeatMs: overrides.eventHeartbeatMs } : {}),
  });
  const tls = settings.tls
    ? {
      cert: await readFile(settings.tls.certFile, "utf8"),
      key: await readFile(settings.tls.keyFile, "utf8"),
    }
    : undefined;
  const listener = await listen(server.app.fetch, settings.host, settings.port, tls);
  const scheme = tls ? "https" : "http";
  const host = settings.host.includes(":") && !settings.host.startsWith("[")
    ? `[${settings.host}]`
    : settings.host;
  const url = `${scheme}://${host}:${listener.port}`;
  say(`listening on ${url}`);
  let stopping: Promise<void> | undefined;
  return {
    url,
    inFlight: server.inFlight,
    onServe: server.onServe,
    shutdown() {
      stopping ??= (async () => {
        // Stop accepting first, then end the event streams (the listener waits for them),
        // then write the counted cache hits and flush the audit sink.
        const closing = listener.close();
        await server.close();
        await closing;
        await server.flush();
        await fleet.close();
        await audit.close();
        await consoleSetup?.close();
        await manager.close();
      })();
      return stopping;
    },
  };
}

/**
 * Rotation events relayed on `GET /v1/events` (KEYWARD_SERVER_EVENTS=postgres) and
 * audit taken on `POST /v1/audit` (KEYWARD_SERVER_AUDIT_INGEST=postgres): each on a
 * Postgres connection of the endpoint's own, whatever the number of instances.
 */
async function fleetWiring(env: Env, manager: SecretManager, say: Say): Promise<{
  options: Pick<ServerAppOptions, "events" | "auditIngest">;
  close(): Promise<void>;
}> {
  const s = parseSettings(env);
  const options: Pick<ServerAppOptions, "events" | "auditIngest"> = {};
  const closers: (() => Promise<void>)[] = [];
  const connect = async (secret: string | undefined, what: string): Promise<Sql> => {
    const { connectFromSecret, connectUrl } = await import("../pg/connect.ts");
    if (secret !== undefined) return await connectFromSecret(manager, secret, { max: 2 });
    if (s.DATABASE_URL === undefined) {
      throw new ConfigError(`${what}=postgres needs a database: set DATABASE_URL or the secret`);
    }
    return connectUrl(s.DATABASE_URL, "DATABASE_URL", { max: 2 });
  };
  if (s.KEYWARD_SERVER_EVENTS === "postgres") {
    const sql = await connect(s.SECRET_ROTATION_DATABASE_SECRET, "KEYWARD_SERVER_EVENTS");
    const { PostgresRotationEvents } = await import("../cache/pg_rotation_events.ts");
    options.events = new PostgresRotationEvents(sql);
    closers.push(() => sql.end({ timeout: 5 }));
    say("events: relaying keyward_rotation on GET /v1/events (tokens with the events role)");
  }
  if (s.KEYWARD_SERVER_AUDIT_INGEST === "postgres") {
    if (s.KEYWARD_AUDIT_KEY === undefined) {
      throw new ConfigError("KEYWARD_SERVER_AUDIT_INGEST=postgres needs KEYWARD_AUDIT_KEY");
    }
    const sql = await connect(s.SECRET_AUDIT_DATABASE_SECRET, "KEYWARD_SERVER_AUDIT_INGEST");
    const { PostgresAuditSink } = await import("../audit/pg_sink.ts");
    const sink = new PostgresAuditSink({ sql, key: AuditKey.fromBase64(s.KEYWARD_AUDIT_KEY) });
    options.auditIngest = postgresAuditIngest(sink, sql);
    closers.push(async () => {
      await sink.close();
      await sql.end({ timeout: 5 });
    });
    say("audit ingest: POST /v1/audit into secret_access_log (tokens with the audit-write role)");
  }
  return {
    options,
    async close() {
      for (const c of closers) await c().catch(() => {});
    },
  };
}

async function describeTokenFile(path: string, say: Say): Promise<void> {
  try {
    const file = parseTokenFile(await readFile(path, "utf8"));
    say(`token file: ${path} (${file.tokens.length} tokens)`);
  } catch (err) {
    const why = err instanceof ConfigError ? err.message : "it cannot be read yet";
    say(
      `token file: ${path}: ${why}; every request is refused until it is fixed ` +
        "(deno task secrets token create --service NAME --prefix PREFIX)",
    );
  }
}

/** A listening HTTP server. */
export interface Listener {
  /** The port it listens on. */
  port: number;
  /** Stops accepting and resolves once the requests in flight are answered. */
  close(): Promise<void>;
}

/** Serves `fetch` on `hostname:port` with the runtime's own server (Deno.serve, @hono/node-server). */
export function listen(
  fetch: Fetch,
  hostname: string,
  port: number,
  tls?: { cert: string; key: string },
): Promise<Listener> {
  return isDeno ? listenDeno(fetch, hostname, port, tls) : listenNode(fetch, hostname, port, tls);
}

type Fetch = (request: Request) => Response | Promise<Response>;

async function listenDeno(
  fetch: Fetch,
  hostname: string,
  port: number,
  tls: { cert: string; key: string } | undefined,
): Promise<Listener> {
  const D = (globalThis as unknown as {
    Deno: {
      serve(
        options: Record<string, unknown>,
        handler: Fetch,
      ): { addr: { port: number }; shutdown(): Promise<void>; finished: Promise<void> };
    };
  }).Deno;
  let ready!: () => void;
  const listening = new Promise<void>((r) => (ready = r));
  const server = D.serve({ hostname, port, ...(tls ?? {}), onListen: () => ready() }, fetch);
  await listening;
  return { port: server.addr.port, close: () => server.shutdown() };
}

async function listenNode(
  fetch: Fetch,
  hostname: string,
  port: number,
  tls: { cert: string; key: string } | undefined,
): Promise<Listener> {
  const { serve } = await import("@hono/node-server");
  const https = tls ? await import("node:https") : undefined;
  const server = await new Promise<import("node:net").Server & { closeIdleConnections?(): void }>(
    (ok) => {
      const s = serve(
        {
          fetch,
          hostname,
          port,
          ...(https && tls ? { createServer: https.createServer, serverOptions: tls } : {}),
        },
        () => ok(s as never),
      );
    },
  );
  const addr = server.address();
  return {
    port: typeof addr === "object" && addr !== null ? addr.port : port,
    close: () =>
      new Promise<void>((done) => {
        // Requests in flight finish; idle keep-alive connections are closed.
        server.close(() => done());
        server.closeIdleConnections?.();
      }),
  };
}

async function main(): Promise<void> {
  const env: Env = isDeno
    ? (globalThis as unknown as { Deno: { env: { toObject(): Env } } }).Deno.env.toObject()
    : (globalThis as unknown as { process: { env: Env } }).process.env;
  const say: Say = (line) => console.log(`keyward serve: ${line}`);
  let running: RunningServer;
  try {
    running = await startServer(env, say);
  } catch (err) {
    const message = err instanceof KeywardError ? err.message : "could not start";
    console.error(`keyward serve: ${message}`);
    exit(2);
    return;
  }
  const stop = async () => {
    say("stopping: finishing requests in flight");
    await running.shutdown();
    say("stopped; audit flushed");
    exit(0);
  };
  onSignals(stop);
}

function exit(code: number): void {
  if (isDeno) (globalThis as unknown as { Deno: { exit(c: number): void } }).Deno.exit(code);
  else (globalThis as unknown as { process: { exit(c: number): void } }).process.exit(code);
}

function onSignals(stop: () => Promise<void>): void {
  let once = false;
  const handler = () => {
    if (once) return;
    once = true;
    void stop();
  };
  if (isDeno) {
    const D = (globalThis as unknown as {
      Deno: { addSignalListener(s: string, h: () => void): void };
    }).Deno;
    D.addSignalListener("SIGINT", handler);
    D.addSignalListener("SIGTERM", handler);
  } else {
    const p = (globalThis as unknown as {
      process: { on(s: string, h: () => void): void };
    }).process;
    p.on("SIGINT", handler);
    p.on("SIGTERM", handler);
  }
}

if (
  import.meta.main ||
  (globalThis as { process?: { argv?: string[] } }).process?.argv?.[1]?.endsWith("serve.ts")
) {
  await main();
}
