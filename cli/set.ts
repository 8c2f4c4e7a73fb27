/**
 * `secrets set <name>`: writes a new version. The value comes from standard
 * input or a hidden prompt, never from an argument: arguments stay in shell
 * history and are visible to every user in the process list.
 *
 * @module
 */

import { InvalidSecretValueError } from "../core/errors.ts";
import { validateName } from "../core/names.ts";
import type { SecretValue, WriteOptions } from "../core/types.ts";
import {
  type CommandDef,
  defineCommand,
  promptTwice,
  stringOption,
  toJson,
  UsageError,
} from "./_command.ts";
import type { CliIo } from "./_io.ts";
import { parseStage } from "./_stage.ts";
import { InvalidUtf8Error, readStdinStrict } from "./_stdin.ts";

const REFUSAL = "set does not take the value as an argument: arguments are kept in shell " +
  "history and shown to every user in the process list. Pipe the value on standard input " +
  "(printf '%s' \"$VALUE\" | secrets set <name>) or run it in a terminal and type it at " +
  "the hidden prompt";

/** `set <name> [--field f]... [--stage current|pending] [--if-version v]`. */
export const setCommand: CommandDef = defineCommand({
  name: "set",
  summary: "write a new version from standard input or a hidden prompt",
  args: "<name>",
  description: `Writes a new version of <name>. The value is read from standard input (one
trailing newline is dropped; it must be UTF-8) or, on a terminal, typed twice
at a hidden prompt. It is never taken from an argument.

With --field (repeat it for each field), the secret holds fields that change
together, e.g. --field user --field password. Standard input then holds one
field=value line per named field (split at the first '='; blank lines are
skipped); on a terminal each field is prompted for.`,
  options: {
    field: { type: "string", multiple: true, arg: "f", help: "a field of the secret (repeatable)" },
    stage: {
      type: "string",
      arg: "current|pending",
      help: "current (default) or pending (a rotation's next version;\nthe secret must exist)",
    },
    "if-version": { type: "string", help: "refuse the write unless the current version is v" },
  },
  jsonHelp: "print the new version as JSON",
  // Any extra positional is taken for a value and refused in precheck/run.
  positionals: { min: 1, max: Number.POSITIVE_INFINITY },
  precheck(args) {
    if (args.some((a) => /^--?value(=|$)/.test(a))) throw new UsageError(REFUSAL);
  },
  async run({ values, positionals, json, io, withManager }) {
    if (positionals.length > 1) throw new UsageError(REFUSAL);
    const name = positionals[0];
    validateName(name); // before any prompt shows it: a value pasted as a name is never echoed
    const opts: WriteOptions = {};
    const stage = parseStage(stringOption(values, "stage"), ["current", "pending"]);
    if (stage !== undefined) opts.stage = stage;
    const ifVersion = stringOption(values, "if-version");
    if (ifVersion !== undefined) opts.ifVersion = ifVersion;
    const fields = (values.field as string[] | undefined) ?? [];
    const seen = new Set<string>();
    for (const f of fields) {
      if (seen.has(f)) throw new UsageError(`--field ${f} is given twice`);
      seen.add(f);
    }
    const value = fields.length === 0
      ? await readValue(name, io)
      : await readFields(name, fields, io);
    const version = await withManager((m) => m.setSecret(name, value, opts));
    io.stdout(
      json
        ? toJson(version)
        : `set ${name}: version ${version.version} (${version.stages.join(", ") || "no stage"})\n`,
    );
    return 0;
  },
});

async function readValue(name: string, io: CliIo): Promise<string> {
  if (io.stdinIsTerminal) return await promptTwice(io, `value of ${name} (hidden): `);
  const text = dropTrailingNewline(await readInput(name, io));
  if (text === "") {
    throw new InvalidSecretValueError(
      { secret: name },
      "standard input was empty; pipe the value in or run in a terminal to be prompted",
    );
  }
  return text;
}

async function readFields(name: string, fields: string[], io: CliIo): Promise<SecretValue> {
  const record: Record<string, string> = {};
  if (io.stdinIsTerminal) {
    for (const field of fields) {
      record[field] = await promptTwice(io, `field ${field} of ${name} (hidden): `);
    }
    return record;
  }
  const wanted = new Set(fields);
  const lines = (await readInput(name, io)).split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith("\r") ? lines[i].slice(0, -1) : lines[i];
    if (line.trim() === "") continue;
    const cut = line.indexOf("=");
    if (cut <= 0) {
      throw new InvalidSecretValueError(
        { secret: name },
        `line ${i + 1} of standard input is not a field=value line`,
      );
    }
    const field = line.slice(0, cut).trim();
    if (!wanted.has(field)) {
      throw new InvalidSecretValueError(
        { secret: name },
        `line ${i + 1} of standard input sets a field not named with --field`,
      );
    }
    if (field in record) {
      throw new InvalidSecretValueError(
        { secret: name, field },
        `standard input sets this field twice`,
      );
    }
    record[field] = line.slice(cut + 1);
  }
  for (const field of fields) {
    if (!(field in record)) {
      throw new InvalidSecretValueError(
        { secret: name, field },
        "standard input has no field=value line for this field",
      );
    }
  }
  return record;
}

/** Standard input as text; bytes that are not UTF-8 are refused, never replaced. */
async function readInput(name: string, io: CliIo): Promise<string> {
  try {
    return await readStdinStrict(io);
  } catch (err) {
    if (err instanceof InvalidUtf8Error) {
      throw new InvalidSecretValueError({ secret: name }, err.message);
    }
    throw err;
  }
}

function dropTrailingNewline(text: string): string {
  if (text.endsWith("\r\n")) return text.slice(0, -2);
  if (text.endsWith("\n")) return text.slice(0, -1);
  return text;
}
