/**
 * `secrets run [--prefix p] [--map file] -- <command> [args]`: starts the
 * command with the selected secrets as environment variables
 * (`config/run_env.ts` `buildRunEnv`). The child's standard output and
 * error pass through the redactor, registered with every value handed
 * over; SIGINT and SIGTERM are forwarded; the exit code is the child's.
 *
 * @module
 */

import { buildRunEnv } from "../config/run_env.ts";
import type { Redactor } from "../redact/redactor.ts";
import { type CommandDef, defineCommand, stringOption, UsageError } from "./_command.ts";
import { readMapFile } from "./migrate.ts";

/** Longest tail kept back when a line grows past the buffer limit (a value may straddle it). */
const TAIL = 4096;
const LIMIT = 64 * 1024;

/**
 * Copies `stream` to `write` through the redactor, a line at a time (a value
 * split across two reads is still found); a line longer than 64 KiB is
 * flushed in pieces, holding back a tail in which a value may straddle.
 */
export async function pipeRedacted(
  stream: ReadableStream<Uint8Array>,
  write: (text: string) => void,
  redactor: Redactor,
): Promise<void> {
  const decoder = new TextDecoder();
  let pending = "";
  const flush = (final: boolean) => {
    const cut = pending.lastIndexOf("\n");
    if (cut >= 0) {
      write(redactor.redact(pending.slice(0, cut + 1)));
      pending = pending.slice(cut + 1);
    }
    if (final) {
      if (pending !== "") write(redactor.redact(pending));
      pending = "";
    } else if (pending.length > LIMIT) {
      // redact the whole buffer, then emit all but a tail that may hold a value's start
      const redacted = redactor.redact(pending);
      write(redacted.slice(0, redacted.length - TAIL));
      pending = redacted.slice(redacted.length - TAIL);
    }
  };
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    flush(false);
  }
  pending += decoder.decode();
  flush(true);
}

/** `run [--prefix p] [--map file] -- <command> [args]`. */
export const runCommandDef: CommandDef = defineCommand({
  name: "run",
  summary: "run a command with secrets as environment variables, its output redacted",
  args: "-- <command> [args]",
  forms: ["[--prefix p] [--map FILE] -- <command> [args]"],
  description: `Reads the secrets under --prefix (test/alpaca/api_key_id with --prefix test/
-> ALPACA_API_KEY_ID; a secret with fields is handed over as its JSON text)
and the variables the --map file builds from templates over a secret's fields
("env": {"DATABASE_URL": {"secret": "test/database/app", "template":
"postgres://{username}:{password}@127.0.0.1:5432/app"}}, each field
percent-encoded), and runs the command with them added to the environment.
The command's standard output and error pass through the redactor: any value
handed over prints as [REDACTED:name]. SIGINT and SIGTERM are forwarded to
it; the exit code is the command's.`,
  options: {
    prefix: { type: "string", arg: "p", help: "hand over every secret under this prefix" },
    map: { type: "string", arg: "FILE", help: "a JSON map file whose env entries build variables" },
  },
  jsonHelp: "errors as JSON (the command's own output is passed through)",
  positionals: { min: 1, max: Number.POSITIVE_INFINITY },
  async run({ values, positionals, io, deps, redactor, withManager }) {
    const prefix = stringOption(values, "prefix");
    const mapPath = stringOption(values, "map");
    if (prefix === undefined && mapPath === undefined) {
      throw new UsageError("run needs --prefix or --map: which secrets to hand over");
    }
    const map = mapPath === undefined ? undefined : await readMapFile(deps, mapPath);
    const [command, ...args] = positionals;
    const built = await withManager((manager) =>
      buildRunEnv(manager, {
        ...(prefix !== undefined ? { prefix } : {}),
        ...(map !== undefined ? { map } : {}),
      })
    );
    // every value handed over, and each field of it, is masked in the output
    for (const [name, value] of Object.entries(built.env)) redactor.register(name, value);
    for (const value of built.values) redactor.register("secrets run", value);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(io.env)) if (v !== undefined) env[k] = v;
    Object.assign(env, built.env);
    let child;
    try {
      child = deps.spawn(command, args, env);
    } catch (err) {
      const missing = err instanceof Deno.errors.NotFound;
      throw new UsageError(
        missing ? `command not found: ${JSON.stringify(command)}` : "the command cannot be started",
      );
    }
    const forward = (signal: "SIGINT" | "SIGTERM") => () => child.kill(signal);
    const handlers: ["SIGINT" | "SIGTERM", () => void][] = [
      ["SIGINT", forward("SIGINT")],
      ["SIGTERM", forward("SIGTERM")],
    ];
    for (const [s, h] of handlers) deps.addSignalListener(s, h);
    try {
      const [status] = await Promise.all([
        child.status,
        pipeRedacted(child.stdout, io.stdout, redactor),
        pipeRedacted(child.stderr, io.stderr, redactor),
      ]);
      return status.code;
    } finally {
      for (const [s, h] of handlers) deps.removeSignalListener(s, h);
    }
  },
});
