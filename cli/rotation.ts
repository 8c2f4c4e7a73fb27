/**
 * `secrets rotation <finish|resume|rollback|status|history|due>`: the
 * rotation's scheduled steps, recovery and reports.
 *
 * @module
 */

import {
  type CommandContext,
  type CommandDef,
  defineCommand,
  type OptionDef,
  stringOption,
  toJson,
  UsageError,
} from "./_command.ts";
import { EXIT } from "./_exit.ts";
import { nameProblem } from "../core/names.ts";
import { printSummary, type Setup, withRotation } from "../rotation/_cli.ts";
import { exitCodeOf, RotationNotFound, type RotationState } from "../rotation/engine.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function stateJson(s: RotationState): Record<string, unknown> {
  return {
    rotationId: s.id,
    secretName: s.secretName,
    rotator: s.rotator,
    rotatedBy: s.rotatedBy,
    phase: s.phase,
    startedAt: s.startedAt,
    lastAt: s.lastAt,
    fromVersion: s.fromVersion,
    pendingVersion: s.pendingVersion,
    newVersion: s.newVersion,
    steps: s.steps,
    deprecateDueAt: s.deprecateDueAt,
    deleteDueAt: s.deleteDueAt,
    oldKeyDeprecatedAt: s.oldKeyDeprecatedAt,
  };
}

function stateLine(s: RotationState): string {
  const versions = `${s.fromVersion ?? "?"} -> ${s.newVersion ?? s.pendingVersion ?? "?"}`;
  const next = s.phase === "scheduled"
    ? s.steps.deprecate_previous === "scheduled"
      ? `, deprecation due ${s.deprecateDueAt?.toISOString()}`
      : `, deletion due ${s.deleteDueAt?.toISOString()}`
    : "";
  return `${s.id}  ${s.secretName}  ${s.rotator}  ${s.phase}  ${versions}  started ${s.startedAt.toISOString()} by ${s.rotatedBy}${next}`;
}

const POLICY: OptionDef = {
  type: "string",
  arg: "FILE",
  help: "the rotation policy\n(default KEYWARD_ROTATION_POLICY or keyward.rotation.json)",
};
const BY: OptionDef = {
  type: "string",
  arg: "WHO",
  help: "recorded as rotated_by (default: the OS user)",
};

type Values = Record<string, unknown>;

/** Runs `fn` with an engine built from `--policy`, `--by` and the CLI's manager. */
function engineRun(
  ctx: CommandContext<Values>,
  fn: (setup: Setup) => Promise<number>,
): Promise<number> {
  return withRotation(ctx, {
    policy: stringOption(ctx.values, "policy"),
    by: stringOption(ctx.values, "by"),
  }, fn);
}

function rotationId(sub: string, arg: string): string {
  if (!UUID.test(arg)) throw new UsageError(`rotation ${sub} takes a rotation id (a UUID)`);
  return arg;
}

function secretName(arg: string): string {
  const problem = nameProblem(arg);
  if (problem !== undefined) throw new UsageError(`invalid secret name: ${problem}`);
  return arg;
}

const finish = defineCommand<Values>({
  name: "finish",
  summary: "run every scheduled step whose time has come (for a daily scheduled job)",
  description: `Runs deprecate_previous and schedule_deletion of every rotation whose
time has come; one rotation that fails does not stop the others.`,
  options: { policy: POLICY, by: BY },
  jsonHelp: "one JSON object per failed rotation's step, then a summary object",
  run: (ctx) =>
    engineRun(ctx, async ({ engine }) => {
      const { io, json } = ctx;
      const results = await engine.finish();
      let code = 0;
      for (const r of results) {
        if (r.outcome === "failed") {
          printSummary(io, json, r);
          code = code || exitCodeOf(r);
        }
      }
      const ran = results.reduce((t, r) => t + r.steps.length, 0);
      if (json) {
        io.stdout(
          `${JSON.stringify({ type: "summary", rotations: results.length, steps: ran })}\n`,
        );
      } else {
        io.stdout(
          results.length === 0
            ? "rotation finish: nothing is due\n"
            : `rotation finish: ${ran} step(s) in ${results.length} rotation(s)\n`,
        );
      }
      return code;
    }),
});

const resume = defineCommand<Values>({
  name: "resume",
  summary: "continue a rotation after its last succeeded step",
  args: "<rotation-id>",
  options: { policy: POLICY, by: BY },
  jsonHelp: "one JSON object per step, then a summary object",
  positionals: { min: 1, max: 1 },
  exits: { 8: "rolled back (verify failed; the previous version is current again)" },
  run(ctx) {
    const id = rotationId("resume", ctx.positionals[0]);
    return engineRun(ctx, async ({ engine }) => {
      const r = await engine.resume(id);
      printSummary(ctx.io, ctx.json, r);
      return exitCodeOf(r);
    });
  },
});

const rollback = defineCommand<Values>({
  name: "rollback",
  summary: "discard the pending version, or make the previous version current again",
  args: "<rotation-id>",
  options: { policy: POLICY, by: BY },
  jsonHelp: "one JSON object per step, then a summary object",
  positionals: { min: 1, max: 1 },
  exits: { 8: "rolled back" },
  run(ctx) {
    const id = rotationId("rollback", ctx.positionals[0]);
    return engineRun(ctx, async ({ engine }) => {
      const r = await engine.rollback(id);
      printSummary(ctx.io, ctx.json, r);
      return r.outcome === "nothing_to_do" ? 0 : exitCodeOf(r);
    });
  },
});

const status = defineCommand<Values>({
  name: "status",
  summary: "one rotation's steps, a secret's last rotation, or every one not completed",
  args: "[<rotation-id> | <name>]",
  options: { policy: POLICY },
  positionals: { min: 0, max: 1 },
  run(ctx) {
    const [arg] = ctx.positionals;
    if (arg !== undefined && !UUID.test(arg)) secretName(arg);
    return engineRun(ctx, async ({ engine }) => {
      const { io, json } = ctx;
      let states: RotationState[];
      if (arg === undefined) {
        states = (await engine.rotations()).filter((s) =>
          s.phase === "running" || s.phase === "scheduled"
        );
      } else if (UUID.test(arg)) {
        const s = await engine.state(arg);
        if (s === undefined) throw new RotationNotFound(arg);
        states = [s];
      } else {
        const all = await engine.rotations(arg);
        if (all.length === 0) throw new RotationNotFound(arg);
        states = [all.at(-1)!];
      }
      if (json) io.stdout(toJson({ rotations: states.map(stateJson) }));
      else if (states.length === 0) io.stdout("no rotation is running or scheduled\n");
      else {
        for (const s of states) {
          io.stdout(`${stateLine(s)}\n`);
          if (arg !== undefined) {
            for (const [step, st] of Object.entries(s.steps)) {
              io.stdout(`  ${step.padEnd(19)} ${st}\n`);
            }
          }
        }
      }
      return 0;
    });
  },
});

const history = defineCommand<Values>({
  name: "history",
  summary: "every rotation of a secret",
  args: "<name>",
  options: { policy: POLICY },
  positionals: { min: 1, max: 1 },
  run(ctx) {
    const name = secretName(ctx.positionals[0]);
    return engineRun(ctx, async ({ engine }) => {
      const { io, json } = ctx;
      const states = await engine.rotations(name);
      if (json) io.stdout(toJson({ secretName: name, rotations: states.map(stateJson) }));
      else if (states.length === 0) io.stdout(`no rotation of ${name} in the log\n`);
      else for (const s of states) io.stdout(`${stateLine(s)}\n`);
      return 0;
    });
  },
});

const due = defineCommand<Values>({
  name: "due",
  summary: "secrets older than the policy's maxAgeDays: days left, or overdue",
  description: `Lists every secret the rotation policy covers with the age of its
current version; for a daily scheduled job (exit 9 when one is overdue).`,
  options: { policy: POLICY },
  exits: { 9: "a secret is overdue" },
  run: (ctx) =>
    engineRun(ctx, async ({ engine }) => {
      const { io, json } = ctx;
      const list = await engine.due();
      const overdue = list.some((d) => d.overdue);
      if (json) io.stdout(toJson({ secrets: list, overdue }));
      else if (list.length === 0) io.stdout("no secret is covered by the rotation policy\n");
      else {
        for (const d of list) {
          io.stdout(
            `${d.secretName}  ${d.rotator}  version ${d.currentVersion}  age ${d.ageDays}d of ${d.maxAgeDays}d  ${
              d.overdue ? `OVERDUE by ${-d.daysLeft}d` : `${d.daysLeft}d left`
            }\n`,
          );
        }
      }
      return overdue ? EXIT.overdue : 0;
    }),
});

/** `rotation <subcommand>`: a group, each subcommand a definition of its own. */
export const rotationCommand: CommandDef = defineCommand({
  name: "rotation",
  summary: "finish, resume, roll back and report rotations (status, history, due)",
  description: `The scheduled steps of rotations started by "rotate", their recovery,
and reports.`,
  subcommands: [status, history, due, finish, resume, rollback],
  exits: { 8: "rolled back (resume, rollback)", 9: "overdue found (due)" },
});
