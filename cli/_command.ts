/**
 * What every CLI command shares: argument parsing with `--json` and `--help`,
 * usage errors (exit code 2), error printing through the one mapping in
 * `core/errors.ts`, and a manager built from the CLI's settings.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { exitCodeFor, KeywardError, scrubCause } from "../core/errors.ts";
import type { SecretManager } from "../core/types.ts";
import { createSecretManager } from "../factory.ts";
import type { CliCommand, CliIo } from "./_io.ts";

/** The exit code of a usage error: the one `config` errors get (from `exitCodeFor`). */
export const USAGE_EXIT: number = exitCodeFor("config");
/** The exit code when the user interrupts a prompt (128 + SIGINT). */
export const INTERRUPTED_EXIT = 130;

/** A wrong command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {
  /** Builds the error; the message must not repeat an argument's value. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The user pressed Ctrl-C at a prompt. */
export class PromptInterrupted extends Error {
  /** Builds the error. */
  constructor() {
    super("interrupted");
    this.name = "PromptInterrupted";
  }
}

type OptionSpec = { type: "string" | "boolean"; multiple?: boolean; short?: string };

/** What a command's `run` receives. */
export interface CommandContext<V> {
  /** The parsed options. */
  values: V;
  /** The positional arguments. */
  positionals: string[];
  /** Whether `--json` was given. */
  json: boolean;
  /** The CLI's input and output. */
  io: CliIo;
}

/** A command's description. */
export interface CommandSpec<V> {
  /** The command's name. */
  name: string;
  /** One line for the top-level help. */
  summary: string;
  /** The full usage text (without a trailing newline). */
  usage: string;
  /** The command's own options (`--json` and `--help` are added). */
  options: Record<string, OptionSpec>;
  /** How many positional arguments it takes. */
  positionals: { min: number; max: number };
  /** Runs the command; throws `UsageError` or a keyward error. */
  run(ctx: CommandContext<V>): Promise<number>;
  /** Checks the raw arguments before parsing (e.g. to refuse a value given as an argument). */
  precheck?(args: string[]): void;
}

/** A command plus its one-line summary, as the dispatcher table holds it. */
export interface CommandEntry {
  /** One line for the top-level help. */
  summary: string;
  /** Runs the command. */
  run: CliCommand;
}

/** Turns a {@linkcode CommandSpec} into a {@linkcode CommandEntry}. */
export function defineCommand<V>(spec: CommandSpec<V>): CommandEntry {
  const run: CliCommand = async (args, io) => {
    const json = args.includes("--json");
    let values: Record<string, unknown>;
    let positionals: string[];
    try {
      spec.precheck?.(args);
      ({ values, positionals } = parse(args, spec.options));
      if (values.help === true) {
        io.stdout(json ? toJson({ command: spec.name, usage: spec.usage }) : `${spec.usage}\n`);
        return 0;
      }
      const n = positionals.length;
      if (n < spec.positionals.min) throw new UsageError(`${spec.name}: missing argument`);
      if (n > spec.positionals.max) throw new UsageError(`${spec.name}: too many arguments`);
    } catch (err) {
      return reportError(err, io, json, spec.usage);
    }
    try {
      return await spec.run({ values: values as V, positionals, json, io });
    } catch (err) {
      return reportError(err, io, json, spec.usage);
    }
  };
  return { summary: spec.summary, run };
}

function parse(
  args: string[],
  options: Record<string, OptionSpec>,
): { values: Record<string, unknown>; positionals: string[] } {
  try {
    return parseArgs({
      args,
      options: {
        ...options,
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new UsageError(describeParseError(err));
  }
}

/** Rewrites `node:util` parse errors into short messages that name the option only. */
export function describeParseError(err: unknown): string {
  const message = err instanceof Error ? err.message : "";
  const unknown = /^Unknown option '([^']{1,40})'/.exec(message);
  if (unknown) return `unknown option ${unknown[1]}`;
  const missing = /^Option '(?:-[^', ]{1,4}, )?(-[^' ]{1,40})[^']*' argument missing/.exec(message);
  if (missing) return `option ${missing[1]} needs a value`;
  const noArg = /^Option '(?:-[^', ]{1,4}, )?(-[^' ]{1,40})' does not take an argument/.exec(
    message,
  );
  if (noArg) return `option ${noArg[1]} does not take a value`;
  return "invalid arguments";
}

/**
 * Prints an error as `error: <message>` (or a JSON object with `--json`) on
 * standard error and returns its exit code. keyward errors hold no values by
 * construction; anything else is shown by its class name only.
 */
export function reportError(err: unknown, io: CliIo, json: boolean, usage?: string): number {
  let code: string;
  let message: string;
  let exit: number;
  if (err instanceof UsageError) {
    code = "usage";
    message = err.message;
    exit = USAGE_EXIT;
  } else if (err instanceof PromptInterrupted) {
    code = "interrupted";
    message = "interrupted";
    exit = INTERRUPTED_EXIT;
  } else if (err instanceof KeywardError) {
    code = err.code;
    message = err.message;
    exit = exitCodeFor(err.code);
  } else {
    code = "unexpected";
    message = `unexpected ${(scrubCause(err) as Error).message}`;
    exit = exitCodeFor(undefined);
  }
  if (json) {
    io.stderr(toJson({ error: { code, message } }));
  } else {
    io.stderr(`error: ${message}\n`);
    if (code === "usage" && usage !== undefined) io.stderr(`\n${usage}\n`);
  }
  return exit;
}

/** Builds the manager from the CLI's settings, runs `fn`, and always closes it. */
export async function withManager<T>(
  io: CliIo,
  fn: (manager: SecretManager) => Promise<T>,
): Promise<T> {
  // One audit chain for every CLI run of this service (issue 12 item 7).
  const manager = await createSecretManager({ env: io.env, auditWriter: "cli" });
  try {
    return await fn(manager);
  } finally {
    await manager.close();
  }
}

/** Pretty JSON with a trailing newline. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The value of a string option, or `undefined`. */
export function stringOption(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  return typeof v === "string" ? v : undefined;
}

/** Asks for a hidden value twice and checks both entries agree. */
export async function promptTwice(io: CliIo, question: string): Promise<string> {
  const prompt = io.promptHidden;
  if (prompt === undefined) {
    throw new UsageError("no terminal prompt is available; pipe the value on standard input");
  }
  const first = await prompt(question);
  const second = await prompt("again, to confirm: ");
  if (first !== second) throw new UsageError("the two entries differ; nothing was written");
  return first;
}
