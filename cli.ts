/**
 * The operators' CLI: `deno task secrets <command>` (or
 * `deno run jsr:@keyward/secrets/cli <command>`).
 *
 * Commands: `get`, `list`, `set`, `describe`, `promote`, `delete`, `keygen`.
 * Every command takes `--json` and `--help`. The manager is built by
 * `createSecretManager()` from the environment (`SECRET_BACKEND`, ...).
 * Exit codes: 0 success, 1 unexpected, 2 usage or settings, 3 not found,
 * 4 access, 5 conflict, 6 unsupported, 7 write failed, 130 interrupted.
 *
 * `main(args, io)` touches nothing but `io`, so it runs in tests with
 * captured output.
 *
 * @example Running a command with captured output
 * ```ts
 * import { type CliIo, main } from "@keyward/secrets/cli";
 *
 * let out = "";
 * const io: CliIo = {
 *   stdout: (text) => { out += text; },
 *   stderr: () => {},
 *   readStdin: () => Promise.resolve(""),
 *   stdinIsTerminal: false,
 *   env: { SECRET_BACKEND: "memory" },
 * };
 * const code = await main(["list", "--json"], io);
 * if (code !== 0 || JSON.parse(out).names.length !== 0) throw new Error();
 * ```
 *
 * @module
 */

import { type CommandEntry, reportError, toJson, UsageError } from "./cli/_command.ts";
import { AUDIT_SUMMARY, auditCommand } from "./cli/audit.ts";
import type { CliIo } from "./cli/_io.ts";
import { deleteCommand } from "./cli/delete.ts";
import { describeCommand } from "./cli/describe.ts";
import { getCommand } from "./cli/get.ts";
import { keygenCommand } from "./cli/keygen.ts";
import { listCommand } from "./cli/list.ts";
import { promoteCommand } from "./cli/promote.ts";
import { scanEntry } from "./cli/scan.ts";
import { setCommand } from "./cli/set.ts";
import { tokenCommand } from "./cli/token.ts";

export type { CliCommand, CliIo } from "./cli/_io.ts";
export { createScanCommand, type ScanDeps } from "./cli/scan.ts";

/**
 * The dispatcher table: command name -> summary and `CliCommand`. A new
 * command is one line here, e.g.
 * `audit: { summary: "verify and export the audit trail", run: auditCommand },`.
 */
const COMMANDS: Record<string, CommandEntry> = {
  get: getCommand,
  list: listCommand,
  set: setCommand,
  describe: describeCommand,
  promote: promoteCommand,
  delete: deleteCommand,
  keygen: keygenCommand,
  scan: scanEntry,
  audit: { summary: AUDIT_SUMMARY, run: auditCommand },
  token: tokenCommand,
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) =>
    `  ${name.padEnd(width)}  ${c.summary}`
  );
  return `usage: secrets <command> [options]   (deno task secrets <command> ...)

commands:
${lines.join("\n")}

Every command takes --json (machine-readable output) and --help.
The backend comes from the environment: SECRET_BACKEND (file, env, memory, vault,
aws), SECRET_NAMESPACE and the backend's own settings (see README.md).
Exit codes: 0 ok, 1 unexpected, 2 usage or settings, 3 not found, 4 access,
5 conflict, 6 unsupported, 7 write failed, 130 interrupted.`;
}

/**
 * Runs the CLI with `args` (without the program name) and returns the exit
 * code. Reads and writes only through `io`; builds its manager with
 * `createSecretManager({ env: io.env })`.
 *
 * @example Printing the usage into a captured io
 * ```ts
 * import { type CliIo, main } from "@keyward/secrets/cli";
 *
 * let out = "";
 * let err = "";
 * const io: CliIo = {
 *   stdout: (text) => { out += text; },
 *   stderr: (text) => { err += text; },
 *   readStdin: () => Promise.resolve(""),
 *   stdinIsTerminal: false,
 *   env: {},
 * };
 * if (await main(["--help"], io) !== 0 || !out.startsWith("usage: secrets <command>")) {
 *   throw new Error();
 * }
 * // An unknown command is a usage error: exit code 2, the message on stderr.
 * if (await main(["frobnicate"], io) !== 2 || !err.includes("unknown command")) throw new Error();
 * ```
 */
export async function main(args: string[], io: CliIo): Promise<number> {
  let json = false;
  let help = false;
  let i = 0;
  for (; i < args.length && args[i].startsWith("-"); i++) {
    if (args[i] === "--json") json = true;
    else if (args[i] === "--help" || args[i] === "-h") help = true;
    else {
      return reportError(new UsageError("unknown option before the command"), io, json, usage());
    }
  }
  const name = args[i];
  if (name === undefined) {
    if (!help) {
      return reportError(new UsageError("no command given"), io, json, usage());
    }
    io.stdout(
      json
        ? toJson({
          commands: Object.entries(COMMANDS).map(([n, c]) => ({ name: n, summary: c.summary })),
        })
        : `${usage()}\n`,
    );
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    return reportError(new UsageError("unknown command"), io, json, usage());
  }
  const rest = args.slice(i + 1);
  if (json) rest.push("--json");
  if (help) rest.push("--help");
  return await command.run(rest, io);
}

if (import.meta.main) {
  const { denoIo } = await import("./cli/_deno_io.ts");
  Deno.exit(await main(Deno.args, denoIo()));
}
