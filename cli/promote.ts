/**
 * `secrets promote <name> <version>`: makes a version current.
 *
 * @module
 */

import { type CommandDef, defineCommand, toJson } from "./_command.ts";

/** `promote <name> <version>`. */
export const promoteCommand: CommandDef = defineCommand({
  name: "promote",
  summary: "make a version current (the pending one, or an older one to roll back)",
  args: "<name> <version>",
  description: `Makes <version> of <name> current; the old current version becomes previous.
Promoting the version that is already current changes nothing. With --json:
the promoted version {"name", "version", "stages", "createdAt"}.`,
  positionals: { min: 2, max: 2 },
  async run({ positionals, json, io, withManager }) {
    const [name, version] = positionals;
    const promoted = await withManager((m) => m.promote(name, version));
    io.stdout(
      json
        ? toJson(promoted)
        : `promoted ${name} version ${promoted.version} (${promoted.stages.join(", ")})\n`,
    );
    return 0;
  },
});
