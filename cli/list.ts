/**
 * `secrets list [prefix]`: prints secret names, one a line.
 *
 * @module
 */

import { type CommandDef, defineCommand, toJson } from "./_command.ts";

/** `list [prefix]`. */
export const listCommand: CommandDef = defineCommand({
  name: "list",
  summary: "list secret names, optionally under a prefix",
  args: "[prefix]",
  description: `Prints the names of the secrets starting with [prefix], sorted, one a line.
With --json: {"names": [...]}.`,
  positionals: { min: 0, max: 1 },
  async run({ positionals, json, io, withManager }) {
    const prefix = positionals[0] ?? "";
    const names = await withManager((m) => m.listSecrets(prefix));
    if (json) io.stdout(toJson({ names }));
    else if (names.length > 0) io.stdout(`${names.join("\n")}\n`);
    return 0;
  },
});
