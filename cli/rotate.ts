/**
 * `secrets rotate <name>` (= `deno task rotate <name>`): runs steps 1-5 of a
 * rotation and schedules 6-7.
 *
 * @module
 */

import { type CommandDef, defineCommand, stringOption, UsageError } from "./_command.ts";
import { nameProblem } from "../core/names.ts";
import { printSummary, withRotation } from "../rotation/_cli.ts";
import { formatDuration, parseDuration } from "../rotation/duration.ts";
import { exitCodeOf } from "../rotation/engine.ts";

function duration(values: Record<string, unknown>, option: string): number | undefined {
  const text = stringOption(values, option);
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms === undefined) {
    throw new UsageError(`--${option} takes a duration such as 7d, 12h, 30m or 0s`);
  }
  return ms;
}

/** `rotate <name>`. */
export const rotateCommand: CommandDef = defineCommand({
  name: "rotate",
  summary: "rotate a secret (new pending version, test, promote, verify; deprecation scheduled)",
  args: "<name>",
  description: `Rotates <name>: create_pending, set_at_provider, test_pending, promote, verify;
then deprecate_previous after the grace period and schedule_deletion after
--delete-after (run by "rotation finish"). Each step is printed as it ends.
A verify that never sees the new version rolls back (exit 8). Ctrl-C stops
after the running step and prints the resume command. Restart hooks of the
policy need --allow-run (deno task rotate and deno task secrets grant it).`,
  options: {
    rotator: {
      type: "string",
      arg: "R",
      help: "random, postgres-password or alpaca (overrides the policy)",
    },
    policy: {
      type: "string",
      arg: "FILE",
      help: "the rotation policy\n(default KEYWARD_ROTATION_POLICY or keyward.rotation.json)",
    },
    grace: {
      type: "string",
      arg: "D",
      help: "wait before deprecating the previous version (default: the policy's, 7d)",
    },
    "delete-after": {
      type: "string",
      arg: "D",
      help: "wait after deprecation before destroying it (default: the policy's, 30d)",
    },
    by: { type: "string", arg: "WHO", help: "recorded as rotated_by (default: the OS user)" },
    "dry-run": { type: "boolean", help: "print the plan; touch nothing" },
  },
  jsonHelp: "one JSON object per step, then a summary object",
  positionals: { min: 1, max: 1 },
  exits: { 8: "rolled back (verify failed; the previous version is current again)" },
  async run(ctx) {
    const { values, positionals, json, io } = ctx;
    const [name] = positionals;
    const problem = nameProblem(name);
    if (problem !== undefined) throw new UsageError(`invalid secret name: ${problem}`);
    const graceMs = duration(values, "grace");
    const deleteAfterMs = duration(values, "delete-after");
    const rotator = stringOption(values, "rotator");
    const opts = {
      ...(rotator !== undefined ? { rotator } : {}),
      ...(graceMs !== undefined ? { graceMs } : {}),
      ...(deleteAfterMs !== undefined ? { deleteAfterMs } : {}),
    };
    const policy = stringOption(values, "policy");
    const by = stringOption(values, "by");
    return await withRotation(ctx, { policy, by }, async (setup) => {
      if (values["dry-run"] === true) {
        const plan = await setup.engine.plan(name, opts);
        if (json) io.stdout(`${JSON.stringify({ type: "plan", dryRun: true, ...plan })}\n`);
        else {
          io.stdout(
            `dry run: would rotate ${name} (${plan.backend}, current version ${plan.currentVersion}) with ${plan.rotator}` +
              (plan.policyPrefix !== undefined
                ? ` (policy prefix ${JSON.stringify(plan.policyPrefix)})`
                : " (no policy rule; defaults)") +
              "\n",
          );
          for (const s of plan.settles) {
            io.stdout(`  first: ${s.action} ${s.step} of rotation ${s.rotationId}\n`);
          }
          for (const step of plan.steps) io.stdout(`  ${step}\n`);
          for (const v of plan.verify) {
            io.stdout(
              `  verify ${v.service} at ${v.url} (timeout ${formatDuration(v.timeoutMs)})\n`,
            );
          }
          for (const h of plan.restart) io.stdout(`  restart hook: ${h}\n`);
          io.stdout(
            `  grace ${formatDuration(plan.graceMs)}, destroyed ${
              formatDuration(plan.deleteAfterMs)
            } after deprecation\nnothing was changed\n`,
          );
        }
        return 0;
      }
      const result = await setup.engine.rotate(name, opts);
      printSummary(io, json, result);
      return exitCodeOf(result);
    });
  },
});
