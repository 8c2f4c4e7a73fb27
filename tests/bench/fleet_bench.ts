/**
 * Fleet scale (issue 16): many instances on one host, one endpoint talking
 * to Postgres for all of them.
 *
 * - promotion: N caches subscribed to one endpoint (`deno task serve` as a
 *   subprocess, KEYWARD_SERVER_EVENTS=postgres) over SSE; one NOTIFY on
 *   `keyward_rotation`; the time until the last instance serves the new
 *   version, and the Postgres connections held meanwhile (by
 *   application_name: the endpoint's only).
 * - the same N instances each on a LISTEN connection of its own, against
 *   a Postgres with max_connections=100: where it fails.
 * - audit: N instances x R reads through `POST /v1/audit` with the endpoint
 *   killed (SIGKILL) and restarted in the middle: every event once.
 * - the endpoint killed and restarted: instances serve from their caches,
 *   resubscribe and refresh.
 *
 *   DATABASE_URL=... deno run --allow-net=127.0.0.1,localhost --allow-env --allow-read \
 *     --allow-write --allow-run --allow-sys tests/bench/fleet_bench.ts [instances]
 *
 * The functions are shared with tests/fleet/fleet_pg_test.ts.
 *
 * @module
 */

import postgres, { type Sql } from "postgres";
import { AuditKey, withAudit, withCache } from "../../mod.ts";
import { EndpointAuditSink, EndpointRotationEvents } from "../../fleet.ts";
import type { CachedSecretManager } from "../../mod.ts";
import { PostgresRotationEvents } from "../../postgres.ts";
import { hashToken } from "../../server.ts";
import { MemorySecretManager } from "../../testing.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** An endpoint subprocess (`server/serve.ts`), restartable on its port. */
export interface SpawnedEndpoint {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** SIGKILL (no flush) or SIGTERM (graceful); resolves once it exited. */
  kill(signal: "SIGKILL" | "SIGTERM"): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
}

/** A token file in a temporary directory: one token with events, audit-write and read. */
export async function tokenFile(
  service: string,
): Promise<{ dir: string; path: string; token: string }> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-fleet-" });
  const token = `kw_fleet-${crypto.randomUUID()}`;
  const entry = {
    id: "tok_f1ee70000001",
    sha256: await hashToken(token),
    service,
    prefixes: ["database/"],
    stages: ["current"],
    roles: ["read", "events", "audit-write"],
    created: "2026-12-07T00:00:00Z",
    ratePerSecond: 1_000_000,
  };
  const path = `${dir}/tokens.json`;
  await Deno.writeTextFile(path, JSON.stringify({ version: 1, tokens: [entry] }), { mode: 0o600 });
  return { dir, path, token };
}

/** Spawns `server/serve.ts` with `env` (on top of PATH and HOME) and waits for "listening on". */
export async function spawnEndpoint(env: Record<string, string>): Promise<SpawnedEndpoint> {
  let port = 0;
  let child: Deno.ChildProcess | undefined;
  const start = async () => {
    for (let attempt = 0;; attempt++) {
      const cmd = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--no-prompt",
          "--allow-read",
          "--allow-write",
          "--allow-env",
          "--allow-net=127.0.0.1",
          "--allow-sys=osRelease",
          `${ROOT}server/serve.ts`,
        ],
        cwd: ROOT,
        clearEnv: true,
        env: {
          PATH: Deno.env.get("PATH") ?? "",
          HOME: Deno.env.get("HOME") ?? "/tmp",
          ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
          SECRET_BACKEND: "memory",
          KEYWARD_SERVER_HOST: "127.0.0.1",
          KEYWARD_SERVER_PORT: String(port),
          ...env,
        },
        stdout: "piped",
        stderr: "piped",
      });
      const proc = cmd.spawn();
      const found = await listeningPort(proc);
      if (found !== undefined) {
        port = found;
        child = proc;
        return;
      }
      const err = await new Response(proc.stderr).text().catch(() => "");
      await proc.status;
      if (attempt >= 20 || !/AddrInUse|address already in use/i.test(err)) {
        throw new Error(`the endpoint did not start: ${err.slice(0, 500)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await start();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    start,
    async kill(signal) {
      const c = child;
      child = undefined;
      if (!c) return;
      try {
        c.kill(signal);
      } catch { /* gone */ }
      await c.status;
      await c.stderr.cancel().catch(() => {});
    },
  };
}

async function listeningPort(proc: Deno.ChildProcess): Promise<number | undefined> {
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return undefined;
    text += value;
    const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text);
    if (m) {
      // Keep draining stdout so the child never blocks on a full pipe.
      (async () => {
        while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
      })();
      return Number(m[1]);
    }
  }
}

/** Connections to the server with this application_name, now. */
export async function connectionsOf(admin: Sql, app: string): Promise<number> {
  const [row] = await admin<{ n: number }[]>`
    SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${app}`;
  return row.n;
}

/** Adds `application_name` to a Postgres URL. */
export function withApp(url: string, app: string): string {
  const u = new URL(url);
  u.searchParams.set("application_name", app);
  return u.toString();
}

const NAME = "database/fleet-secret";

/** N caches in front of one backend, each subscribed to the endpoint at `url`. */
async function fleet(url: string, token: string, n: number, backend: MemorySecretManager) {
  const caches: CachedSecretManager[] = [];
  for (let i = 0; i < n; i++) {
    const events = new EndpointRotationEvents({ url, token, retryMinMs: 50, retryMaxMs: 500 });
    caches.push(withCache(backend, { ttlMs: 3_600_000, rotationEvents: events }));
  }
  await Promise.all(caches.map((c) => c.ready));
  await Promise.all(caches.map((c) => c.getSecret(NAME)));
  return caches;
}

/** Resolves with the ms from `t0` until every cache serves `value` (rejects after `limitMs`). */
async function lastServes(
  caches: CachedSecretManager[],
  value: string,
  t0: number,
  limitMs = 30_000,
): Promise<number> {
  const times = await Promise.all(caches.map(async (c) => {
    while ((await c.getSecret(NAME)) !== value) {
      if (performance.now() - t0 > limitMs) {
        throw new Error("an instance never served the new version");
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    return performance.now() - t0;
  }));
  return Math.max(...times);
}

/** What {@linkcode promotionThroughEndpoint} measured. */
export interface PromotionResult {
  /** Instances subscribed. */
  instances: number;
  /** ms from the NOTIFY until the last instance served the new version. */
  lastServesMs: number;
  /** Postgres connections of the endpoint while every instance was subscribed. */
  endpointConnections: number;
  /** Postgres connections of the instances themselves (none: they hold no connection). */
  instanceConnections: number;
  /** After the endpoint was killed and restarted: ms until the last instance refreshed. */
  refreshAfterRestartMs: number;
  /** Whether every instance served from its cache while the endpoint was down. */
  servedWhileDown: boolean;
}

/**
 * The promotion through one endpoint, then the endpoint killed (SIGKILL)
 * with a change it cannot relay, and restarted: the instances refresh.
 */
export async function promotionThroughEndpoint(pgUrl: string, n: number): Promise<PromotionResult> {
  const app = `kw_fleet_ep_${crypto.randomUUID().slice(0, 8)}`;
  const { dir, path, token } = await tokenFile("fleet-svc");
  const admin = postgres(pgUrl, { max: 1, onnotice: () => {} });
  const endpoint = await spawnEndpoint({
    KEYWARD_TOKENS_FILE: path,
    KEYWARD_SERVER_AUDIT_FILE: `${dir}/audit.jsonl`,
    KEYWARD_SERVER_EVENTS: "postgres",
    DATABASE_URL: withApp(pgUrl, app),
  });
  const backend = new MemorySecretManager({ initial: { [NAME]: "v-0001" } });
  let caches: CachedSecretManager[] = [];
  try {
    caches = await fleet(endpoint.url, token, n, backend);
    const endpointConnections = await connectionsOf(admin, app);
    // A promotion made elsewhere (the rotation engine): the backend changes, one NOTIFY.
    await backend.setSecret(NAME, "v-0002");
    const t0 = performance.now();
    await new PostgresRotationEvents(admin).publish([NAME]);
    const lastServesMs = await lastServes(caches, "v-0002", t0);
    // Killed: the instances keep serving; a change made meanwhile is missed...
    await endpoint.kill("SIGKILL");
    await backend.setSecret(NAME, "v-0003");
    const served = await Promise.all(caches.map((c) => c.getSecret(NAME)));
    const servedWhileDown = served.every((v) => v === "v-0002");
    // ...and caught up by the refresh after the resubscription.
    const t1 = performance.now();
    await endpoint.start();
    const refreshAfterRestartMs = await lastServes(caches, "v-0003", t1);
    return {
      instances: n,
      lastServesMs,
      endpointConnections,
      instanceConnections: 0,
      refreshAfterRestartMs,
      servedWhileDown,
    };
  } finally {
    await Promise.all(caches.map((c) => c.close()));
    await endpoint.kill("SIGTERM");
    await admin.end({ timeout: 1 });
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** What {@linkcode listenPerInstance} found. */
export interface ListenPerInstanceResult {
  /** Instances that got their LISTEN connection. */
  opened: number;
  /** The SQLSTATE of the first refusal (53300: too many clients), if any. */
  failedWith?: string;
  /** Its message. */
  message?: string;
}

/** N instances each opening its own LISTEN connection, until one is refused. */
export async function listenPerInstance(
  pgUrl: string,
  n: number,
): Promise<ListenPerInstanceResult> {
  const clients: Sql[] = [];
  const stops: (() => Promise<void>)[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const sql = postgres(pgUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
      clients.push(sql);
      try {
        stops.push(await new PostgresRotationEvents(sql).subscribe(() => {}));
      } catch (err) {
        const e = err as { code?: string; message?: string };
        return { opened: i, failedWith: e.code ?? "unknown", message: e.message ?? "" };
      }
    }
    return { opened: n };
  } finally {
    await Promise.all(stops.map((s) => s().catch(() => {})));
    await Promise.all(clients.map((c) => c.end({ timeout: 1 }).catch(() => {})));
  }
}

/** What {@linkcode auditThroughEndpoint} measured. */
export interface AuditResult {
  /** Events recorded by the instances (reads). */
  recorded: number;
  /** Rows of the instances in the table. */
  rows: number;
  /** (instance, seq) pairs stored more than once. */
  duplicated: number;
  /** Instances whose seqs are not exactly 1..R. */
  incomplete: number;
  /** Events the instances dropped. */
  dropped: number;
  /** Requests the instances retried (the endpoint was down or killed mid-request). */
  failedPosts: number;
  /** Events the endpoint answered as already taken (a resend after a lost answer). */
  duplicatesSkipped: number;
  /** Audit chains the instances' rows are in (one per endpoint process). */
  chains: number;
  /** ms from the first read to the last event confirmed. */
  totalMs: number;
}

/**
 * N instances x R reads through `POST /v1/audit`, the endpoint killed
 * (SIGKILL: what it held unwritten is lost) and restarted halfway.
 * `pgUrl` must reach a database (schema) with the migrations applied.
 */
export async function auditThroughEndpoint(
  pgUrl: string,
  key: string,
  n: number,
  reads: number,
): Promise<AuditResult> {
  const { dir, path, token } = await tokenFile("fleet-audit");
  const endpoint = await spawnEndpoint({
    KEYWARD_TOKENS_FILE: path,
    KEYWARD_SERVER_AUDIT_FILE: `${dir}/audit.jsonl`,
    KEYWARD_SERVER_AUDIT_INGEST: "postgres",
    KEYWARD_AUDIT_KEY: key,
    DATABASE_URL: pgUrl,
  });
  const backend = new MemorySecretManager({ initial: { [NAME]: "v-0001" } });
  const sinks = Array.from({ length: n }, () =>
    new EndpointAuditSink({
      url: endpoint.url,
      token,
      batchSize: 100,
      flushIntervalMs: 20,
      retryMinMs: 50,
      retryMaxMs: 500,
      closeTimeoutMs: 30_000,
    }));
  const instances = sinks.map((s) => withAudit(backend, s, { service: "ignored" }));
  const admin = postgres(pgUrl, { max: 1, onnotice: () => {} });
  const t0 = performance.now();
  try {
    const half = Math.floor(reads / 2);
    const readAll = (count: number) =>
      Promise.all(instances.map(async (m) => {
        for (let i = 0; i < count; i++) {
          await m.getSecret(NAME);
          if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1));
        }
      }));
    const ids = sinks.map((s) => s.instanceId);
    const written = async () => {
      const [row] = await admin<{ n: number }[]>`
        SELECT count(*)::int AS n FROM secret_access_log WHERE origin_instance = ANY(${ids}::text[])`;
      return row.n;
    };
    await readAll(half);
    // Killed once it wrote some, while batches are in flight: some written but unanswered,
    // some held unwritten (lost with the process).
    for (let i = 0; i < 1000 && (await written()) === 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await endpoint.kill("SIGKILL");
    await readAll(reads - half);
    await endpoint.start();
    await Promise.all(sinks.map((s) => s.flush()));
    const totalMs = performance.now() - t0;
    const [chains] = await admin<{ n: number }[]>`
      SELECT count(DISTINCT chain_id)::int AS n FROM secret_access_log
      WHERE origin_instance = ANY(${ids}::text[])`;
    const [counts] = await admin<{ rows: number; duplicated: number; incomplete: number }[]>`
      WITH mine AS (
        SELECT origin_instance, origin_seq FROM secret_access_log
        WHERE origin_instance = ANY(${ids}::text[])
      ), per AS (
        SELECT origin_instance, count(*) AS c, count(DISTINCT origin_seq) AS d,
          min(origin_seq) AS lo, max(origin_seq) AS hi
        FROM mine GROUP BY origin_instance
      )
      SELECT (SELECT count(*)::int FROM mine) AS rows,
        (SELECT coalesce(sum(c - d), 0)::int FROM per) AS duplicated,
        (SELECT (${n} - count(*) FILTER (WHERE d = ${reads} AND lo = 1 AND hi = ${reads}))::int
          FROM per) AS incomplete`;
    return {
      recorded: n * reads,
      rows: counts.rows,
      duplicated: counts.duplicated,
      incomplete: counts.incomplete,
      dropped: sinks.reduce((a, s) => a + s.stats().dropped, 0),
      failedPosts: sinks.reduce((a, s) => a + s.stats().failedPosts, 0),
      duplicatesSkipped: sinks.reduce((a, s) => a + s.stats().duplicates, 0),
      chains: chains.n,
      totalMs,
    };
  } finally {
    await Promise.all(instances.map((m) => m.close()));
    await endpoint.kill("SIGTERM");
    await admin.end({ timeout: 1 });
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A fresh audit key (base64 of 32 random bytes). */
export function randomAuditKey(): string {
  const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
  AuditKey.fromBase64(key);
  return key;
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 200);
  const { startThrowawayCluster, openTestDatabase } = await import("../_postgres.ts");
  const { applyMigrations } = await import("../../postgres.ts");
  const cluster = await startThrowawayCluster();
  if (!cluster) Deno.exit(1);
  try {
    const p = await promotionThroughEndpoint(cluster.url, n);
    console.log(JSON.stringify({ promotion: p }));
    const l = await listenPerInstance(cluster.url, n);
    console.log(JSON.stringify({ listenPerInstance: l }));
  } finally {
    await cluster.destroy();
  }
  const db = await openTestDatabase("fleet_bench");
  if (db) {
    try {
      await applyMigrations(db.sql);
      const a = await auditThroughEndpoint(db.url, randomAuditKey(), n, 100);
      console.log(JSON.stringify({ audit: a }));
    } finally {
      await db.close();
    }
  }
}
