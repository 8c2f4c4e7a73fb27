/**
 * `secrets list [prefix]`: prints secret names, one a line.
 *
 * @module
 */

import { type CommandEntry, defineCommand, toJson, withManager } from "./_command.ts";

/** `list [prefix]`. */
export const listCommand: CommandEntry = defineCommand<Record<string, unknown>>({
  name: "list",
  summary: "list secret names, optionally under a prefix",
  usage: `usage: secrets list [prefix] [--json]

Prints the names of the secrets starting with [prefix], sorted, one a line.
With --json: {"names": [...]}.

  --json        print JSON
  -h, --help    show this help`,
  options: {},
  positionals: { min: 0, max: 1 },
  async run({ positionals, json, io }) {
    const prefix = positionals[0] ?? "";
    const names = await withManager(io, (m) => m.listSecrets(prefix));
    if (json) io.stdout(toJson({ names }));
    else if (names.length > 0) io.stdout(`${names.join("\n")}\n`);
    return 0;
  },
});
