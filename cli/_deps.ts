/**
 * What CLI commands reach besides `io`, passed in so tests can replace it:
 * the manager factory, the clocks, the file system and the audit database.
 *
 * @module
 */

import type { Sql } from "postgres";
import { ConfigError } from "../core/errors.ts";
import { sleep } from "../core/retry.ts";
import type { SecretManager } from "../core/types.ts";
import type { ScanFs } from "../redact/scanner.ts";

/**
 * The CLI's dependencies besides its input and output. Every field has a
 * default; `main(args, io, deps)` takes any of them.
 *
 * @example Running a command against a manager built by the test
 * ```ts
 * import { type CliDeps, main } from "@keyward/secrets/cli";
 * import { captureIo, MemorySecretManager } from "@keyward/secrets/testing";
 *
 * const deps: Partial<CliDeps> = {
 *   createManager: () =>
 *     Promise.resolve(new MemorySecretManager({ initial: { "db/password": "pw-0123456789" } })),
 * };
 * const io = captureIo();
 * if (await main(["list"], io, deps) !== 0 || io.stdoutText !== "db/password\n") throw new Error();
 * ```
 */
export interface CliDeps {
  /**
   * Builds the manager a command works on from the settings.
   * @default {createCliManager: the factory, refusing the memory backend}
   */
  createManager(env: Record<string, string | undefined>): Promise<SecretManager>;
  /** The wall clock, in epoch milliseconds. @default {Date.now} */
  now(): number;
  /** Waits `ms` milliseconds. @default {a setTimeout promise} */
  sleep(ms: number): Promise<void>;
  /** The files `scan` reads. @default {Deno's file system} */
  scanFs: ScanFs;
  /** Opens the audit database of `audit` from a connection URL. @default {npm:postgres} */
  connectAuditDatabase(url: string): Promise<Sql>;
  /** Reads a text file (`migrate --from`, `--map`, `check --names`). @default {Deno.readTextFile} */
  readTextFile(path: string): Promise<string>;
  /** Writes a text file (`template --out`). @default {Deno.writeTextFile} */
  writeTextFile(path: string, text: string): Promise<void>;
  /** Starts a child process (`secrets run`). @default {Deno.Command} */
  spawn(command: string, args: string[], env: Record<string, string>): ChildProcessLike;
  /** Listens for a signal to forward (`secrets run`). @default {Deno.addSignalListener} */
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  /** Stops listening. @default {Deno.removeSignalListener} */
  removeSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
}

/**
 * A running child process as `secrets run` uses it: its output streams,
 * a way to send it a signal, and its exit.
 *
 * @example A child that prints one line and exits 0
 * ```ts
 * import type { ChildProcessLike } from "@keyward/secrets/cli";
 *
 * const child: ChildProcessLike = {
 *   stdout: ReadableStream.from([new TextEncoder().encode("hello\n")]),
 *   stderr: ReadableStream.from([]),
 *   kill: () => {},
 *   status: Promise.resolve({ code: 0 }),
 * };
 * if ((await child.status).code !== 0) throw new Error();
 * ```
 */
export interface ChildProcessLike {
  /** Its standard output. */
  stdout: ReadableStream<Uint8Array>;
  /** Its standard error. */
  stderr: ReadableStream<Uint8Array>;
  /** Sends it a signal. */
  kill(signal: "SIGINT" | "SIGTERM"): void;
  /** Resolves with its exit code (128 + n when a signal ended it). */
  status: Promise<{ code: number; signal?: string | null }>;
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

/** The message the CLI refuses `SECRET_BACKEND=memory` with. */
export const MEMORY_REFUSAL = "SECRET_BACKEND=memory keeps secrets inside one process only: " +
  "the CLI would forget every write when it exits and find nothing to read; " +
  "choose file, env, vault or aws";

/**
 * The CLI's manager factory: `createSecretManager()` with two CLI rules.
 * The memory backend is refused for every command (a CLI run is one
 * process: a write would be lost at exit, a read finds nothing), and the
 * audit trail fails closed: `SECRET_AUDIT_ON_FAILURE` is `fail` unless set.
 * Every run writes to the one audit chain of the CLI (`auditWriter: "cli"`).
 */
export async function createCliManager(
  env: Record<string, string | undefined>,
  create?: (
    options: { env: Record<string, string | undefined>; auditWriter?: string },
  ) => Promise<SecretManager>,
): Promise<SecretManager> {
  if ((env.SECRET_BACKEND ?? "").trim() === "memory") {
    throw new ConfigError(MEMORY_REFUSAL, { backend: "memory" });
  }
  const onFailure = (env.SECRET_AUDIT_ON_FAILURE ?? "").trim();
  const factory = create ?? (await import("../factory.ts")).createSecretManager;
  return await factory({
    env: { ...env, SECRET_AUDIT_ON_FAILURE: onFailure === "" ? "fail" : onFailure },
    // One audit chain for every CLI run of this service (issue 12 item 7).
    auditWriter: "cli",
  });
}

async function connectAuditDatabase(url: string): Promise<Sql> {
  // Checks the URL first: a malformed one is a ConfigError naming the
  // setting, never quoting it (the driver's own message would).
  const { connectUrl } = await import("../pg/connect.ts");
  return connectUrl(url, "DATABASE_URL", { max: 2, connectTimeoutSeconds: 10 });
}

/** The dependencies `main` uses unless told otherwise. */
export function defaultDeps(over: Partial<CliDeps> = {}): CliDeps {
  return {
    createManager: (env) => createCliManager(env),
    now: () => Date.now(),
    sleep: (ms) => sleep(ms),
    scanFs: denoScanFs,
    connectAuditDatabase,
    readTextFile: (path) => Deno.readTextFile(path),
    writeTextFile: (path, text) => Deno.writeTextFile(path, text),
    spawn: denoSpawn,
    addSignalListener: (signal, handler) => Deno.addSignalListener(signal, handler),
    removeSignalListener: (signal, handler) => Deno.removeSignalListener(signal, handler),
    ...over,
  };
}

function denoSpawn(command: string, args: string[], env: Record<string, string>): ChildProcessLike {
  const child = new Deno.Command(command, {
    args,
    env,
    stdin: "inherit",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return {
    stdout: child.stdout,
    stderr: child.stderr,
    kill: (signal) => {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    },
    status: child.status.then((s) => ({ code: s.code, signal: s.signal })),
  };
}
