/**
 * Rotation under load, end to end: both example services on the Vault test
 * server (cache and Postgres rotation events on, secrets under `test/`) with
 * the real Postgres and the fake broker; a client sends a steady stream of
 * requests to both (`GET /signals`, `POST /orders` with `DRY_RUN=false`)
 * while `deno task rotate database/app` (postgres-password) and `deno task
 * rotate alpaca/api_key` (alpaca, the new pair on stdin) run, each verified
 * against the services' `/health`. Used by `tests/e2e/rotation_load_test.ts`
 * (which asserts) and `tests/bench/rotation_load.ts` (which reports).
 *
 * Every loop is bounded in count and time; only 127.0.0.1 is reached.
 *
 * @module
 */

import type { TestDatabase } from "../_postgres.ts";
import { startFakeBroker } from "../fakes/alpaca_broker.ts";
import { ROOT, type RunningService, startService, until } from "../examples/_services.ts";
import {
  ACCOUNT,
  adminUrl,
  brokerPair,
  createRoles,
  databaseSettings,
  GATEWAY,
  openVaultBackend,
  randomPassword,
  SIGNAL,
} from "./_e2e.ts";

/** Options of {@linkcode runRotationLoad}. */
export interface RotationLoadOptions {
  /** Requests per second, both services together. @default {100} */
  rate?: number;
  /** Load before the first rotation and after the last, ms. @default {1500} */
  settleMs?: number;
  /** A guard: the whole run never takes longer, ms. @default {90000} */
  maxRunMs?: number;
}

/** One request the client sent. */
export interface Sample {
  service: "signal-service" | "execution-gateway";
  /** performance.now() at send. */
  start: number;
  /** Latency, ms. */
  ms: number;
  /** 2xx. */
  ok: boolean;
  /** Status, or the error's name. */
  status: string;
}

/** The figures of one run, and what the test checks. */
export interface RotationLoadResult {
  samples: Sample[];
  /** The whole run's wall time, ms. */
  runMs: number;
  /** performance.now() when the first rotation started and the last ended. */
  rotationStart: number;
  rotationEnd: number;
  /** Each `deno task rotate` run: exit code and output. */
  rotations: { name: string; code: number; output: string; ms: number }[];
  /** The versions each service reported when the run ended. */
  finalVersions: { signal: unknown; gateway: unknown };
  /** The versions before the rotations. */
  initialVersions: { database: string; alpaca: string };
  /** The login before and after, and the sessions the new login holds at the end. */
  database: { before: string; after: string; sessionsAsNew: number };
  /** The key ids the broker saw on orders, in order (first and last distinct runs). */
  brokerKeyIds: string[];
  newKeyId: string;
  oldKeyId: string;
  brokerRefused: number;
  /** Everything the services and the CLI printed. */
  printed: string;
  /** Secret values that must not appear in `printed`. */
  values: string[];
}

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** Runs `deno task rotate <name>` in the repository (stdin: the new pair, for alpaca), killed after 60 s. */
export async function rotate(
  name: string,
  env: Record<string, string>,
  stdin?: string,
): Promise<{ name: string; code: number; output: string; ms: number }> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "rotate", name],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return {
    name,
    code: out.code,
    output: dec.decode(out.stdout) + dec.decode(out.stderr),
    ms: performance.now() - started,
  };
}

async function versions(service: RunningService): Promise<unknown> {
  const res = await fetch(`${service.url}/health`, { signal: AbortSignal.timeout(5_000) });
  return (await res.json()).versions;
}

/** Runs the scenario once; throws only on set-up failures (the figures say the rest). */
export async function runRotationLoad(
  db: TestDatabase,
  options: RotationLoadOptions = {},
): Promise<RotationLoadResult> {
  const rate = options.rate ?? 100;
  const settleMs = options.settleMs ?? 1_500;
  const maxRunMs = options.maxRunMs ?? 90_000;

  const backend = await openVaultBackend(db);
  const broker = startFakeBroker();
  const oldPair = brokerPair("OLD");
  const newPair = brokerPair("NEW");
  broker.addPair(oldPair.key_id, oldPair.secret_key, ACCOUNT);
  // the new key was created in the broker's dashboard: both pairs of one account are valid
  broker.addPair(newPair.key_id, newPair.secret_key, ACCOUNT);
  const password = randomPassword();
  const roles = await createRoles(db, password);
  const services: RunningService[] = [];
  const cliOutputs: string[] = [];
  try {
    await backend.manager.setSecret("database/app", { username: roles.first, password });
    // the rotator's admin connection comes from the manager, never from the command line
    await backend.manager.setSecret("database/admin", adminUrl(db).toString());
    await backend.manager.setSecret("alpaca/api_key", oldPair);
    const initialVersions = {
      database: (await backend.manager.readSecret("database/app")).version,
      alpaca: (await backend.manager.readSecret("alpaca/api_key")).version,
    };

    const [signal, gateway] = await Promise.all([
      startService(SIGNAL, { ...backend.env, ...databaseSettings(db) }),
      startService(GATEWAY, { ...backend.env, ALPACA_BASE_URL: broker.baseUrl, DRY_RUN: "false" }),
    ]);
    services.push(signal, gateway);

    const policy = `${backend.dir}/keyward.rotation.json`;
    await Deno.writeTextFile(
      policy,
      JSON.stringify({
        rules: [
          {
            prefix: "database/app",
            rotator: "postgres-password",
            options: { adminSecret: "database/admin" },
            verify: [{
              service: "signal-service",
              url: `${signal.url}/health`,
              timeoutSeconds: 30,
            }],
          },
          {
            prefix: "alpaca/",
            rotator: "alpaca",
            options: { baseUrl: broker.baseUrl },
            verify: [
              { service: "execution-gateway", url: `${gateway.url}/health`, timeoutSeconds: 30 },
            ],
          },
        ],
      }),
    );
    const cliEnv: Record<string, string> = {
      ...backend.env,
      NO_COLOR: "1",
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? backend.dir,
      USER: "e2e-rotation",
      KEYWARD_ROTATION_POLICY: policy,
      SECRET_ROTATION_LOG_FILE: `${backend.dir}/rotation.jsonl`,
      SECRET_ROTATION_LOCK_DIR: `${backend.dir}/locks`,
    };
    const denoDir = Deno.env.get("DENO_DIR");
    if (denoDir) cliEnv.DENO_DIR = denoDir;

    // The client: a steady stream, alternating the services, `rate` per second in total.
    const samples: Sample[] = [];
    const inflight = new Set<Promise<void>>();
    const began = performance.now();
    const maxRequests = Math.ceil((rate * maxRunMs) / 1000);
    let sent = 0;
    let stop = false;
    const send = (n: number) => {
      const service = n % 2 === 0 ? signal : gateway;
      const start = performance.now();
      const request = service === signal
        ? fetch(`${signal.url}/signals`, { signal: AbortSignal.timeout(10_000) })
        : fetch(`${gateway.url}/orders`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ symbol: "SPY", qty: 1 + (n % 7), side: n % 4 ? "buy" : "sell" }),
          signal: AbortSignal.timeout(10_000),
        });
      const p: Promise<void> = request.then(async (res) => {
        await res.body?.cancel();
        samples.push({
          service: service === signal ? "signal-service" : "execution-gateway",
          start,
          ms: performance.now() - start,
          ok: res.status >= 200 && res.status < 300,
          status: String(res.status),
        });
      }, (err) => {
        samples.push({
          service: service === signal ? "signal-service" : "execution-gateway",
          start,
          ms: performance.now() - start,
          ok: false,
          status: (err as Error).name,
        });
      }).finally(() => inflight.delete(p));
      inflight.add(p);
    };
    const client = (async () => {
      while (!stop && sent < maxRequests && performance.now() - began < maxRunMs) {
        const due = Math.floor(((performance.now() - began) / 1000) * rate);
        while (sent < due && sent < maxRequests) send(sent++);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await wait(settleMs);
    const rotationStart = performance.now();
    const rotations = [];
    rotations.push(await rotate("database/app", cliEnv));
    rotations.push(
      await rotate("alpaca/api_key", cliEnv, `${newPair.key_id}\n${newPair.secret_key}\n`),
    );
    const rotationEnd = performance.now();
    for (const r of rotations) cliOutputs.push(r.output);
    // load continues a moment on the new credentials, then stops
    await wait(settleMs);
    stop = true;
    await client;
    await until("the last requests to finish", () => Promise.resolve(inflight.size === 0), 15_000);
    const runMs = performance.now() - began;

    const finalVersions = { signal: await versions(signal), gateway: await versions(gateway) };
    const after = JSON.parse(
      (await backend.manager.readSecret("database/app", { forceFetch: true })).value,
    ) as { username: string };
    const [{ n }] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity where usename = ${after.username}`;
    const database = { before: roles.first, after: after.username, sessionsAsNew: n };
    const brokerKeyIds = broker.orders.map((o) => o.keyId);
    return {
      samples,
      runMs,
      rotationStart,
      rotationEnd,
      rotations,
      finalVersions,
      initialVersions,
      database,
      brokerKeyIds,
      newKeyId: newPair.key_id,
      oldKeyId: oldPair.key_id,
      brokerRefused: broker.refusedOrders,
      printed: "",
      values: [password, oldPair.key_id, oldPair.secret_key, newPair.key_id, newPair.secret_key],
    };
  } finally {
    const codes: number[] = [];
    for (const s of services) codes.push(await s.stop());
    const printed = services.map((s) => s.output()).join("\n") + cliOutputs.join("\n");
    lastPrinted = { printed, codes };
    await roles.drop();
    await broker.close();
    await backend.close();
  }
}

/** What the services and the CLI printed in the last run, and the services' exit codes. */
export let lastPrinted: { printed: string; codes: number[] } = { printed: "", codes: [] };

/** The figures: requests sent, failed, and latency, for the whole run and during the rotations. */
export function figures(result: RotationLoadResult): {
  sent: number;
  failed: number;
  ratePerSecond: number;
  duringSent: number;
  duringFailed: number;
  duringP50: number;
  duringP99: number;
  duringMax: number;
  rotationSeconds: number;
  runSeconds: number;
} {
  const during = result.samples.filter((s) =>
    s.start >= result.rotationStart && s.start <= result.rotationEnd
  );
  const ms = during.map((s) => s.ms);
  return {
    sent: result.samples.length,
    failed: result.samples.filter((s) => !s.ok).length,
    ratePerSecond: result.samples.length / (result.runMs / 1000),
    duringSent: during.length,
    duringFailed: during.filter((s) => !s.ok).length,
    duringP50: percentile(ms, 50),
    duringP99: percentile(ms, 99),
    duringMax: ms.length ? Math.max(...ms) : NaN,
    rotationSeconds: (result.rotationEnd - result.rotationStart) / 1000,
    runSeconds: result.runMs / 1000,
  };
}
