/**
 * `secrets promote <name> <version>`: makes a version current.
 *
 * @module
 */

import { type CommandEntry, defineCommand, toJson, withManager } from "./_command.ts";

/** `promote <name> <version>`. */
export const promoteCommand: CommandEntry = defineCommand<Record<string, unknown>>({
  name: "promote",
  summary: "make a version current (the pending one, or an older one to roll back)",
  usage: `usage: secrets promote <name> <version> [--json]

Makes <version> of <name> current; the old current version becomes previous.
Promoting the version that is already current changes nothing. With --json:
the promoted version {"name", "version", "stages", "createdAt"}.

  --json        print JSON
  -h, --help    show this help`,
  options: {},
  positionals: { min: 2, max: 2 },
  async run({ positionals, json, io }) {
    const [name, version] = positionals;
    const promoted = await withManager(io, (m) => m.promote(name, version));
    io.stdout(
      json
        ? toJson(promoted)
        : `promoted ${name} version ${promoted.version} (${promoted.stages.join(", ")})\n`,
    );
    return 0;
  },
});
