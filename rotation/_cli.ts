/**
 * What the `rotate` and `rotation` commands share: building the engine from
 * the settings (policy, log, locks, manager, rotators), and printing steps.
 *
 * @module
 */

import { ConfigError, KeywardError } from "../core/errors.ts";
import { rotationRecorderOf } from "../core/rotation_recorder.ts";
import type { SecretManager } from "../core/types.ts";
import type { CliIo } from "../cli/_io.ts";
import { type RotationSettings, rotationSettings } from "./_settings.ts";
import { formatDuration } from "./duration.ts";
import { type HookRunner, RotationEngine, type RotationResult, type StepReport } from "./engine.ts";
import { FileRotationLog } from "./log_file.ts";
import { FileRotationLocks } from "./lock_file.ts";
import { parsePolicy, type RotationPolicy } from "./policy.ts";
import { builtinRotators } from "./rotators/mod.ts";
import type { RotationLocks, RotationLogStore, Rotator, StepName, StepStatus } from "./types.ts";

/** Options shared by the rotation commands. */
export interface SetupOptions {
  /** `--policy`. */
  policy?: string;
  /** `--by`. */
  by?: string;
  /** `--json`. */
  json: boolean;
  /** Receives each step as it ends. */
  onStep?: (r: StepReport) => void;
  /** Stops between steps. */
  stop?: AbortSignal;
}

/** A built engine and what to close. */
export interface Setup {
  /** The engine. */
  engine: RotationEngine;
  /** The policy. */
  policy: RotationPolicy;
  /** Who rotates. */
  rotatedBy: string;
  /** Closes the log and the locks (not the manager: its owner closes it). */
  close(): Promise<void>;
}

/** What is read before any manager is built: the settings, who rotates, the policy. */
export interface Prepared {
  /** The rotation settings. */
  settings: RotationSettings;
  /** Who rotates. */
  rotatedBy: string;
  /** The rotators, by name. */
  rotators: Record<string, Rotator>;
  /** The policy, validated. */
  policy: RotationPolicy;
}

const BY = /^[A-Za-z0-9_.@+-]{1,64}$/;

/** `--by`, else the OS user. */
export function rotatedBy(io: CliIo, by?: string): string {
  if (by !== undefined) {
    if (!BY.test(by)) {
      throw new ConfigError("--by must be 1 to 64 letters, digits or _ . @ + -");
    }
    return by;
  }
  for (const key of ["USER", "LOGNAME", "USERNAME"]) {
    const v = io.env[key];
    if (v && BY.test(v)) return v;
  }
  try {
    const uid = Deno.uid();
    if (uid !== null) return `uid:${uid}`;
  } catch {
    // no permission to read the uid
  }
  return "unknown";
}

/** Reads and validates the policy; a missing default file is an empty policy. */
export async function loadPolicy(
  path: string,
  explicit: boolean,
  rotators: Record<string, Rotator>,
): Promise<RotationPolicy> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound && !explicit) return { rules: [] };
    throw new ConfigError(
      `cannot read the rotation policy ${path}: ${
        err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).name
      }`,
    );
  }
  const validators = Object.fromEntries(
    Object.entries(rotators).map((
      [n, r],
    ) => [n, (o: Record<string, unknown>) => r.validateOptions?.(o) ?? []]),
  );
  return parsePolicy(text, path, validators);
}

const denoHookRunner: HookRunner = async (hook) => {
  const out = await new Deno.Command(hook.command[0], {
    args: hook.command.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
};

/**
 * Reads the settings, `--by` and the policy: every problem found before a
 * manager is built or anything is touched.
 */
export async function prepareRotation(
  io: CliIo,
  opts: Pick<SetupOptions, "policy" | "by">,
): Promise<Prepared> {
  const settings = rotationSettings(io.env);
  const by = rotatedBy(io, opts.by);
  const rotators = builtinRotators(io);
  const policyPath = opts.policy ?? settings.policyPath;
  const policy = await loadPolicy(
    policyPath,
    opts.policy !== undefined || settings.policyExplicit,
    rotators,
  );
  return { settings, rotatedBy: by, rotators, policy };
}

/**
 * Builds the engine over `manager` (the CLI's, built through its deps:
 * the memory backend refused, the audit trail failing closed). Rotation
 * steps reach the audit trail whatever wrappers (cache, namespace,
 * redaction) sit around the audited manager.
 */
export async function setupRotation(
  io: CliIo,
  manager: SecretManager,
  prepared: Prepared,
  opts: SetupOptions,
): Promise<Setup> {
  const { settings, rotators, policy } = prepared;
  const by = prepared.rotatedBy;
  const closers: (() => Promise<void>)[] = [];
  let log: RotationLogStore;
  let locks: RotationLocks;
  try {
    if (settings.log === "postgres") {
      const [{ PostgresRotationLog, AdvisoryRotationLocks }, pgc] = await Promise.all([
        import("./log_pg.ts"),
        import("../pg/connect.ts"),
      ]);
      const sql = settings.logDatabaseSecret !== undefined
        ? await pgc.connectFromSecret(manager, settings.logDatabaseSecret, { max: 3 })
        : pgc.connectUrl(settings.databaseUrl!, "DATABASE_URL", { max: 3 });
      closers.unshift(() => sql.end({ timeout: 5 }));
      log = new PostgresRotationLog(sql);
      locks = new AdvisoryRotationLocks(sql, log);
    } else {
      log = new FileRotationLog(settings.logFile);
      locks = new FileRotationLocks(settings.lockDir);
    }
  } catch (err) {
    for (const c of closers) await c().catch(() => {});
    throw err;
  }
  const crashAfter = settings.crashAfter;
  const recordRotation = rotationRecorderOf(manager);
  const engine = new RotationEngine({
    manager,
    log,
    locks,
    rotators,
    policy,
    rotatedBy: by,
    ...(recordRotation !== undefined ? { audit: { recordRotation } } : {}),
    runHook: denoHookRunner,
    onHookOutput: (service, code, output) => {
      if (opts.json) {
        io.stderr(`${JSON.stringify({ hook: service, exitCode: code, output })}\n`);
      } else {
        io.stderr(`  restart hook ${service} exited ${code}\n`);
        for (const line of output.trimEnd().split("\n").slice(-20)) {
          if (line) io.stderr(`    | ${line}\n`);
        }
      }
    },
    ...(opts.onStep ? { onStep: opts.onStep } : {}),
    ...(opts.stop ? { stop: opts.stop } : {}),
    ...(crashAfter !== undefined
      ? {
        afterStep: (step: StepName, status: StepStatus) => {
          if (status === "succeeded" && step === crashAfter) Deno.kill(Deno.pid, "SIGKILL");
        },
      }
      : {}),
  });
  return {
    engine,
    policy,
    rotatedBy: by,
    async close() {
      await log.close().catch(() => {});
      await locks.close().catch(() => {});
      for (const c of closers) await c().catch(() => {});
    },
  };
}

/** What {@linkcode withRotation} needs of a command's context (`cli/_command.ts`). */
export interface RotationCommandContext {
  /** The CLI's input and output. */
  io: CliIo;
  /** `--json`. */
  json: boolean;
  /** Builds the manager through the CLI's deps, runs `fn`, closes it. */
  withManager<T>(fn: (manager: SecretManager) => Promise<T>): Promise<T>;
}

/**
 * Runs `fn` with an engine: the settings and policy are checked first, then
 * the manager is built through the command's `withManager` (so tests inject
 * one, and the CLI's rules apply), while Ctrl-C stops after the running step.
 */
export async function withRotation<T>(
  ctx: RotationCommandContext,
  opts: { policy?: string | undefined; by?: string | undefined },
  fn: (setup: Setup) => Promise<T>,
): Promise<T> {
  const prepared = await prepareRotation(ctx.io, {
    ...(opts.policy !== undefined ? { policy: opts.policy } : {}),
    ...(opts.by !== undefined ? { by: opts.by } : {}),
  });
  return await withInterrupt((stop) =>
    ctx.withManager(async (manager) => {
      const setup = await setupRotation(ctx.io, manager, prepared, {
        json: ctx.json,
        stop,
        onStep: stepPrinter(ctx.io, ctx.json),
      });
      try {
        return await fn(setup);
      } finally {
        await setup.close();
      }
    })
  );
}

/** Prints one step as it ends: a line, or a JSON object on one line. */
export function stepPrinter(io: CliIo, json: boolean): (r: StepReport) => void {
  let shown = "";
  return (r) => {
    if (!json && r.rotationId !== shown) {
      shown = r.rotationId;
      io.stdout(`rotation ${r.rotationId} of ${r.secretName}\n`);
    }
    if (json) {
      io.stdout(`${JSON.stringify({ type: "step", ...r })}\n`);
      return;
    }
    const extra = [
      r.version ? `version ${r.version}` : "",
      r.dueAt ? `due ${r.dueAt.toISOString()}` : "",
      r.errorCode ? `(${r.errorCode})` : "",
      r.notes ?? "",
    ].filter(Boolean).join("  ");
    io.stdout(
      `  ${r.step.padEnd(19)} ${r.outcome.padEnd(10)} ${
        r.outcome === "scheduled" || r.outcome === "cancelled"
          ? "".padStart(7)
          : formatDuration(r.durationMs).padStart(7)
      }  ${extra}`.trimEnd() + "\n",
    );
  };
}

/** Prints a rotation's summary and returns nothing; the caller picks the exit code. */
export function printSummary(io: CliIo, json: boolean, r: RotationResult): void {
  const resume = `deno task secrets rotation resume ${r.rotationId}`;
  const rollback = `deno task secrets rotation rollback ${r.rotationId}`;
  const err = r.error instanceof KeywardError
    ? { code: r.error.code, message: r.error.message }
    : r.error !== undefined
    ? { code: "unexpected", message: `unexpected ${(r.error as Error)?.name ?? "error"}` }
    : undefined;
  if (json) {
    io.stdout(
      `${
        JSON.stringify({
          type: "summary",
          rotationId: r.rotationId,
          secretName: r.secretName,
          outcome: r.outcome,
          fromVersion: r.fromVersion,
          newVersion: r.newVersion,
          deprecateDueAt: r.deprecateDueAt,
          deleteDueAt: r.deleteDueAt,
          failedServices: r.failedServices,
          error: err,
          ...(r.outcome === "failed" || r.outcome === "interrupted" ? { resume, rollback } : {}),
        })
      }\n`,
    );
    return;
  }
  const total = r.steps.reduce((t, s) => t + s.durationMs, 0);
  switch (r.outcome) {
    case "scheduled":
      io.stdout(
        `rotated ${r.secretName}: version ${r.fromVersion} -> ${r.newVersion} in ${
          formatDuration(total)
        }; ` +
          `previous version deprecated after ${r.deprecateDueAt?.toISOString()}, destroyed after ${r.deleteDueAt?.toISOString()} ` +
          `(run "deno task secrets rotation finish" daily)\n`,
      );
      break;
    case "completed":
      io.stdout(
        `rotated ${r.secretName}: version ${r.fromVersion ?? "?"} -> ${
          r.newVersion ?? "?"
        }; previous version deprecated and destroyed\n`,
      );
      break;
    case "nothing_to_do":
      io.stdout(`rotation ${r.rotationId} of ${r.secretName}: nothing to do\n`);
      break;
    case "rolled_back":
      io.stderr(
        `rolled back: ${
          r.failedServices?.length
            ? `${r.failedServices.join(", ")} never reported version ${r.newVersion}; `
            : ""
        }version ${r.fromVersion} is current again (rotation ${r.rotationId})\n`,
      );
      break;
    case "interrupted":
      io.stderr(
        `interrupted after the running step; to continue: ${resume}\n  or undo: ${rollback}\n`,
      );
      break;
    case "failed":
      io.stderr(
        `error: ${err?.message}\nrotation ${r.rotationId} stopped; fix the cause, then: ${resume}\n  or undo: ${rollback}\n`,
      );
      break;
  }
}

/** Listens for Ctrl-C while `fn` runs: the engine stops after the running step. */
export async function withInterrupt<T>(fn: (stop: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  let listening = false;
  try {
    Deno.addSignalListener("SIGINT", onSignal);
    listening = true;
  } catch {
    // no signals here (Windows without a console, or no permission)
  }
  try {
    return await fn(controller.signal);
  } finally {
    if (listening) Deno.removeSignalListener("SIGINT", onSignal);
  }
}

/** Re-exported so commands need one import. */
export type { Rotator };
