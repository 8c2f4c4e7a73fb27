/**
 * The one way to write a CLI command: a {@linkcode CommandDef} (name,
 * summary, options, run, or subcommands made of the same definition),
 * run by {@linkcode runCommand}, which parses the arguments, answers
 * `--help` with text generated from the definition, and sends every error
 * through {@linkcode reportError} and the one exit-code table
 * (`cli/_exit.ts`).
 *
 * A command reaches the outside world only through its context: `io`
 * (standard streams, environment), `deps` (the manager factory, clocks,
 * files, the audit database) and `withManager`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { exitCodeFor, KeywardError, scrubCause } from "../core/errors.ts";
import { exposeRotationRecorder } from "../core/rotation_recorder.ts";
import type { SecretManager } from "../core/types.ts";
import { withRedaction } from "../redact/manager.ts";
import { Redactor } from "../redact/redactor.ts";
import { type CliDeps, defaultDeps } from "./_deps.ts";
import { EXIT, type ExitName, wrapItems } from "./_exit.ts";
import type { CliIo } from "./_io.ts";

/** The exit code of a usage error: the one `config` errors get (from `exitCodeFor`). */
export const USAGE_EXIT: number = exitCodeFor("config");
/** The exit code when the user interrupts a prompt (128 + SIGINT). */
export const INTERRUPTED_EXIT: number = EXIT.interrupted;

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

/**
 * A failure a command describes itself (no keyward error fits), with the
 * exit code it ends with: `new CliFailure("access", "the audit database is unreachable")`.
 */
export class CliFailure extends Error {
  /** The row of the exit-code table. */
  readonly exit: ExitName;
  /** Builds the error; the message must hold no value and no credential. */
  constructor(exit: ExitName, message: string) {
    super(message);
    this.name = "CliFailure";
    this.exit = exit;
  }
}

/** One option of a command. */
export interface OptionDef {
  /** `string` takes a value, `boolean` does not. */
  type: "string" | "boolean";
  /** A one-letter alias (`-y`). */
  short?: string;
  /** May be given several times (the values arrive as an array). */
  multiple?: boolean;
  /** The value's placeholder in the help (`FILE`, `s`). @default {"v"} */
  arg?: string;
  /** Must be given; the runner refuses the command line without it. */
  required?: boolean;
  /** What it does, for the help (may span lines). */
  help: string;
}

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
  /** The manager factory, clocks, files and databases. */
  deps: CliDeps;
  /**
   * Builds the manager from the CLI's settings (with `env` laid over them),
   * runs `fn`, and always closes it.
   */
  withManager<T>(
    fn: (manager: SecretManager) => Promise<T>,
    env?: Record<string, string | undefined>,
  ): Promise<T>;
  /** The redactor the CLI's logging and managers share. */
  redactor: Redactor;
}

/**
 * A command, or a group of subcommands (`audit verify|stats|...`): the one
 * shape every command has. A leaf has `run`; a group has `subcommands`.
 */
export interface CommandDef<V = Record<string, unknown>> {
  /** The command's name, as typed. */
  name: string;
  /** One line for the list of commands. */
  summary: string;
  /** The positional arguments as the usage line shows them (`<name> [prefix]`). */
  args?: string;
  /**
   * Whole usage forms after `secrets <name> ` when one line cannot say it
   * (`--out <path> [--json]`, `--stdout [--json]`); generated otherwise.
   */
  forms?: string[];
  /** Paragraphs shown after the usage line (already wrapped). */
  description?: string;
  /** The command's own options (`--json` and `--help` are added). */
  options?: Record<string, OptionDef>;
  /** What `--json` does, for the help. @default {"print JSON"} */
  jsonHelp?: string;
  /** How many positional arguments it takes. @default {{ min: 0, max: 0 }} */
  positionals?: { min: number; max: number };
  /** Exit codes with a meaning of this command's own (`{ 1: "findings" }`). */
  exits?: Record<number, string>;
  /** Checks the raw arguments before parsing (e.g. to refuse a value given as an argument). */
  precheck?(args: string[]): void;
  /** Runs the command; throws `UsageError`, `CliFailure` or a keyward error. */
  run?(ctx: CommandContext<V>): Promise<number>;
  /** The subcommands of a group, each a definition of its own. */
  subcommands?: readonly CommandDef[];
}

/** Declares a command (typed `values` for `run`); returns the definition. */
export function defineCommand<V = Record<string, unknown>>(def: CommandDef<V>): CommandDef {
  return def as unknown as CommandDef;
}

/** How {@linkcode runCommand} runs: what main hands down to every command. */
export interface RunOptions {
  /** The CLI's dependencies. @default {defaultDeps()} */
  deps?: CliDeps;
  /** The redactor the logging and the manager share. @default {a new Redactor} */
  redactor?: Redactor;
  /** The names of the enclosing groups (`["audit"]` for `audit verify`). */
  parents?: string[];
}

const HELP_FLAGS = new Set(["--help", "-h"]);

/** Runs `def` with `args` and returns the exit code; never throws. */
export async function runCommand(
  def: CommandDef,
  args: string[],
  io: CliIo,
  options: RunOptions = {},
): Promise<number> {
  const deps = options.deps ?? defaultDeps();
  const redactor = options.redactor ?? new Redactor();
  const path = [...(options.parents ?? []), def.name];
  // after `--` the arguments belong to another program (`secrets run -- <command>`)
  const json = (args.indexOf("--") < 0 ? args : args.slice(0, args.indexOf("--"))).includes(
    "--json",
  );
  const help = helpText(def, path);
  if (def.subcommands !== undefined) return await runGroup(def, args, io, deps, redactor, path);
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    def.precheck?.(args);
    ({ values, positionals } = parse(args, def.options ?? {}));
    if (values.help === true) {
      io.stdout(json ? toJson({ command: path.join(" "), usage: help }) : `${help}\n`);
      return 0;
    }
    const { min, max } = def.positionals ?? { min: 0, max: 0 };
    const n = positionals.length;
    if (n < min) throw new UsageError(`${path.join(" ")}: missing argument`);
    if (n > max) throw new UsageError(`${path.join(" ")}: too many arguments`);
    for (const [name, o] of Object.entries(def.options ?? {})) {
      if (o.required && values[name] === undefined) {
        throw new UsageError(`${path.join(" ")} needs --${name}`);
      }
    }
  } catch (err) {
    return reportError(err, io, json, help);
  }
  try {
    if (def.run === undefined) throw new Error("a command without run or subcommands");
    return await def.run({
      values,
      positionals,
      json,
      io,
      deps,
      redactor,
      withManager: (fn, env) =>
        withManagerOf(deps, env ? { ...io, env: { ...io.env, ...env } } : io, redactor, fn),
    });
  } catch (err) {
    return reportError(err, io, json, help);
  }
}

async function runGroup(
  def: CommandDef,
  args: string[],
  io: CliIo,
  deps: CliDeps,
  redactor: Redactor,
  path: string[],
): Promise<number> {
  const json = args.includes("--json");
  const help = helpText(def, path);
  const flags: string[] = [];
  let i = 0;
  for (; i < args.length && args[i].startsWith("-"); i++) {
    if (args[i] === "--json" || HELP_FLAGS.has(args[i])) {
      flags.push(args[i]);
      continue;
    }
    const shown = /^--?[A-Za-z0-9][A-Za-z0-9-]{0,39}$/.test(args[i]) ? ` ${args[i]}` : "";
    return reportError(new UsageError(`unknown option${shown}`), io, json, help);
  }
  const name = args[i];
  const wantsHelp = flags.some((f) => HELP_FLAGS.has(f));
  if (name === undefined || name === "help") {
    if (name === "help" || wantsHelp) {
      io.stdout(json ? toJson({ command: path.join(" "), usage: help }) : `${help}\n`);
      return 0;
    }
    return reportError(
      new UsageError(`no ${path.join(" ")} subcommand given`),
      io,
      json,
      help,
    );
  }
  const sub = def.subcommands!.find((s) => s.name === name);
  if (sub === undefined) {
    // The word is not repeated: it may be a value typed in the wrong place.
    return reportError(new UsageError(`unknown ${path.join(" ")} subcommand`), io, json, help);
  }
  return await runCommand(sub, [...args.slice(i + 1), ...flags], io, {
    deps,
    redactor,
    parents: path,
  });
}

async function withManagerOf<T>(
  deps: CliDeps,
  io: CliIo,
  redactor: Redactor,
  fn: (manager: SecretManager) => Promise<T>,
): Promise<T> {
  // Every value read or written is masked in what the CLI logs.
  const inner = await deps.createManager(io.env);
  const manager = withRedaction(inner, redactor);
  // Rotation steps reach the audit trail through the redaction wrapper too.
  exposeRotationRecorder(manager, inner);
  try {
    return await fn(manager);
  } finally {
    await manager.close();
  }
}

function parse(
  args: string[],
  options: Record<string, OptionDef>,
): { values: Record<string, unknown>; positionals: string[] } {
  const spec: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> =
    {};
  for (const [name, o] of Object.entries(options)) {
    spec[name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  try {
    return parseArgs({
      args,
      options: { ...spec, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
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

// ---- help, generated from the definition ----

/** The `--help` text of `def` (without a trailing newline). */
export function helpText(def: CommandDef, path: string[] = [def.name]): string {
  const full = `secrets ${path.join(" ")}`;
  const out: string[] = [];
  if (def.subcommands !== undefined) {
    out.push(`usage: ${full} <subcommand> [options]`);
    if (def.description) out.push("", def.description);
    const width = Math.max(...def.subcommands.map((s) => s.name.length));
    out.push("", "subcommands:");
    for (const s of def.subcommands) out.push(`  ${s.name.padEnd(width)}  ${s.summary}`);
    out.push(
      "",
      `Every subcommand takes --json and --help (${full} <subcommand> --help).`,
    );
  } else {
    const forms = def.forms ?? [generatedForm(def)];
    out.push(`usage: ${full} ${forms[0]}`.trimEnd());
    for (const f of forms.slice(1)) out.push(`       ${full} ${f}`.trimEnd());
    if (def.description) out.push("", def.description);
    out.push("", "options:", ...optionLines(def));
  }
  const exits = exitsLine(def);
  if (exits) out.push(exits);
  return out.join("\n");
}

function generatedForm(def: CommandDef): string {
  const parts: string[] = def.args ? [def.args] : [];
  for (const [name, o] of Object.entries(def.options ?? {})) {
    const text = o.type === "string" ? `--${name} ${o.arg ?? "v"}` : `--${name}`;
    parts.push(`${o.required ? text : `[${text}]`}${o.multiple ? "..." : ""}`);
  }
  parts.push("[--json]");
  return parts.join(" ");
}

function optionLines(def: CommandDef): string[] {
  const rows: [string, string][] = [];
  for (const [name, o] of Object.entries(def.options ?? {})) {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${
      o.type === "string" ? ` ${o.arg ?? "v"}` : ""
    }`;
    rows.push([flag, o.help]);
  }
  rows.push(["--json", def.jsonHelp ?? "print JSON"]);
  rows.push(["-h, --help", "show this help"]);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const lines: string[] = [];
  for (const [flag, text] of rows) {
    const [first, ...more] = text.split("\n");
    lines.push(`  ${flag.padEnd(width)}  ${first}`);
    for (const m of more) lines.push(`  ${"".padEnd(width)}  ${m}`);
  }
  return lines;
}

function exitsLine(def: CommandDef): string | undefined {
  if (def.exits === undefined) return undefined;
  const items = Object.entries(def.exits).map(([code, meaning], i, all) =>
    `${code} ${meaning}${i === all.length - 1 ? ";" : ","}`
  );
  items.push("the", "others", "as", "in", "secrets", "--help");
  return `\n${wrapItems("exit codes:", items)}`;
}

// ---- errors ----

/**
 * Prints an error as `error: <message>` (or a JSON object with `--json`) on
 * standard error and returns its exit code from the one table. keyward
 * errors hold no values by construction; anything else is shown by its
 * class name only.
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
  } else if (err instanceof CliFailure) {
    code = err.exit;
    message = err.message;
    exit = EXIT[err.exit];
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

// ---- small helpers commands share ----

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
