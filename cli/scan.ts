/**
 * `secrets scan [paths | -]`: looks for leaked secrets in files, folders or
 * standard input: the values of the configured backend's secrets (compared
 * through the redactor, never printed) and well-known credential shapes.
 *
 * Exit codes: 0 clean, 1 something found, 2 usage error; a backend error
 * exits with its code's mapping (`exitCodeFor`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { exitCodeFor, KeywardError, scrubCause } from "../core/errors.ts";
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
import { describeParseError } from "./_command.ts";
import type { CliCommand, CliIo } from "./_io.ts";

/** The default allow-list, read from the current folder when present. */
export const DEFAULT_ALLOW_LIST = ".keyward-scan-allow";

const USAGE = `usage: secrets scan [options] [PATH ... | -]

Scans files, folders (recursively; .git, node_modules, coverage and binary
files are skipped) or standard input ("-") for
  - the values of the secrets in the configured backend (SECRET_BACKEND),
    compared without printing them, and
  - well-known credentials: AWS access keys, Vault tokens, private key blocks,
    broker key pairs, connection strings with passwords, high-entropy values
    assigned to *_SECRET, *_PASSWORD, *_TOKEN, *_KEY.
Each finding prints file:line, the kind and, for a secret's value, its name.
With no PATH, the current folder is scanned.

options:
  --json               print the findings as JSON
  --allow-list FILE    known false positives (default: ${DEFAULT_ALLOW_LIST} if present);
                       one entry a line: path:line:kind, path-glob:kind,
                       or a path glob; '#' starts a comment
  --no-values          do not read the backend; look for credential shapes only
  -h, --help           show this help

exit codes: 0 clean, 1 findings, 2 usage error`;

class UsageError extends Error {}

/**
 * How {@linkcode scanCommand} reaches the outside world; tests replace parts.
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
  /** Builds the configured backend. @default {createSecretManager({ env: io.env }) from factory.ts} */
  createManager?: (env: Record<string, string | undefined>) => Promise<SecretManager>;
}

/** Deno's file system as the scanner's port. */
export const denoScanFs: ScanFs = {
  stat: async (path) => {
    const info = await Deno.stat(path);
    return { isFile: info.isFile, isDirectory: info.isDirectory };
  },
  readDir: (path) => Deno.readDir(path),
  readFile: (path) => Deno.readFile(path),
};

async function defaultCreateManager(
  env: Record<string, string | undefined>,
): Promise<SecretManager> {
  const { createSecretManager } = await import("../factory.ts");
  return await createSecretManager({ env });
}

/**
 * Builds the `scan` command with its dependencies.
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
  const fs = deps.fs ?? denoScanFs;
  const createManager = deps.createManager ?? defaultCreateManager;
  return async (args: string[], io: CliIo): Promise<number> => {
    const json = args.includes("--json");
    let values: { json?: boolean; "allow-list"?: string; "no-values"?: boolean; help?: boolean };
    let paths: string[];
    try {
      const parsed = parseArgs({
        args,
        options: {
          json: { type: "boolean" },
          "allow-list": { type: "string" },
          "no-values": { type: "boolean" },
          help: { type: "boolean", short: "h" },
        },
        strict: true,
        allowPositionals: true,
      });
      values = parsed.values;
      paths = parsed.positionals;
    } catch (err) {
      return usage(io, json, describeParseError(err));
    }
    if (values.help) {
      io.stdout(
        json ? `${JSON.stringify({ command: "scan", usage: USAGE }, null, 2)}\n` : `${USAGE}\n`,
      );
      return 0;
    }
    if (paths.length === 0) paths = ["."];
    if (paths.includes("-") && paths.length > 1) {
      return usage(io, json, "'-' (standard input) cannot be combined with paths");
    }

    if (paths[0] !== "-") {
      for (const p of paths) {
        if (!(await exists(fs, p))) return usage(io, json, `no such file or folder: ${p}`);
      }
    }

    let allowList: AllowList | undefined;
    let backend: BackendValues | undefined;
    try {
      allowList = await readAllowList(fs, values["allow-list"]);
      if (!values["no-values"] && (io.env.SECRET_BACKEND ?? "") !== "") {
        const manager = await createManager(io.env);
        try {
          backend = await valuesFromManager(manager);
        } finally {
          await manager.close();
        }
      } else if (!values["no-values"] && !json) {
        io.stderr(
          "note: SECRET_BACKEND is not set; looking for credential shapes only (no secret values)\n",
        );
      }
    } catch (err) {
      return failure(io, json, err);
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
    try {
      const options = { values: backend?.redactor, allowList };
      if (paths[0] === "-") {
        const text = await io.readStdin();
        ({ findings, allowed } = await scanText(text, "<stdin>", options));
        files = 1;
      } else {
        const report = await scanPaths(paths, fs, options);
        ({ findings, allowed, files } = report);
      }
    } catch (err) {
      return failure(io, json, err);
    }

    if (json) {
      io.stdout(
        `${
          JSON.stringify(
            {
              findings,
              allowed,
              files,
              secretsCompared: backend?.secrets ?? 0,
              shortSecrets: backend?.short ?? [],
            },
            null,
            2,
          )
        }\n`,
      );
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
  };
}

/** `secrets scan`: see the module documentation. */
export const scanCommand: CliCommand = createScanCommand();

/** The command as the dispatcher's table holds it. */
export const scanEntry: { summary: string; run: CliCommand } = {
  summary: "scan files, folders or stdin for leaked secrets and credentials",
  run: scanCommand,
};

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

function usage(io: CliIo, json: boolean, message: string): number {
  if (json) io.stderr(`${JSON.stringify({ error: { code: "usage", message } })}\n`);
  else io.stderr(`error: ${message}\n\n${USAGE}\n`);
  return 2;
}

function failure(io: CliIo, json: boolean, err: unknown): number {
  if (err instanceof UsageError) return usage(io, json, err.message);
  const code = err instanceof KeywardError ? err.code : "unexpected";
  const message = err instanceof KeywardError
    ? err.message
    : `unexpected ${(scrubCause(err) as Error).message}`;
  if (json) io.stderr(`${JSON.stringify({ error: { code, message } })}\n`);
  else io.stderr(`error: ${message}\n`);
  return exitCodeFor(err instanceof KeywardError ? err.code : undefined);
}

if (import.meta.main) {
  const { denoIo } = await import("./_deno_io.ts");
  Deno.exit(await scanCommand(Deno.args, denoIo()));
}
