/**
 * `secrets get <name>`: prints a secret's value. The one command that shows one.
 *
 * @module
 */

import type { ReadOptions, Stage } from "../core/types.ts";
import { type CommandDef, defineCommand, stringOption, toJson } from "./_command.ts";
import { parseStage } from "./_stage.ts";

/** `get <name> [--stage s] [--version v] [--field f]`. */
export const getCommand: CommandDef = defineCommand({
  name: "get",
  summary: "print a secret's value (the only command that shows one)",
  args: "<name>",
  description: `Prints the value of <name> followed by a newline. A secret with several fields
prints as JSON unless --field picks one. With --json: {"name", "value"}.`,
  options: {
    stage: {
      type: "string",
      arg: "current|pending|previous",
      help: "read the version holding this stage (default: current)",
    },
    version: { type: "string", help: "read this version" },
    field: { type: "string", arg: "f", help: "read one field of a secret with fields" },
  },
  positionals: { min: 1, max: 1 },
  async run({ values, positionals, json, io, withManager }) {
    const name = positionals[0];
    const opts: ReadOptions = {};
    const stage: Stage | undefined = parseStage(stringOption(values, "stage"), [
      "current",
      "pending",
      "previous",
    ]);
    if (stage !== undefined) opts.stage = stage;
    const version = stringOption(values, "version");
    if (version !== undefined) opts.version = version;
    const field = stringOption(values, "field");
    if (field !== undefined) opts.field = field;
    const value = await withManager((m) => m.getSecret(name, opts));
    io.stdout(json ? toJson({ name, value }) : `${value}\n`);
    return 0;
  },
});
