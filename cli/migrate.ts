/**
 * `secrets migrate --from <env-file>` (`deno task migrate`): moves the
 * secrets of a `.env` file into the configured backend, and `secrets
 * template <env-file>`: writes the `.env.template` that replaces it. Both
 * build on `config/env_import.ts`; neither prints, nor writes to a file, a
 * value classified as a secret, and neither edits the source file.
 *
 * @module
 */

import { parseDotenv } from "../core/_dotenv.ts";
import { KeywardError } from "../core/errors.ts";
import {
  type EnvMap,
  envTemplate,
  type ImportPlan,
  type ImportReport,
  type ImportRow,
  malformedEnvLines,
  planEnvImport,
  runEnvImport,
  type TemplateMarker,
  templateMarkers,
} from "../config/env_import.ts";
import {
  CliFailure,
  type CommandDef,
  defineCommand,
  stringOption,
  toJson,
  UsageError,
} from "./_command.ts";
import type { CliDeps } from "./_deps.ts";
import { EXIT } from "./_exit.ts";

/** Reads a file the user named; an unreadable one is a usage error naming the option, never its text. */
async function readNamed(deps: CliDeps, path: string, what: string): Promise<string> {
  try {
    return await deps.readTextFile(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? "does not exist"
      : err instanceof Deno.errors.PermissionDenied
      ? "is not readable (permission denied)"
      : "cannot be read";
    throw new UsageError(`${what} ${JSON.stringify(path)} ${why}`);
  }
}

/** Parses a map file (JSON, `EnvMap`); a malformed one is a usage error. */
export async function readMapFile(deps: CliDeps, path: string): Promise<EnvMap> {
  const text = await readNamed(deps, path, "the map file");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`the map file ${JSON.stringify(path)} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new UsageError(`the map file ${JSON.stringify(path)} must hold a JSON object`);
  }
  const map = parsed as Record<string, unknown>;
  for (const key of Object.keys(map)) {
    if (!["variables", "groups", "env"].includes(key)) {
      throw new UsageError(
        `the map file ${JSON.stringify(path)} has an unknown key ${JSON.stringify(key)} ` +
          "(known: variables, groups, env)",
      );
    }
  }
  return map as EnvMap;
}

function dirOf(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut < 0 ? "." : cut === 0 ? "/" : path.slice(0, cut);
}

interface Loaded {
  variables: Record<string, string>;
  text: string;
  plan: ImportPlan;
  markersFrom?: string;
}

/** Reads the env file, refuses malformed lines, reads the markers and the map, and plans. */
async function load(
  deps: CliDeps,
  from: string,
  opts: { map?: string; template?: string; only?: string },
): Promise<Loaded> {
  const text = await readNamed(deps, from, "the env file");
  const bad = malformedEnvLines(text);
  if (bad.length > 0) {
    const where = bad.map((p) => p.line === undefined ? p.message : `line ${p.line}: ${p.message}`);
    throw new UsageError(
      `the env file ${JSON.stringify(from)} is malformed (nothing was written): ${
        where.join("; ")
      }`,
    );
  }
  const variables = parseDotenv(text);
  const map = opts.map === undefined ? undefined : await readMapFile(deps, opts.map);
  let markers: Record<string, TemplateMarker> | undefined;
  let markersFrom: string | undefined;
  if (opts.template !== undefined) {
    markers = templateMarkers(await readNamed(deps, opts.template, "the template"));
    markersFrom = opts.template;
  } else {
    const beside = `${dirOf(from)}/.env.template`;
    try {
      markers = templateMarkers(await deps.readTextFile(beside));
      markersFrom = beside;
    } catch {
      // no template next to the file: the rules decide
    }
  }
  const plan = planEnvImport(variables, {
    ...(map ? { map } : {}),
    ...(markers ? { markers } : {}),
    ...(opts.only !== undefined ? { only: opts.only } : {}),
  });
  return { variables, text, plan, ...(markersFrom ? { markersFrom } : {}) };
}

/** The 1-based line where `variable` is assigned in `text`. */
function lineOf(text: string, variable: string): number | undefined {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const re = new RegExp(`^\\s*(?:export\\s+)?${variable.replace(/[.]/g, "\\.")}\\s*[=:]`);
  const i = lines.findIndex((l) => re.test(l));
  return i < 0 ? undefined : i + 1;
}

function table(rows: ImportRow[]): string {
  const head = ["NAME", "ACTION", "FROM", "DETAIL"];
  const cells = rows.map((r) => [
    r.name,
    r.action,
    r.from.join(","),
    [r.version ? `version ${r.version}` : "", r.code ?? "", r.detail ?? ""].filter((x) => x)
      .join("; "),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  return [head, ...cells].map((c) => c.map((x, i) => x.padEnd(widths[i])).join("  ").trimEnd())
    .join("\n");
}

const NEXT_STEPS = [
  "Check the table: every secret created, updated or unchanged; resolve each conflict and failure.",
  "Keep the settings above in the service's environment (deno task secrets template <env-file> writes a .env.template).",
  "Switch the service to the backend with SECRET_FALLBACK=env for the migration window, and watch deno task secrets check --names <list>.",
  "When secrets check reports nothing served by the fallback: turn the fallback off, git rm the .env file, and keep .env in .gitignore.",
];

/** `migrate --from <env-file> [--namespace ns] [--only prefix] [--map file] [--template file] [--dry-run] [--overwrite]`. */
export const migrateCommand: CommandDef = defineCommand({
  name: "migrate",
  summary: "move the secrets of a .env file into the configured backend",
  description: `Reads the .env file, classifies each variable as a secret or a setting (names
such as *_PASSWORD, *_TOKEN, *_API_KEY, URLs with a password, credential-like
*_KEY values), groups credential pairs into one secret with fields
(ALPACA_API_KEY_ID + ALPACA_API_SECRET_KEY -> alpaca/api_key {key_id,
secret_key}; a postgres DATABASE_URL -> database/app {username, password}),
writes each secret to the backend the environment configures, reads it back
and compares by hash. The markers of a .env.template next to the file (or
--template) win over the rules; a --map file (JSON: variables, groups) overrides
them. Idempotent: an equal value is left unchanged; a different one is a
conflict unless --overwrite. The source file is never edited. No value is
printed.`,
  options: {
    from: { type: "string", arg: "FILE", required: true, help: "the .env file to import" },
    namespace: {
      type: "string",
      arg: "ns",
      help: "write under this namespace (instead of SECRET_NAMESPACE)",
    },
    only: { type: "string", arg: "prefix", help: "only secrets whose name starts with prefix" },
    map: {
      type: "string",
      arg: "FILE",
      help: "a JSON map file: per-variable overrides and grouping rules",
    },
    template: { type: "string", arg: "FILE", help: "read the markers from this .env.template" },
    "dry-run": { type: "boolean", help: "compare only; write nothing" },
    overwrite: {
      type: "boolean",
      help: "replace an existing different value (otherwise a conflict)",
    },
  },
  jsonHelp: "print the rows, settings and next steps as JSON",
  exits: { 10: "some secrets failed or conflict" },
  async run({ values, json, io, deps, withManager }) {
    const from = stringOption(values, "from")!;
    const namespace = stringOption(values, "namespace");
    const only = stringOption(values, "only");
    const dryRun = values["dry-run"] === true;
    const loaded = await load(deps, from, {
      map: stringOption(values, "map"),
      template: stringOption(values, "template"),
      only,
    });
    const { plan } = loaded;
    const problemRows: ImportRow[] = plan.problems.map((p) => {
      const line = p.line ?? (p.variable ? lineOf(loaded.text, p.variable) : undefined);
      return {
        name: p.variable ?? "?",
        action: "failed",
        from: p.variable ? [p.variable] : [],
        code: "config",
        detail: `${line !== undefined ? `line ${line}: ` : ""}${p.message}`,
      };
    });
    const progress = io.stderrIsTerminal === true && !json;
    let report: ImportReport;
    try {
      report = await withManager(
        (manager) =>
          runEnvImport(manager, plan, {
            dryRun,
            overwrite: values.overwrite === true,
            ...(progress
              ? {
                onProgress: (done: number, total: number) =>
                  io.stderr(`\rmigrate: ${done}/${total} secrets${done === total ? "\n" : ""}`),
              }
              : {}),
          }),
        // The fallback is off for the migration itself: a value the environment
        // serves must not pass for one the backend already holds.
        {
          SECRET_FALLBACK: "",
          ...(namespace !== undefined ? { SECRET_NAMESPACE: namespace } : {}),
        },
      );
    } catch (err) {
      // the manager could not be built or a non-keyward error: nothing was written
      if (err instanceof KeywardError) {
        io.stderr("migrate: nothing was written\n");
      }
      throw err;
    }
    const rows = [...report.rows, ...problemRows];
    const keep = plan.settings.flatMap((s) => s.keep ?? []);
    const bad = rows.filter((r) => r.action === "failed" || r.action === "conflict");
    const written = report.rows.filter((r) => r.action === "created" || r.action === "updated");
    if (json) {
      io.stdout(toJson({
        from,
        ...(namespace !== undefined ? { namespace } : {}),
        dryRun,
        ...(loaded.markersFrom ? { markersFrom: loaded.markersFrom } : {}),
        rows,
        settingsToKeep: keep,
        written: written.map((r) => r.name),
        ...(report.aborted ? { aborted: report.aborted } : {}),
        nextSteps: NEXT_STEPS,
      }));
    } else {
      const out: string[] = [];
      if (dryRun) out.push("dry run: nothing is written", "");
      if (loaded.markersFrom) out.push(`markers from ${loaded.markersFrom}`, "");
      out.push(table(rows), "");
      const changed = report.rows.filter((r) =>
        r.action !== "skipped-setting" && r.action !== "unchanged"
      );
      if (!dryRun && changed.length === 0 && bad.length === 0) {
        out.push("nothing changed: the backend already holds every secret of this file", "");
      }
      if (keep.length > 0) {
        out.push(
          "settings to keep in the environment:",
          ...keep.map((k) => `  ${k}`),
          "",
        );
      }
      if (report.aborted) {
        out.push(
          `stopped early: the backend failed (${report.aborted.code}: ${report.aborted.message})`,
          written.length === 0
            ? "written before it stopped: nothing"
            : `written before it stopped: ${written.map((r) => r.name).join(", ")}`,
          "",
        );
      }
      out.push("next steps:", ...NEXT_STEPS.map((s, i) => `  ${i + 1}. ${s}`));
      io.stdout(`${out.join("\n")}\n`);
    }
    // An unreachable or denying backend stopped the run: exit 4 (access).
    if (report.aborted) return EXIT.access;
    return bad.length > 0 ? EXIT.partial : 0;
  },
});

/** `template <env-file> [--out FILE] [--map file]`. */
export const templateCommand: CommandDef = defineCommand({
  name: "template",
  summary: "write the .env.template of a .env file (settings kept, secrets as placeholders)",
  args: "<env-file>",
  description: `Prints (or writes with --out) a .env.template for the file: settings keep their
values; every secret-looking or bootstrap variable becomes a <secret>
placeholder under a comment naming the secret it now lives in
(# ALPACA_API_KEY_ID -> alpaca/api_key field key_id). It never writes a value
it classified as a secret, and never edits the env file.`,
  options: {
    out: {
      type: "string",
      arg: "FILE",
      help: "write the template to FILE instead of standard output",
    },
    map: { type: "string", arg: "FILE", help: "a JSON map file, as for migrate" },
  },
  jsonHelp: "print the template and where it went as JSON",
  positionals: { min: 1, max: 1 },
  async run({ values, positionals, json, io, deps }) {
    const from = positionals[0];
    const loaded = await load(deps, from, { map: stringOption(values, "map") });
    const text = envTemplate(loaded.variables, loaded.plan);
    const out = stringOption(values, "out");
    if (out !== undefined) {
      if (out === from) throw new UsageError("--out names the env file itself; it is never edited");
      try {
        await deps.writeTextFile(out, text);
      } catch {
        throw new CliFailure("write", `the template cannot be written to ${JSON.stringify(out)}`);
      }
    }
    if (json) {
      io.stdout(toJson({ from, ...(out !== undefined ? { out } : { template: text }) }));
    } else {
      io.stdout(out !== undefined ? `wrote ${out}\n` : text);
    }
    return 0;
  },
});

/** For tests: the next steps migrate prints. */
export const MIGRATE_NEXT_STEPS: readonly string[] = NEXT_STEPS;
