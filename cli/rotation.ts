/**
 * `secrets rotation <finish|resume|rollback|status|history|due>`: the
 * rotation's scheduled steps, recovery and reports.
 *
 * @module
 */

import { type CommandEntry, defineCommand, stringOption, toJson, UsageError } from "./_command.ts";
import { nameProblem } from "../core/names.ts";
import { printSummary, setupRotation, stepPrinter, withInterrupt } from "../rotation/_cli.ts";

import { exitCodeOf, RotationNotFound, type RotationState } from "../rotation/engine.ts";

/** The exit code of `rotation due` when a secret is overdue. */
export const OVERDUE_EXIT = 9;

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

/** `rotation <subcommand>`. */
export const rotationCommand: CommandEntry = defineCommand<Record<string, unknown>>({
  name: "rotation",
  summary: "finish, resume, roll back and report rotations (status, history, due)",
  usage: `usage: secrets rotation <subcommand> [args] [--policy FILE] [--by WHO] [--json]

  finish             run every scheduled step whose time has come (deprecate_previous,
                     schedule_deletion); for a daily scheduled job
  resume <id>        continue a rotation after its last succeeded step
  rollback <id>      discard the pending version, or after promotion make the
                     previous version current again (exit 8)
  status [<id>|<name>]  one rotation's steps, a secret's last rotation, or every
                     rotation not yet completed
  history <name>     every rotation of a secret
  due                secrets whose current version is older than the policy's
                     maxAgeDays: days left, or overdue (exit 9 when any is overdue)

  --policy FILE      the rotation policy (default KEYWARD_ROTATION_POLICY or keyward.rotation.json)
  --by WHO           recorded as rotated_by (default: the OS user)
  --json             print JSON (finish, resume, rollback: one object per step)
  -h, --help         show this help`,
  options: {
    policy: { type: "string" },
    by: { type: "string" },
  },
  positionals: { min: 1, max: 2 },
  async run({ values, positionals, json, io }) {
    const [sub, arg] = positionals;
    const takes: Record<string, [number, number]> = {
      finish: [0, 0],
      resume: [1, 1],
      rollback: [1, 1],
      status: [0, 1],
      history: [1, 1],
      due: [0, 0],
    };
    if (!Object.hasOwn(takes, sub)) {
      throw new UsageError(
        "unknown rotation subcommand; choose one of: " + Object.keys(takes).join(", "),
      );
    }
    const n = arg === undefined ? 0 : 1;
    if (n < takes[sub][0]) throw new UsageError(`rotation ${sub}: missing argument`);
    if (n > takes[sub][1]) throw new UsageError(`rotation ${sub}: too many arguments`);
    if ((sub === "resume" || sub === "rollback") && !UUID.test(arg!)) {
      throw new UsageError(`rotation ${sub} takes a rotation id (a UUID)`);
    }
    if (sub === "history" || (sub === "status" && arg !== undefined && !UUID.test(arg))) {
      const problem = nameProblem(arg);
      if (problem !== undefined) throw new UsageError(`invalid secret name: ${problem}`);
    }
    return await withInterrupt(async (stop) => {
      const policy = stringOption(values, "policy");
      const by = stringOption(values, "by");
      const setup = await setupRotation(io, {
        json,
        stop,
        onStep: stepPrinter(io, json),
        ...(policy !== undefined ? { policy } : {}),
        ...(by !== undefined ? { by } : {}),
      });
      const { engine } = setup;
      try {
        switch (sub) {
          case "resume": {
            const r = await engine.resume(arg!);
            printSummary(io, json, r);
            return exitCodeOf(r);
          }
          case "rollback": {
            const r = await engine.rollback(arg!);
            printSummary(io, json, r);
            return r.outcome === "nothing_to_do" ? 0 : exitCodeOf(r);
          }
          case "finish": {
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
          }
          case "status": {
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
              if (all.length === 0) {
                throw new RotationNotFound(arg);
              }
              states = [all.at(-1)!];
            }
            if (json) io.stdout(toJson({ rotations: states.map(stateJson) }));
            else if (states.length === 0) io.stdout("no rotation is running or scheduled\n");
            else {
              for (const s of states) {
                io.stdout(`${stateLine(s)}\n`);
                if (arg !== undefined) {
                  for (const [step, status] of Object.entries(s.steps)) {
                    io.stdout(`  ${step.padEnd(19)} ${status}\n`);
                  }
                }
              }
            }
            return 0;
          }
          case "history": {
            const states = await engine.rotations(arg);
            if (json) io.stdout(toJson({ secretName: arg, rotations: states.map(stateJson) }));
            else if (states.length === 0) io.stdout(`no rotation of ${arg} in the log\n`);
            else for (const s of states) io.stdout(`${stateLine(s)}\n`);
            return 0;
          }
          case "due": {
            const due = await engine.due();
            const overdue = due.some((d) => d.overdue);
            if (json) io.stdout(toJson({ secrets: due, overdue }));
            else if (due.length === 0) io.stdout("no secret is covered by the rotation policy\n");
            else {
              for (const d of due) {
                io.stdout(
                  `${d.secretName}  ${d.rotator}  version ${d.currentVersion}  age ${d.ageDays}d of ${d.maxAgeDays}d  ${
                    d.overdue ? `OVERDUE by ${-d.daysLeft}d` : `${d.daysLeft}d left`
                  }\n`,
                );
              }
            }
            return overdue ? OVERDUE_EXIT : 0;
          }
        }
        return 0;
      } finally {
        await setup.close();
      }
    });
  },
});
