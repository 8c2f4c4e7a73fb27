/**
 * What the console shows, gathered from the same places the CLI reads: the
 * manager's metadata (never a value), the rotation log folded by the
 * engine's functions, the policy's verify URLs and the services' health
 * answers, and the audit trail (JSON lines or Postgres).
 *
 * @module
 */

import type { SecretManager, Stage } from "../../core/types.ts";
import type { AuditKey } from "../../audit/chain.ts";
import { type AuditTrail, type VerifyRun, verifyRunOf } from "../../audit/trail.ts";
import { type DueReport, RotationEngine, type RotationState } from "../../rotation/engine.ts";
import { type RotationPolicy, ruleFor } from "../../rotation/policy.ts";
import { reportedVersion } from "../../rotation/health.ts";
import type { RotationLocks, RotationLogStore } from "../../rotation/types.ts";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * One secret's row on the Secrets page: metadata only, never a value.
 *
 * @example An overdue secret
 * ```ts
 * import type { SecretView } from "@keyward/secrets/server";
 *
 * const row: SecretView = {
 *   name: "database/orders",
 *   backend: "vault",
 *   versions: [{ version: "3", stages: ["current"], createdAt: "2026-08-01T00:00:00.000Z" }],
 *   currentAgeDays: 100,
 *   rule: { prefix: "database/", rotator: "postgres-password", maxAgeDays: 90, graceDays: 7, deleteAfterDays: 30 },
 *   due: { daysLeft: -10, overdue: true, dueAt: "2026-10-30T00:00:00.000Z" },
 *   lastRotation: null,
 * };
 * if (!row.due?.overdue) throw new Error();
 * ```
 */
export interface SecretView {
  /** The name. */
  name: string;
  /** The backend's short name. */
  backend: string;
  /** Every version with its stages, oldest first. */
  versions: { version: string; stages: Stage[]; createdAt: string }[];
  /** Age of `current`, in days (one decimal); `null` without a current version. */
  currentAgeDays: number | null;
  /** The policy rule covering it, or `null`. */
  rule: {
    prefix: string;
    rotator: string;
    maxAgeDays: number;
    graceDays: number;
    deleteAfterDays: number;
  } | null;
  /** Days until overdue (negative: overdue by), when a rule covers it. */
  due: { daysLeft: number; overdue: boolean; dueAt: string } | null;
  /** The secret's last rotation. */
  lastRotation: { id: string; at: string; by: string; phase: string } | null;
}

/**
 * One rotation on the Rotations page, with the commands to continue or undo a failed one.
 *
 * @example A failed rotation
 * ```ts
 * import type { RotationView } from "@keyward/secrets/server";
 *
 * const id = "0b6c3c1e-4c1a-4a8e-9d53-1c2f9b7e0a11";
 * const r: RotationView = {
 *   id, secretName: "database/replica", rotator: "random", rotatedBy: "alice", phase: "failed",
 *   startedAt: "2026-12-07T01:00:00.000Z", fromVersion: "1", newVersion: null,
 *   deprecateDueAt: null, deleteDueAt: null,
 *   steps: [{ step: "create_pending", status: "failed", at: "2026-12-07T01:00:01.000Z",
 *     durationMs: 1200, errorCode: "unreachable" }],
 *   resume: `deno task secrets rotation resume ${id}`,
 *   rollback: `deno task secrets rotation rollback ${id}`,
 * };
 * if (!r.resume?.endsWith(id)) throw new Error();
 * ```
 */
export interface RotationView {
  /** The id. */
  id: string;
  /** The secret. */
  secretName: string;
  /** The rotator. */
  rotator: string;
  /** Who started it. */
  rotatedBy: string;
  /** `running`, `failed`, `scheduled`, `completed`, `rolled_back`. */
  phase: string;
  /** When it started. */
  startedAt: string;
  /** Versions. */
  fromVersion: string | null;
  /** The version it made current. */
  newVersion: string | null;
  /** When deprecation is due (scheduled). */
  deprecateDueAt: string | null;
  /** When deletion is due (scheduled). */
  deleteDueAt: string | null;
  /** Each step's rows: step, status, time, duration, error code. */
  steps: {
    step: string;
    status: string;
    at: string;
    durationMs: number | null;
    errorCode: string | null;
  }[];
  /** The commands to continue or undo (failed or interrupted rotations). */
  resume: string | null;
  /** See `resume`. */
  rollback: string | null;
}

/**
 * One service's health answer on the Services page.
 *
 * @example A service still on the previous version
 * ```ts
 * import type { ServiceView } from "@keyward/secrets/server";
 *
 * const s: ServiceView = {
 *   service: "signal", url: "http://127.0.0.1:8080/healthz", answering: true, problem: null,
 *   secrets: [{ name: "webhooks/signing", reported: "1", stage: "previous" }],
 * };
 * if (s.secrets[0].stage !== "previous") throw new Error();
 * ```
 */
export interface ServiceView {
  /** The service's name in the policy. */
  service: string;
  /** Its health URL. */
  url: string;
  /** Whether it answered a health answer. */
  answering: boolean;
  /** Why not (a short code), when it did not. */
  problem: string | null;
  /** For each secret under the rule's prefix: the version reported and its stage. */
  secrets: {
    name: string;
    reported: string | null;
    stage: "current" | "previous" | "other" | "none";
  }[];
}

/**
 * One (secret, service) pair on the Reads page, from the audit trail.
 *
 * @example
 * ```ts
 * import type { ReadsView } from "@keyward/secrets/server";
 *
 * const r: ReadsView = {
 *   secretName: "database/orders", service: "billing",
 *   hourly: new Array(24).fill(1), daily: new Array(30).fill(24),
 *   reads24h: 24, reads30d: 720, stale: 0, errors: 0,
 * };
 * if (r.hourly.length !== 24 || r.daily.length !== 30) throw new Error();
 * ```
 */
export interface ReadsView {
  /** The secret. */
  secretName: string;
  /** The service. */
  service: string;
  /** Reads in each of the last 24 hours, oldest first. */
  hourly: number[];
  /** Reads in each of the last 30 days, oldest first. */
  daily: number[];
  /** Reads in the last 24 hours. */
  reads24h: number;
  /** Reads in the last 30 days. */
  reads30d: number;
  /** Stale serves in the last 30 days. */
  stale: number;
  /** Errors (not found, denied, failed) in the last 30 days. */
  errors: number;
}

/**
 * The Audit page: the last recorded verify run and the command for a full one.
 *
 * @example
 * ```ts
 * import type { AuditView } from "@keyward/secrets/server";
 *
 * const a: AuditView = {
 *   where: "jsonl:.keyward/audit.jsonl",
 *   last: { at: "2026-12-07T00:00:00.000Z", ok: true, chains: 2, rows: 120, first: null, by: "cli" },
 *   command: "deno task secrets audit verify --file .keyward/audit.jsonl",
 *   canVerify: false,
 * };
 * if (!a.last?.ok) throw new Error();
 * ```
 */
export interface AuditView {
  /** Where the trail is: `jsonl:<path>` or `postgres`. */
  where: string;
  /** The last recorded verify run. */
  last: VerifyRun | null;
  /** The command that runs a full verify. */
  command: string;
  /** Whether the endpoint holds the audit key ("verify now"). */
  canVerify: boolean;
}

/**
 * Everything the console reads: one reader per page (`verifyNow` only when
 * the endpoint holds the audit key). `deno task serve` builds it from the
 * settings; tests and embedders give their own.
 *
 * @example A console over fixed data
 * ```ts
 * import { type ConsoleData, createServerApp, staticTokens } from "@keyward/secrets/server";
 * import { MemorySecretManager, RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const data: ConsoleData = {
 *   secrets: () => Promise.resolve([]),
 *   rotations: () => Promise.resolve([]),
 *   services: () => Promise.resolve([]),
 *   reads: () => Promise.resolve({ rows: [], available: false }),
 *   audit: () => Promise.resolve({ where: "none", last: null, command: "", canVerify: false }),
 * };
 * const { app } = createServerApp({
 *   manager: new MemorySecretManager(),
 *   tokens: staticTokens([]),
 *   audit: new RecordingAuditSink(),
 *   console: { data },
 * });
 * const res = await app.request("/console");
 * // Not signed in: to the sign-in form.
 * if (res.status !== 303 || res.headers.get("location") !== "/console/signin") throw new Error();
 * ```
 */
export interface ConsoleData {
  /** The Secrets page. */
  secrets(): Promise<SecretView[]>;
  /** The Rotations page. */
  rotations(): Promise<RotationView[]>;
  /** The Services page. */
  services(): Promise<ServiceView[]>;
  /** The Reads page. */
  reads(): Promise<{ rows: ReadsView[]; available: boolean }>;
  /** The Audit page. */
  audit(): Promise<AuditView>;
  /** Runs a verify and records it; only when the endpoint holds the audit key. */
  verifyNow?: () => Promise<VerifyRun>;
}

/** What {@linkcode consoleData} reads from. */
export interface ConsoleSources {
  /** The manager the endpoint serves (only `listSecrets` and `describeSecret` are called). */
  manager: SecretManager;
  /** The rotation policy. */
  policy: RotationPolicy;
  /** The rotation log. */
  rotationLog: RotationLogStore;
  /** The audit trail, when there is one. */
  trail?: AuditTrail;
  /** The audit key: with it, "verify now". */
  auditKey?: AuditKey;
  /** The environment the verify command needs, shown before it (`SECRET_AUDIT=jsonl ...`). */
  verifyCommand?: string;
  /** The clock. */
  now?: () => number;
  /** The HTTP client for health answers. */
  fetch?: typeof fetch;
  /** How long a service may take to answer. @default {2000} */
  healthTimeoutMs?: number;
}

const noLocks: RotationLocks = {
  acquire: () => Promise.reject(new Error("the console takes no rotation lock")),
  close: () => Promise.resolve(),
} as unknown as RotationLocks;

const iso = (d: Date | undefined): string | null => (d ? d.toISOString() : null);

/**
 * The console's data over real sources. Reads only: the engine is built
 * without locks and never runs a step.
 */
export function consoleData(src: ConsoleSources): ConsoleData {
  const now = src.now ?? Date.now;
  const engine = new RotationEngine({
    manager: src.manager,
    log: src.rotationLog,
    locks: noLocks,
    rotators: {},
    policy: src.policy,
    rotatedBy: "console",
    now: () => new Date(now()),
  });
  const http = src.fetch ?? fetch;
  const trail = src.trail;
  const key = src.auditKey;

  const data: ConsoleData = {
    async secrets() {
      const names = await src.manager.listSecrets();
      const due = new Map<string, DueReport>(
        (await engine.due()).map((d) => [d.secretName, d]),
      );
      const states = await engine.rotations();
      const last = new Map<string, RotationState>();
      for (const s of states) last.set(s.secretName, s);
      const out: SecretView[] = [];
      for (const name of names) {
        const meta = await src.manager.describeSecret(name);
        const cur = meta.versions.find((v) => v.stages.includes("current"));
        const rule = ruleFor(src.policy, name);
        const d = due.get(name);
        const r = last.get(name);
        out.push({
          name,
          backend: meta.backend,
          versions: meta.versions.map((v) => ({
            version: v.version,
            stages: [...v.stages],
            createdAt: v.createdAt.toISOString(),
          })),
          currentAgeDays: cur
            ? Math.round(((now() - cur.createdAt.getTime()) / DAY_MS) * 10) / 10
            : null,
          rule: rule
            ? {
              prefix: rule.prefix,
              rotator: rule.rotator,
              maxAgeDays: rule.maxAgeDays,
              graceDays: rule.graceDays,
              deleteAfterDays: rule.deleteAfterDays,
            }
            : null,
          due: d
            ? {
              daysLeft: d.daysLeft,
              overdue: d.overdue,
              dueAt: new Date(d.currentSince.getTime() + d.maxAgeDays * DAY_MS).toISOString(),
            }
            : null,
          lastRotation: r
            ? { id: r.id, at: r.lastAt.toISOString(), by: r.rotatedBy, phase: phaseOf(r) }
            : null,
        });
      }
      return out;
    },

    async rotations() {
      const rows = await src.rotationLog.entries();
      const states = await engine.rotations();
      return states.map((s): RotationView => {
        const phase = phaseOf(s);
        const stuck = phase === "failed" || phase === "running";
        return {
          id: s.id,
          secretName: s.secretName,
          rotator: s.rotator,
          rotatedBy: s.rotatedBy,
          phase,
          startedAt: s.startedAt.toISOString(),
          fromVersion: s.fromVersion ?? null,
          newVersion: s.newVersion ?? s.pendingVersion ?? null,
          deprecateDueAt: s.steps.deprecate_previous === "scheduled" ? iso(s.deprecateDueAt) : null,
          deleteDueAt: s.steps.schedule_deletion === "scheduled" ? iso(s.deleteDueAt) : null,
          steps: rows.filter((e) => e.rotationId === s.id).map((e) => ({
            step: e.step,
            status: e.status,
            at: e.at.toISOString(),
            durationMs: e.durationMs ?? null,
            errorCode: e.errorCode ?? null,
          })),
          resume: stuck ? `deno task secrets rotation resume ${s.id}` : null,
          rollback: stuck ? `deno task secrets rotation rollback ${s.id}` : null,
        };
      }).reverse();
    },

    async services() {
      const names = await src.manager.listSecrets();
      const out: ServiceView[] = [];
      const seen = new Set<string>();
      for (const rule of src.policy.rules) {
        for (const target of rule.verify) {
          const k = `${target.service}\u0000${target.url}`;
          if (seen.has(k)) continue;
          seen.add(k);
          const covered = names.filter((n) => ruleFor(src.policy, n) === rule);
          let body: unknown;
          let problem: string | null = null;
          try {
            const res = await http(target.url, {
              signal: AbortSignal.timeout(src.healthTimeoutMs ?? 2_000),
              redirect: "manual",
            });
            if (!res.ok) {
              problem = `http_${res.status}`;
              await res.body?.cancel();
            } else {
              body = await res.json();
              const b = body as { status?: unknown };
              if (typeof body !== "object" || body === null || b.status !== "ok") {
                problem = "not_a_health_answer";
              }
            }
          } catch (err) {
            problem = (err as Error)?.name === "TimeoutError" ? "timeout" : "unreachable";
          }
          const secrets: ServiceView["secrets"] = [];
          for (const name of covered) {
            const reported = problem === null ? reportedVersion(body, name) ?? null : null;
            let stage: ServiceView["secrets"][number]["stage"] = "none";
            if (reported !== null) {
              const meta = await src.manager.describeSecret(name);
              const v = meta.versions.find((x) => x.version === reported);
              stage = v?.stages.includes("current")
                ? "current"
                : v?.stages.includes("previous")
                ? "previous"
                : "other";
            }
            secrets.push({ name, reported, stage });
          }
          out.push({
            service: target.service,
            url: target.url,
            answering: problem === null,
            problem,
            secrets,
          });
        }
      }
      return out;
    },

    async reads() {
      if (!trail) return { rows: [], available: false };
      const t = now();
      const since = new Date(t - 30 * DAY_MS);
      const rows = await trail.query({ since });
      const by = new Map<string, ReadsView>();
      for (const r of rows) {
        if (r.action !== "get") continue;
        const k = `${r.secretName}\u0000${r.service}`;
        let v = by.get(k);
        if (!v) {
          v = {
            secretName: r.secretName,
            service: r.service,
            hourly: new Array(24).fill(0),
            daily: new Array(30).fill(0),
            reads24h: 0,
            reads30d: 0,
            stale: 0,
            errors: 0,
          };
          by.set(k, v);
        }
        if (r.outcome !== "ok") {
          v.errors += r.count;
          continue;
        }
        if (r.source === "stale") v.stale += r.count;
        const age = t - r.accessedAtMs;
        if (age < 0) continue;
        const day = Math.floor(age / DAY_MS);
        if (day < 30) {
          v.daily[29 - day] += r.count;
          v.reads30d += r.count;
        }
        const hour = Math.floor(age / HOUR_MS);
        if (hour < 24) {
          v.hourly[23 - hour] += r.count;
          v.reads24h += r.count;
        }
      }
      const list = [...by.values()].sort((a, b) =>
        a.secretName === b.secretName
          ? a.service.localeCompare(b.service)
          : a.secretName.localeCompare(b.secretName)
      );
      return { rows: list, available: true };
    },

    async audit() {
      return {
        where: trail?.where ?? "none",
        last: trail ? (await trail.lastVerify()) ?? null : null,
        command: src.verifyCommand ?? "deno task secrets audit verify",
        canVerify: trail !== undefined && key !== undefined,
      };
    },
  };
  if (trail && key) {
    data.verifyNow = async () => {
      const report = await trail.verify(key);
      const run = verifyRunOf(report, new Date(now()), "console");
      await trail.recordVerify(run);
      return run;
    };
  }
  return data;
}

/** The phase as the console names it: a running rotation with a failed step is `failed`. */
function phaseOf(s: RotationState): string {
  if (s.phase === "running" && Object.values(s.steps).includes("failed")) return "failed";
  return s.phase;
}
