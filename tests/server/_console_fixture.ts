/**
 * A seeded world for the console's tests: a memory store whose every value
 * holds a canary, a policy with verify URLs (one service on `previous`, one
 * not answering), a rotation log with a completed, a failed and a scheduled
 * rotation, and a sealed JSON-lines audit trail with reads, a stale serve
 * and an error.
 */

import { AuditKey } from "../../audit/chain.ts";
import { jsonLinesFileSink } from "../../audit/jsonl_file_sink.ts";
import { jsonLinesTrail, verifyRunOf } from "../../audit/trail.ts";
import type { AuditEvent } from "../../audit/types.ts";
import { FileRotationLog } from "../../rotation/log_file.ts";
import type { RotationPolicy } from "../../rotation/policy.ts";
import type { RotationLogEntry } from "../../rotation/types.ts";
import { type ConsoleData, consoleData } from "../../server/console/data.ts";
import { createServerApp, type ServerApp } from "../../server.ts";
import { MemorySecretManager, RecordingAuditSink } from "../../testing.ts";
import { staticTokens } from "../../server.ts";
import { makeToken } from "./_helpers.ts";

const DAY = 86_400_000;

/** The value hidden in every secret: must never reach a page. */
export const CANARY = `kw-canary-${crypto.randomUUID()}`;

/** The seeded sources, before any app is built. */
export interface ConsoleSeed {
  manager: MemorySecretManager;
  policy: RotationPolicy;
  rotationLog: FileRotationLog;
  logPath: string;
  trailPath: string;
  key: AuditKey;
  keyB64: string;
  dir: string;
  failedRotationId: string;
}

export interface ConsoleWorld {
  server: ServerApp;
  data: ConsoleData;
  operator: string;
  reader: string;
  dir: string;
  trailPath: string;
  failedRotationId: string;
  close(): Promise<void>;
}

function rule(prefix: string, maxAgeDays: number, verify: RotationPolicy["rules"][0]["verify"]) {
  return {
    prefix,
    rotator: "random",
    options: {},
    maxAgeDays,
    graceDays: 7,
    deleteAfterDays: 30,
    verify,
    restart: [],
  };
}

/**
 * Seeds the store, the rotation log (a JSON-lines file), the audit trail and
 * a recorded verify run under a new temporary directory. `signalUrl` answers
 * the previous version of webhooks/signing; `billingUrl` does not answer.
 */
export async function seedConsole(
  urls: { signalUrl: string; billingUrl: string },
): Promise<ConsoleSeed> {
  const now = Date.now();
  let clock = now - 100 * DAY;
  const manager = new MemorySecretManager({ now: () => clock });
  await manager.setSecret("database/orders", `${CANARY}-orders`); // 100 days: overdue (90)
  clock = now - 85 * DAY;
  await manager.setSecret("database/replica", `${CANARY}-replica`); // 5 days left
  clock = now - 40 * DAY;
  await manager.setSecret("webhooks/signing", `${CANARY}-signing-1`);
  clock = now - 2 * DAY;
  await manager.setSecret("webhooks/signing", `${CANARY}-signing-2`); // previous + current
  await manager.setSecret("misc/untracked", { token: `${CANARY}-field` });
  clock = now;
  const signing = await manager.describeSecret("webhooks/signing");
  const prevVersion = signing.versions.find((v) => v.stages.includes("previous"))!.version;
  const curVersion = signing.versions.find((v) => v.stages.includes("current"))!.version;

  const policy: RotationPolicy = {
    rules: [
      rule("database/", 90, [
        { service: "billing", url: urls.billingUrl, timeoutMs: 1000 },
      ]),
      rule("webhooks/", 60, [
        { service: "signal", url: urls.signalUrl, timeoutMs: 1000 },
      ]),
    ],
  };
  const dir = await Deno.makeTempDir({ prefix: "kw-console-" });
  const logPath = `${dir}/rotation.jsonl`;
  const log = new FileRotationLog(logPath);
  const row = (
    id: string,
    secretName: string,
    step: RotationLogEntry["step"],
    status: RotationLogEntry["status"],
    atMs: number,
    extra: Partial<RotationLogEntry> = {},
  ) =>
    log.append({
      rotationId: id,
      secretName,
      step,
      status,
      at: new Date(atMs),
      rotatedBy: "alice",
      rotator: "random",
      ...extra,
    });
  const done = crypto.randomUUID();
  const t0 = now - 2 * DAY;
  await row(done, "webhooks/signing", "create_pending", "started", t0, {
    fromVersion: prevVersion,
  });
  await row(done, "webhooks/signing", "create_pending", "succeeded", t0 + 500, {
    toVersion: curVersion,
    durationMs: 500,
  });
  await row(done, "webhooks/signing", "promote", "succeeded", t0 + 900, {
    toVersion: curVersion,
    durationMs: 40,
  });
  await row(done, "webhooks/signing", "verify", "succeeded", t0 + 3000, { durationMs: 2100 });
  await row(done, "webhooks/signing", "deprecate_previous", "scheduled", t0 + 3100, {
    dueAt: new Date(now + 5 * DAY),
  });
  const failed = crypto.randomUUID();
  const t1 = now - 3_600_000;
  await row(failed, "database/replica", "create_pending", "started", t1, { fromVersion: "1" });
  await row(failed, "database/replica", "create_pending", "failed", t1 + 1200, {
    durationMs: 1200,
    errorCode: "unreachable",
  });

  const trailPath = `${dir}/audit.jsonl`;
  const keyB64 = btoa("console-test-key-".repeat(3));
  const key = AuditKey.fromBase64(keyB64);
  const sink = jsonLinesFileSink(trailPath, { key });
  const ev = (over: Partial<AuditEvent>): AuditEvent => ({
    accessedAtMs: now - 60_000,
    service: "billing",
    secretName: "database/orders",
    action: "get",
    outcome: "ok",
    source: "backend",
    backend: "memory",
    version: "1",
    latencyMs: 3,
    errorCode: null,
    count: 1,
    ...over,
  });
  for (let h = 0; h < 20; h++) sink.record(ev({ accessedAtMs: now - h * 3_600_000 - 1000 }));
  for (let d = 1; d < 25; d += 3) sink.record(ev({ accessedAtMs: now - d * DAY, count: 4 }));
  sink.record(ev({ source: "stale", accessedAtMs: now - 7_200_000 }));
  sink.record(ev({
    service: "signal",
    secretName: "webhooks/signing",
    outcome: "not_found",
    errorCode: "not_found",
  }));
  sink.record(ev({ service: "signal", secretName: "webhooks/signing", source: "cache", count: 9 }));
  await sink.close();
  const trail = jsonLinesTrail(trailPath);
  await trail.recordVerify(verifyRunOf(await trail.verify(key), new Date(now - DAY), "cli"));

  return {
    manager,
    policy,
    rotationLog: log,
    logPath,
    trailPath,
    key,
    keyB64,
    dir,
    failedRotationId: failed,
  };
}

/** Builds the world; `withKey`: the endpoint holds the audit key ("verify now"). */
export async function consoleWorld(
  opts: { withKey?: boolean; operatorPrefixes?: string[] } = {},
): Promise<ConsoleWorld> {
  const seed = await seedConsole({
    signalUrl: "http://signal.test/healthz",
    billingUrl: "http://billing.test/healthz",
  });
  const { manager, policy, trailPath, key, dir } = seed;
  const signing = await manager.describeSecret("webhooks/signing");
  const prevVersion = signing.versions.find((v) => v.stages.includes("previous"))!.version;
  const fakeFetch = (input: string | URL | Request): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input);
    if (url.startsWith("http://signal.test/")) {
      return Promise.resolve(
        Response.json({ status: "ok", versions: { "webhooks/signing": prevVersion } }),
      );
    }
    return Promise.reject(new TypeError("connection refused"));
  };

  const data = consoleData({
    manager,
    policy,
    rotationLog: seed.rotationLog,
    trail: jsonLinesTrail(trailPath),
    ...(opts.withKey ? { auditKey: key } : {}),
    verifyCommand:
      `SECRET_AUDIT=jsonl SECRET_AUDIT_FILE=${trailPath} deno task secrets audit verify`,
    fetch: fakeFetch as typeof fetch,
  });
  const op = await makeToken({
    service: "ops",
    roles: ["operator"],
    prefixes: opts.operatorPrefixes ?? ["*"],
  });
  const rd = await makeToken({ service: "signal", roles: ["read"] });
  const server = createServerApp({
    manager,
    tokens: staticTokens([op.entry, rd.entry]),
    audit: new RecordingAuditSink(),
    backendName: "memory",
    ratePerSecond: 1000,
    console: { data },
  });
  return {
    server,
    data,
    operator: op.token,
    reader: rd.token,
    dir,
    trailPath,
    failedRotationId: seed.failedRotationId,
    close: () => Deno.remove(dir, { recursive: true }),
  };
}
