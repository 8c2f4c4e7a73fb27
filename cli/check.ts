/**
 * `secrets check --names <file or list>`: every secret a service declares
 * exists and is readable with the current credentials. Reports failures by
 * name and error code, never a value, and the names still served by the
 * `SECRET_FALLBACK=env` fallback (read with the fallback off, then from the
 * environment).
 *
 * @module
 */

import { KeywardError, SecretNotFoundError } from "../core/errors.ts";
import { nameProblem } from "../core/names.ts";
import { rawSetting } from "../settings/parse.ts";
import { type CommandDef, defineCommand, stringOption, toJson, UsageError } from "./_command.ts";
import type { CliDeps } from "./_deps.ts";
import { EXIT } from "./_exit.ts";

/** One checked name. */
interface CheckRow {
  name: string;
  status: "ok" | "fallback" | "failed";
  version?: string;
  code?: string;
  message?: string;
}

/** The names of `--names`: a file (one name a line or comma-separated, `#` comments) or a comma list. */
async function namesOf(deps: CliDeps, spec: string): Promise<string[]> {
  let text = spec;
  try {
    text = await deps.readTextFile(spec);
  } catch {
    if (!spec.includes(",") && /\.(txt|list|names)$/.test(spec)) {
      throw new UsageError(`the names file ${JSON.stringify(spec)} cannot be read`);
    }
  }
  const names = text.split("\n")
    .map((l) => l.replace(/#.*$/, ""))
    .flatMap((l) => l.split(","))
    .map((n) => n.trim())
    .filter((n) => n !== "");
  if (names.length === 0) throw new UsageError("--names holds no name");
  for (const n of names) {
    const problem = nameProblem(n);
    if (problem !== undefined) throw new UsageError(`--names holds an invalid name: ${problem}`);
  }
  return [...new Set(names)];
}

/** `check --names <file or list>`. */
export const checkCommand: CommandDef = defineCommand({
  name: "check",
  summary: "check that declared secrets exist and are readable; list those served by the fallback",
  description: `Reads every named secret with the current credentials and reports each that is
missing or unreadable by name and error code (never a value). With
SECRET_FALLBACK=env, a name the backend does not hold but the environment
does is listed as served by the fallback: move it into the backend
(deno task migrate) before turning the fallback off.`,
  options: {
    names: {
      type: "string",
      arg: "FILE|a,b",
      required: true,
      help: "a file of names (one a line, or comma-separated) or a comma list",
    },
  },
  jsonHelp: "print one row per name as JSON",
  exits: { 10: "some secrets are missing or unreadable" },
  async run({ values, json, io, deps, withManager }) {
    const names = await namesOf(deps, stringOption(values, "names")!);
    const fallback = rawSetting(io.env, "SECRET_FALLBACK") === "env";
    const rows: CheckRow[] = [];
    // With the fallback on, the backend is read on its own first, so a name
    // only the environment serves shows as such.
    await withManager(async (manager) => {
      for (const name of names) {
        try {
          const read = await manager.readSecret(name);
          rows.push({ name, status: "ok", version: read.version });
        } catch (err) {
          if (!(err instanceof KeywardError)) throw err;
          rows.push({ name, status: "failed", code: err.code, message: err.message });
        }
      }
    }, fallback ? { SECRET_FALLBACK: "" } : undefined);
    const missing = rows.filter((r) => r.status === "failed" && r.code === "not_found");
    if (fallback && missing.length > 0) {
      await withManager(async (env) => {
        for (const row of missing) {
          try {
            await env.readSecret(row.name);
            row.status = "fallback";
            delete row.code;
            row.message = "not in the backend; served from the environment by SECRET_FALLBACK=env";
          } catch (err) {
            if (!(err instanceof SecretNotFoundError)) throw err;
          }
        }
      }, { SECRET_BACKEND: "env", SECRET_FALLBACK: "" });
    }
    const failed = rows.filter((r) => r.status === "failed");
    const served = rows.filter((r) => r.status === "fallback");
    if (json) {
      io.stdout(toJson({
        ok: failed.length === 0,
        rows,
        failed: failed.map((r) => r.name),
        servedByFallback: served.map((r) => r.name),
      }));
    } else {
      const width = Math.max(...rows.map((r) => r.name.length));
      for (const r of rows) {
        const detail = r.status === "ok"
          ? `version ${r.version}`
          : r.status === "fallback"
          ? r.message
          : `${r.code}: ${r.message}`;
        io.stdout(`${r.name.padEnd(width)}  ${r.status.padEnd(8)}  ${detail}\n`);
      }
      io.stdout(
        `${rows.length - failed.length} of ${rows.length} readable` +
          (served.length > 0 ? `; ${served.length} still served by the fallback` : "") + "\n",
      );
    }
    return failed.length > 0 ? EXIT.partial : 0;
  },
});
