/**
 * The operators' CLI: `deno task secrets <command>` (or
 * `deno run jsr:@keyward/secrets/cli <command>`).
 *
 * Commands: `get`, `list`, `set`, `describe`, `promote`, `delete`, `keygen`,
 * `scan`, `audit <subcommand>`, `rotate`, `rotation <subcommand>`, `token <subcommand>`,
 * `migrate`, `template`, `run`, `check`. Every command and subcommand takes `--json`
 * and `--help`. The manager is built by `createSecretManager()` from the
 * environment (`SECRET_BACKEND`, ...); the CLI refuses the memory backend
 * (nothing would outlive the run) and audits fail-closed
 * (`SECRET_AUDIT_ON_FAILURE=fail` unless set). The library's warnings are
 * printed on standard error.
 * Exit codes: 0 ok, 1 unexpected, 2 usage or settings, 3 not found,
 * 4 access, 5 conflict, 6 unsupported, 7 write failed, 8 rotation rolled
 * back, 9 rotation overdue found, 10 some items failed, 130 interrupted.
 *
 * `main(args, io, deps)` touches nothing but `io` and `deps`, so it runs in
 * tests with captured output.
 *
 * @example Running a command with captured output
 * ```ts
 * import { type CliIo, main } from "@keyward/secrets/cli";
 * import { MemorySecretManager } from "@keyward/secrets/testing";
 *
 * let out = "";
 * const io: CliIo = {
 *   stdout: (text) => { out += text; },
 *   stderr: () => {},
 *   readStdin: () => Promise.resolve(""),
 *   stdinIsTerminal: false,
 *   env: {},
 * };
 * const createManager = () => Promise.resolve(new MemorySecretManager());
 * const code = await main(["list", "--json"], io, { createManager });
 * if (code !== 0 || JSON.parse(out).names.length !== 0) throw new Error();
 * ```
 *
 * @module
 */

import { type CommandDef, reportError, runCommand, toJson, UsageError } from "./cli/_command.ts";
import { auditDefinition } from "./cli/audit.ts";
import { type CliDeps, defaultDeps } from "./cli/_deps.ts";
import { EXIT_CODES, exitCodesText } from "./cli/_exit.ts";
import type { CliIo } from "./cli/_io.ts";
import { configureCliLogging } from "./cli/_logging.ts";
import { deleteCommand } from "./cli/delete.ts";
import { describeCommand } from "./cli/describe.ts";
import { getCommand } from "./cli/get.ts";
import { keygenCommand } from "./cli/keygen.ts";
import { listCommand } from "./cli/list.ts";
import { migrateCommand, templateCommand } from "./cli/migrate.ts";
import { runCommandDef } from "./cli/run.ts";
import { checkCommand } from "./cli/check.ts";
import { promoteCommand } from "./cli/promote.ts";
import { rotateCommand } from "./cli/rotate.ts";
import { rotationCommand } from "./cli/rotation.ts";
import { scanDefinition } from "./cli/scan.ts";
import { setCommand } from "./cli/set.ts";
import { Redactor } from "./redact/redactor.ts";
import { tokenCommand } from "./cli/token.ts";

export type { CliCommand, CliIo } from "./cli/_io.ts";
export type { ChildProcessLike, CliDeps } from "./cli/_deps.ts";
export { createScanCommand, type ScanDeps } from "./cli/scan.ts";

/**
 * The one command table. A new command is one definition (`cli/<name>.ts`,
 * `defineCommand({ name, summary, options, run })`, or with `subcommands`
 * for a group such as `audit`) and one line here.
 */
const COMMANDS: readonly CommandDef[] = [
  getCommand,
  listCommand,
  setCommand,
  describeCommand,
  promoteCommand,
  deleteCommand,
  keygenCommand,
  scanDefinition,
  auditDefinition,
  rotateCommand,
  rotationCommand,
  tokenCommand,
  migrateCommand,
  templateCommand,
  runCommandDef,
  checkCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `usage: secrets <command> [options]   (deno task secrets <command> ...)

commands:
${lines.join("\n")}

Every command takes --json (machine-readable output) and --help.
The backend comes from the environment: SECRET_BACKEND (file, env, vault, aws;
the CLI refuses memory, which keeps nothing between runs), SECRET_NAMESPACE
and the backend's own settings (see README.md).
${exitCodesText("Exit codes:")}`;
}

/**
 * Runs the CLI with `args` (without the program name) and returns the exit
 * code. Reads and writes only through `io`; builds its manager with
 * `deps.createManager` (by default `createSecretManager({ env: io.env })`,
 * refusing the memory backend). While it runs, the library's warnings go
 * to `io.stderr` (unless LogTape was configured already).
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
export async function main(
  args: string[],
  io: CliIo,
  deps: Partial<CliDeps> = {},
): Promise<number> {
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
          commands: COMMANDS.map((c) => ({ name: c.name, summary: c.summary })),
          exitCodes: EXIT_CODES.map(({ code, meaning }) => ({ code, meaning })),
        })
        : `${usage()}\n`,
    );
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    return reportError(new UsageError("unknown command"), io, json, usage());
  }
  const rest = args.slice(i + 1);
  // flags given before the command go before a `--` (after it, `secrets run`'s command begins)
  const end = rest.indexOf("--") < 0 ? rest.length : rest.indexOf("--");
  if (json) rest.splice(end, 0, "--json");
  if (help) rest.splice(end, 0, "--help");
  const own = rest.slice(0, rest.indexOf("--") < 0 ? rest.length : rest.indexOf("--"));
  const redactor = new Redactor();
  const undoLogging = await configureCliLogging(io, own.includes("--json"), redactor);
  try {
    return await runCommand(command, rest, io, { deps: defaultDeps(deps), redactor });
  } finally {
    await undoLogging();
  }
}

if (import.meta.main) {
  const { denoIo } = await import("./cli/_deno_io.ts");
  Deno.exit(await main(Deno.args, denoIo()));
}
