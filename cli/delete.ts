/**
 * `secrets delete <name>`: deletes a secret (or schedules its deletion where
 * the backend can recover it).
 *
 * @module
 */

import { validateName } from "../core/names.ts";
import type { DeleteOptions } from "../core/types.ts";
import { type CommandDef, defineCommand, stringOption, toJson, UsageError } from "./_command.ts";

/** `delete <name> [--recovery-days n] [--yes]`. */
export const deleteCommand: CommandDef = defineCommand({
  name: "delete",
  summary: "delete a secret (asks for its name unless --yes)",
  args: "<name>",
  description: `Deletes <name> and all its versions. On a terminal it asks you to type the name
to confirm; elsewhere --yes is required. Backends that can recover a deleted
secret (aws) schedule the deletion after --recovery-days (7 to 30, default 30);
the others delete at once and refuse --recovery-days.`,
  options: {
    "recovery-days": {
      type: "string",
      arg: "n",
      help: "days before a scheduled deletion becomes final (aws only)",
    },
    yes: { type: "boolean", short: "y", help: "do not ask for confirmation" },
  },
  jsonHelp: 'print {"name", "deleted", "recoveryDays"} as JSON',
  positionals: { min: 1, max: 1 },
  async run({ values, positionals, json, io, withManager }) {
    const name = positionals[0];
    validateName(name); // before any prompt shows it: a value pasted as a name is never echoed
    const opts: DeleteOptions = {};
    const days = stringOption(values, "recovery-days");
    if (days !== undefined) {
      if (!/^[0-9]{1,4}$/.test(days)) {
        throw new UsageError("--recovery-days must be a whole number of days");
      }
      opts.recoveryDays = Number(days);
    }
    if (values.yes !== true) {
      if (!io.stdinIsTerminal || io.promptHidden === undefined) {
        throw new UsageError("delete needs --yes when it cannot ask on a terminal");
      }
      const answer = await io.promptHidden(`type the name "${name}" to delete it: `);
      if (answer.trim() !== name) {
        io.stderr("the name did not match; nothing was deleted\n");
        return 1;
      }
    }
    await withManager((m) => m.deleteSecret(name, opts));
    if (json) {
      io.stdout(toJson({ name, deleted: true, ...opts }));
    } else if (opts.recoveryDays !== undefined) {
      io.stdout(`deletion of ${name} scheduled in ${opts.recoveryDays} days\n`);
    } else {
      io.stdout(`deleted ${name}\n`);
    }
    return 0;
  },
});
