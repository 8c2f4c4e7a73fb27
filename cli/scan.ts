/**
 * `secrets scan [paths | -]`: looks for leaked secrets in files, folders or
 * standard input: the values of the configured backend's secrets (compared
 * through the redactor, never printed) and well-known credential shapes.
 *
 * Exit codes: 0 clean, 1 something found, 2 usage error; a backend error
 * exits with its code's mapping (`exitCodeFor`), as every command does.
 *
 * @module
 */

import type { SecretManager } from "../core/types.ts";
import {
  type AllowList,
  type BackendValues,
  parseAllowList,
  type ScanFinding,
  type ScanFs,
  scanPaths,
  scanText,
  valuesFromManager,
} from "../redact/scanner.ts";
import { type CommandDef, defineCommand, runCommand, toJson, UsageError } from "./_command.ts";
import { type CliDeps, defaultDeps, denoScanFs } from "./_deps.ts";
import type { CliCommand, CliIo } from "./_io.ts";
import { readStdinLenient } from "./_stdin.ts";

export { denoScanFs };

/** The default allow-list, read from the current folder when present. */
export const DEFAULT_ALLOW_LIST = ".keyward-scan-allow";

/**
 * How {@linkcode createScanCommand} reaches the outside world; tests replace parts.
 *
 * @example Scanning input for the values a backend holds
 * ```ts
 * import { MemorySecretManager } from "@keyward/secrets";
 * import { createScanCommand } from "@keyward/secrets/cli";
 * import { captureIo } from "@keyward/secrets/testing";
 *
 * const backend = new MemorySecretManager({ initial: { "db/password": "pw-0123456789" } });
 * const scan = createScanCommand({ createManager: () => Promise.resolve(backend) });
 * const io = captureIo({
 *   stdin: "connecting with pw-0123456789\n",
 *   env: { SECRET_BACKEND: "memory" }, // the values are looked for only with a backend set
 * });
 * const code = await scan(["-"], io);
 * if (code !== 1 || !io.stdoutText.includes("db/password")) throw new Error(io.stdoutText);
 * if (io.stdoutText.includes("pw-0123456789")) throw new Error("the report shows the value");
 * ```
 */
export interface ScanDeps {
  /** File access. @default {Deno's file system} */
  fs?: ScanFs;
  /** Builds the configured backend. @default {the CLI's manager factory (createSecretManager)} */
  createManager?: (env: Record<string, string | undefined>) => Promise<SecretManager>;
}

/** `scan [paths | -]`: see the module documentation. */
export const scanDefinition: CommandDef = defineCommand({
  name: "scan",
  summary: "scan files, folders or stdin for leaked secrets and credentials",
  args: "[PATH ... | -]",
  forms: ["[options] [PATH ... | -]"],
  description: `Scans files, folders (recursively; .git, node_modules, coverage and binary
files are skipped) or standard input ("-") for
  - the values of the secrets in the configured backend (SECRET_BACKEND),
    compared without printing them, and
  - well-known credentials: AWS access keys, Vault tokens, private key blocks,
    broker key pairs, connection strings with passwords, high-entropy values
    assigned to *_SECRET, *_PASSWORD, *_TOKEN, *_KEY.
Each finding prints file:line, the kind and, for a secret's value, its name.
With no PATH, the current folder is scanned.`,
  options: {
    "allow-list": {
      type: "string",
      arg: "FILE",
      help: `known false positives (default: ${DEFAULT_ALLOW_LIST} if present);
one entry a line: path:line:kind, path-glob:kind,
or a path glob; '#' starts a comment`,
    },
    "no-values": {
      type: "boolean",
      help: "do not read the backend; look for credential shapes only",
    },
  },
  jsonHelp: "print the findings as JSON",
  positionals: { min: 0, max: Number.POSITIVE_INFINITY },
  exits: { 0: "clean", 1: "findings", 2: "usage error" },
  async run({ values, positionals, json, io, deps, withManager }) {
    const fs = deps.scanFs;
    const paths = positionals.length === 0 ? ["."] : positionals;
    if (paths.includes("-") && paths.length > 1) {
      throw new UsageError("'-' (standard input) cannot be combined with paths");
    }
    if (paths[0] !== "-") {
      for (const p of paths) {
        if (!(await exists(fs, p))) throw new UsageError(`no such file or folder: ${p}`);
      }
    }

    const allowList = await readAllowList(fs, values["allow-list"] as string | undefined);
    let backend: BackendValues | undefined;
    // A blank SECRET_BACKEND counts as unset, as everywhere else.
    const configured = (io.env.SECRET_BACKEND ?? "").trim() !== "";
    if (!values["no-values"] && configured) {
      backend = await withManager((manager) => valuesFromManager(manager));
    } else if (!values["no-values"] && !json) {
      io.stderr(
        "note: SECRET_BACKEND is not set; looking for credential shapes only (no secret values)\n",
      );
    }
    if (backend && backend.short.length > 0 && !json) {
      io.stderr(
        `note: ${backend.short.length} secret(s) shorter than 8 bytes not compared: ${
          backend.short.join(", ")
        }\n`,
      );
    }

    let findings: ScanFinding[];
    let allowed: number;
    let files: number;
    const options = { values: backend?.redactor, allowList };
    if (paths[0] === "-") {
      const text = await readStdinLenient(io);
      ({ findings, allowed } = await scanText(text, "<stdin>", options));
      files = 1;
    } else {
      ({ findings, allowed, files } = await scanPaths(paths, fs, options));
    }

    if (json) {
      io.stdout(toJson({
        findings,
        allowed,
        files,
        secretsCompared: backend?.secrets ?? 0,
        shortSecrets: backend?.short ?? [],
      }));
    } else {
      for (const f of findings) {
        const what = f.kind === "secret-value"
          ? `value of secret ${JSON.stringify(f.name)}${f.form === "plain" ? "" : ` (${f.form})`}`
          : f.kind;
        io.stdout(`${f.path}:${f.line}: ${what} [${f.fingerprint}]\n`);
      }
      const tail = `${files} file(s) scanned, ${allowed} allowed by the allow-list`;
      io.stdout(
        findings.length === 0
          ? `no findings (${tail})\n`
          : `${findings.length} finding(s) (${tail})\n`,
      );
    }
    return findings.length > 0 ? 1 : 0;
  },
});

/**
 * Builds the `scan` command with its dependencies, as a function of its own
 * arguments (without the word `scan`).
 *
 * @example
 * ```ts
 * import { createScanCommand } from "@keyward/secrets/cli";
 * let out = "";
 * const scan = createScanCommand();
 * const code = await scan(["--no-values", "-"], {
 *   stdout: (t) => { out += t; }, stderr: () => {}, stdinIsTerminal: false, env: {},
 *   readStdin: () => Promise.resolve("nothing to see here\n"),
 * });
 * if (code !== 0 || !out.includes("no findings")) throw new Error(out);
 * ```
 */
export function createScanCommand(deps: ScanDeps = {}): CliCommand {
  const over: Partial<CliDeps> = {};
  if (deps.fs) over.scanFs = deps.fs;
  if (deps.createManager) over.createManager = deps.createManager;
  return (args: string[], io: CliIo) =>
    runCommand(scanDefinition, args, io, { deps: defaultDeps(over) });
}

/** `secrets scan`: see the module documentation. */
export const scanCommand: CliCommand = createScanCommand();

async function exists(fs: ScanFs, path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readAllowList(fs: ScanFs, path: string | undefined): Promise<AllowList | undefined> {
  const file = path ?? DEFAULT_ALLOW_LIST;
  if (!(await exists(fs, file))) {
    if (path !== undefined) throw new UsageError(`allow-list not found: ${path}`);
    return undefined;
  }
  return parseAllowList(new TextDecoder().decode(await fs.readFile(file)));
}

if (import.meta.main) {
  const { denoIo } = await import("./_deno_io.ts");
  Deno.exit(await scanCommand(Deno.args, denoIo()));
}
