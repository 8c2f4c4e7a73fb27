/**
 * Moving a `.env` file into a secret manager: which variables are secrets,
 * which names and fields they go to (credential pairs grouped into one
 * secret), and the write-read-compare run that `deno task migrate` prints.
 * Values are compared by hash and never printed.
 *
 * @module
 */

import { KeywardError, SecretNotFoundError } from "../core/errors.ts";
import { nameProblem } from "../core/names.ts";
import type { SecretManager, SecretValue } from "../core/types.ts";
import { nameForEnvKey } from "../backends/env.ts";
import { classifyVariable } from "./classify.ts";

/**
 * A rule that groups several variables into one secret with fields, so no
 * reader ever sees half of a credential pair. `fields` maps each field to the
 * variables that may hold it, first present wins.
 *
 * @example
 * ```ts
 * import type { GroupRule } from "@keyward/secrets/config";
 * const broker: GroupRule = {
 *   secret: "alpaca/api_key",
 *   fields: { key_id: ["ALPACA_API_KEY_ID"], secret_key: ["ALPACA_API_SECRET_KEY", "ALPACA_API_SECRET"] },
 * };
 * if (broker.fields.secret_key.length !== 2) throw new Error();
 * ```
 */
export interface GroupRule {
  /** The secret the group becomes. */
  secret: string;
  /** Field -> the variables that may hold it. */
  fields: Record<string, string[]>;
}

/**
 * The map file of `deno task migrate --map` and `secrets run --map` (JSON):
 * per-variable overrides, grouping rules, and for `secrets run` variables
 * built from templates over a secret's fields.
 *
 * @example
 * ```ts
 * import type { EnvMap } from "@keyward/secrets/config";
 * const map: EnvMap = {
 *   variables: { SORT_KEY: "setting", LEGACY_PW: { secret: "legacy/app", field: "password" } },
 *   env: {
 *     DATABASE_URL: { secret: "database/app", template: "postgres://{username}:{password}@127.0.0.1:5432/app" },
 *   },
 * };
 * if (map.variables?.SORT_KEY !== "setting") throw new Error();
 * ```
 */
export interface EnvMap {
  /** A variable forced to be a setting, a secret (default name), or a secret of this name (and field). */
  variables?: Record<string, "setting" | "secret" | { secret: string; field?: string }>;
  /** Extra grouping rules, tried before the built-in ones. */
  groups?: GroupRule[];
  /**
   * `secrets run`: variable -> a template over one secret's fields, each
   * field percent-encoded (`{ secret: "database/app", template:
   * "postgres://{username}:{password}@127.0.0.1:5432/app" }`).
   */
  env?: Record<string, { secret: string; template: string }>;
}

/**
 * The built-in grouping rules: the broker key pair.
 *
 * @example
 * ```ts
 * import { DEFAULT_GROUPS } from "@keyward/secrets/config";
 * if (DEFAULT_GROUPS[0].secret !== "alpaca/api_key") throw new Error();
 * ```
 */
export const DEFAULT_GROUPS: readonly GroupRule[] = [
  {
    secret: "alpaca/api_key",
    fields: {
      key_id: ["ALPACA_API_KEY_ID"],
      secret_key: ["ALPACA_API_SECRET_KEY", "ALPACA_API_SECRET"],
    },
  },
];

const PG_SCHEME = /^postgres(?:ql)?(?:\+[a-z0-9]+)?:\/\//i;

/**
 * One secret the import writes: its name, its value (one string, or fields)
 * and the variables it comes from.
 *
 * @example
 * ```ts
 * import type { PlannedSecret } from "@keyward/secrets/config";
 * const s: PlannedSecret = { name: "webhook/secret", value: "x", from: { value: "WEBHOOK_SECRET" } };
 * if (s.from.value !== "WEBHOOK_SECRET") throw new Error();
 * ```
 */
export interface PlannedSecret {
  /** The secret's name. */
  name: string;
  /** The value to write. */
  value: SecretValue;
  /** Field (or `value`) -> the variable it came from. */
  from: Record<string, string>;
}

/**
 * One variable the import leaves in the environment, and why.
 *
 * @example
 * ```ts
 * import type { PlannedSetting } from "@keyward/secrets/config";
 * const s: PlannedSetting = { variable: "PORT", reason: "a setting", keep: ["PORT=8080"] };
 * if (s.keep?.[0] !== "PORT=8080") throw new Error();
 * ```
 */
export interface PlannedSetting {
  /** The variable. */
  variable: string;
  /** Why it stays a setting (or what it became). */
  reason: string;
  /** Setting lines to keep (`NAME=value`, never a secret). */
  keep?: string[];
}

/**
 * A variable the import cannot place, with its line when known.
 *
 * @example
 * ```ts
 * import type { ImportProblem } from "@keyward/secrets/config";
 * const p: ImportProblem = { variable: "9BAD", line: 3, message: "maps to no valid name" };
 * if (p.line !== 3) throw new Error();
 * ```
 */
export interface ImportProblem {
  /** The variable, when the problem is about one. */
  variable?: string;
  /** The 1-based line of the `.env` file. */
  line?: number;
  /** What is wrong, never quoting a value. */
  message: string;
}

/**
 * What an import would do.
 *
 * @example
 * ```ts
 * import { planEnvImport } from "@keyward/secrets/config";
 * const plan = planEnvImport({ PORT: "8080", WEBHOOK_SECRET: "whsec-0123456789" });
 * if (plan.secrets[0].name !== "webhook/secret" || plan.settings[0].variable !== "PORT") throw new Error();
 * ```
 */
export interface ImportPlan {
  /** The secrets to write, sorted by name. */
  secrets: PlannedSecret[];
  /** The variables that stay settings, sorted. */
  settings: PlannedSetting[];
  /** Variables that cannot be placed. */
  problems: ImportProblem[];
}

/**
 * Options of {@linkcode planEnvImport}.
 *
 * @example
 * ```ts
 * import { planEnvImport, type PlanOptions } from "@keyward/secrets/config";
 * const options: PlanOptions = { only: "alpaca/" };
 * const plan = planEnvImport({ WEBHOOK_SECRET: "whsec-0123456789" }, options);
 * if (plan.secrets.length !== 0) throw new Error();
 * ```
 */
export interface PlanOptions {
  /** Overrides and extra grouping rules. */
  map?: EnvMap;
  /** Markers read from an existing `.env.template` ({@linkcode templateMarkers}); they win over the rules. */
  markers?: Record<string, TemplateMarker>;
  /** Only secrets whose name starts with this prefix. */
  only?: string;
}

/**
 * What an `.env.template` says of one variable: a setting, or a secret (with
 * the name and field it maps to, when the template says).
 *
 * @example
 * ```ts
 * import type { TemplateMarker } from "@keyward/secrets/config";
 * const m: TemplateMarker = { kind: "secret", secret: "alpaca/api_key", field: "key_id" };
 * if (m.kind !== "secret") throw new Error();
 * ```
 */
export interface TemplateMarker {
  /** What the template marks it as. */
  kind: "secret" | "setting";
  /** The secret it maps to. */
  secret?: string;
  /** The field of that secret. */
  field?: string;
}

const MARKER = /^#\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*->\s*([^\s]+)(?:\s+field\s+([^\s]+))?\s*$/;
const PLACEHOLDER = /^<[^<>]*>$/;

/**
 * Reads the markers of an `.env.template` in the form `secrets template`
 * writes: a comment `# NAME -> secret/name [field f]` marks NAME a secret;
 * any other variable with a value that is not a `<placeholder>` is a setting.
 *
 * @example
 * ```ts
 * import { templateMarkers } from "@keyward/secrets/config";
 * const m = templateMarkers("# DB_PW -> database/app field password\nDB_PW=<secret>\nPORT=8080\n");
 * if (m.DB_PW.secret !== "database/app" || m.PORT.kind !== "setting") throw new Error();
 * ```
 */
export function templateMarkers(text: string): Record<string, TemplateMarker> {
  const out: Record<string, TemplateMarker> = {};
  for (const raw of text.replace(/\r\n?/g, "\n").split("\n")) {
    const line = raw.trim();
    const marker = MARKER.exec(line);
    if (marker) {
      out[marker[1]] = {
        kind: "secret",
        secret: marker[2],
        ...(marker[3] ? { field: marker[3] } : {}),
      };
      continue;
    }
    const assign = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (assign && !out[assign[1]]) {
      const value = assign[2].trim();
      if (value !== "" && !PLACEHOLDER.test(value)) out[assign[1]] = { kind: "setting" };
    }
  }
  return out;
}

/**
 * Finds the lines of a `.env` text that are neither blank, a comment, nor
 * an assignment (inside a quoted value spanning lines nothing is checked).
 *
 * @example
 * ```ts
 * import { malformedEnvLines } from "@keyward/secrets/config";
 * const bad = malformedEnvLines("A=1\nthis is not an assignment\nB=\"two\nlines\"\n");
 * if (bad.length !== 1 || bad[0].line !== 2) throw new Error();
 * ```
 */
export function malformedEnvLines(text: string): ImportProblem[] {
  const lines = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n").split("\n");
  const problems: ImportProblem[] = [];
  let open: string | undefined;
  lines.forEach((line, index) => {
    if (open !== undefined) {
      if (line.includes(open)) open = undefined;
      return;
    }
    const t = line.trim();
    if (t === "" || t.startsWith("#")) return;
    const m = /^(?:export\s+)?[A-Za-z0-9_.-]+\s*[=:]\s?(.*)$/.exec(t);
    if (!m) {
      problems.push({ line: index + 1, message: "not a KEY=VALUE line" });
      return;
    }
    const value = m[1].trimStart();
    const q = value[0];
    if ((q === '"' || q === "'" || q === "`") && value.indexOf(q, 1) === -1) open = q;
  });
  if (open !== undefined) {
    problems.push({ message: "a quoted value is not closed before the end of the file" });
  }
  return problems;
}

interface Credential {
  username: string;
  password: string;
  host: string;
  port: string;
  database: string;
}

/** Splits a Postgres URL, tolerating unencoded '/', '#', '?' and '@' in the password. */
function splitPostgresUrl(value: string): Credential | undefined {
  const m =
    /^[a-z0-9+.]+:\/\/([^:@/]*):(.*)@([^@/?#:]+|\[[^\]]+\])(?::(\d+))?(?:\/([^?#]*))?(?:[?#].*)?$/i
      .exec(value.trim());
  if (!m || m[1] === "" || m[2] === "") return undefined;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  return {
    username: decode(m[1]),
    password: decode(m[2]),
    host: m[3],
    port: m[4] ?? "5432",
    database: decode(m[5] ?? ""),
  };
}

/**
 * Plans the import of `.env` variables: classifies each (the rules of
 * `classifyVariable`, overridden by the map file, template markers winning
 * over both), groups credential pairs into one secret with fields (the
 * broker pair -> `alpaca/api_key` {`key_id`, `secret_key`}; a Postgres
 * `DATABASE_URL` with credentials -> `database/app` {`username`,
 * `password`}, its host, port and database kept as settings) and names the
 * rest by the env mapping (`WEBHOOK_SECRET` -> `webhook/secret`).
 *
 * @example
 * ```ts
 * import { planEnvImport } from "@keyward/secrets/config";
 *
 * const plan = planEnvImport({
 *   ALPACA_API_KEY_ID: "PKTEST0000000000",
 *   ALPACA_API_SECRET_KEY: "secret-0123456789abcdef",
 *   DATABASE_URL: "postgresql://app:pw-0123@db.internal:5433/orders",
 *   PORT: "8080",
 * });
 * const names = plan.secrets.map((s) => s.name).join();
 * if (names !== "alpaca/api_key,database/app") throw new Error(names);
 * const keep = plan.settings.flatMap((s) => s.keep ?? []);
 * if (!keep.includes("DATABASE_HOST=db.internal") || !keep.includes("PORT=8080")) throw new Error(keep.join());
 * ```
 */
export function planEnvImport(
  variables: Record<string, string>,
  options: PlanOptions = {},
): ImportPlan {
  const map = options.map ?? {};
  const markers = options.markers ?? {};
  const secrets = new Map<string, PlannedSecret>();
  const settings: PlannedSetting[] = [];
  const problems: ImportProblem[] = [];
  const used = new Set<string>();

  const add = (name: string, field: string, variable: string, value: string) => {
    const problem = nameProblem(name);
    if (problem !== undefined) {
      problems.push({ variable, message: `maps to an invalid secret name: ${problem}` });
      return;
    }
    const entry: PlannedSecret = secrets.get(name) ?? { name, value: {}, from: {} };
    (entry.value as Record<string, string>)[field] = value;
    entry.from[field] = variable;
    secrets.set(name, entry);
  };

  // 1. template markers and the map file's explicit choices
  const decided = new Map<
    string,
    { kind: "secret" | "setting"; secret?: string; field?: string }
  >();
  for (const [variable, rule] of Object.entries(map.variables ?? {})) {
    decided.set(
      variable,
      rule === "setting" || rule === "secret" ? { kind: rule } : { kind: "secret", ...rule },
    );
  }
  for (const [variable, marker] of Object.entries(markers)) decided.set(variable, marker);

  // 2. grouping rules, map file first
  for (const rule of [...(map.groups ?? []), ...DEFAULT_GROUPS]) {
    const picks: [string, string][] = [];
    for (const [field, candidates] of Object.entries(rule.fields)) {
      const variable = candidates.find((c) =>
        variables[c] !== undefined && variables[c] !== "" && !used.has(c) &&
        decided.get(c)?.kind !== "setting" && decided.get(c)?.secret === undefined
      );
      if (variable) picks.push([field, variable]);
    }
    if (picks.length !== Object.keys(rule.fields).length) continue; // a half pair is not grouped
    for (const [field, variable] of picks) {
      add(rule.secret, field, variable, variables[variable]);
      used.add(variable);
    }
  }

  for (const [variable, value] of Object.entries(variables).sort(([a], [b]) => a < b ? -1 : 1)) {
    if (used.has(variable)) continue;
    if (value === "") {
      settings.push({ variable, reason: "empty" });
      continue;
    }
    const choice = decided.get(variable);
    const auto = classifyVariable(variable, value);
    const kind = choice?.kind ?? (auto.kind === "setting" ? "setting" : "secret");
    if (auto.kind === "bootstrap" && choice?.kind !== "secret") {
      settings.push({ variable, reason: "a bootstrap credential: it stays with the orchestrator" });
      continue;
    }
    if (kind === "setting") {
      settings.push({
        variable,
        reason: choice ? "marked a setting" : auto.reason,
        keep: [`${variable}=${value}`],
      });
      continue;
    }
    // a Postgres URL with credentials becomes database/app plus settings
    if (choice?.field === undefined && PG_SCHEME.test(value)) {
      const cred = splitPostgresUrl(value);
      if (cred) {
        const prefix = variable.replace(/_?URL$/i, "") || "DATABASE";
        const target = choice?.secret ?? "database/app";
        add(target, "username", variable, cred.username);
        add(target, "password", variable, cred.password);
        settings.push({
          variable,
          reason: `its credentials went to ${target}; keep the location as settings`,
          keep: [
            `${prefix}_HOST=${cred.host}`,
            `${prefix}_PORT=${cred.port}`,
            ...(cred.database ? [`${prefix}_NAME=${cred.database}`] : []),
          ],
        });
        used.add(variable);
        continue;
      }
    }
    const name = choice?.secret ?? nameForEnvKey(variable);
    if (name === undefined) {
      problems.push({ variable, message: "maps to no valid secret name (add it to the map file)" });
      continue;
    }
    add(name, choice?.field ?? "value", variable, value);
  }

  const only = options.only;
  const list = [...secrets.values()]
    .filter((s) => only === undefined || s.name.startsWith(only))
    .map((s) => {
      const fields = s.value as Record<string, string>;
      const keys = Object.keys(fields);
      return keys.length === 1 && keys[0] === "value" ? { ...s, value: fields.value } : s;
    })
    .sort((a, b) => a.name < b.name ? -1 : 1);
  settings.sort((a, b) => a.variable < b.variable ? -1 : 1);
  return { secrets: list, settings, problems };
}

/** The canonical text of a value as a read without `field` returns it. */
function canonical(value: SecretValue): string {
  if (typeof value === "string") return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === "value") return value.value;
  const sorted: Record<string, string> = {};
  for (const key of keys.sort()) sorted[key] = value[key];
  return JSON.stringify(sorted);
}

async function digest(text: string): Promise<string> {
  const bytes = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * What the import did with one secret (or setting).
 *
 * @example
 * ```ts
 * import type { ImportRow } from "@keyward/secrets/config";
 * const row: ImportRow = { name: "webhook/secret", action: "created", from: ["WEBHOOK_SECRET"] };
 * if (row.action !== "created") throw new Error();
 * ```
 */
export interface ImportRow {
  /** The secret's name, or the variable for a skipped setting. */
  name: string;
  /** What happened. `would-create`/`would-update` in a dry run. */
  action:
    | "created"
    | "unchanged"
    | "updated"
    | "skipped-setting"
    | "conflict"
    | "failed"
    | "would-create"
    | "would-update";
  /** The variables it came from. */
  from: string[];
  /** The version written. */
  version?: string;
  /** Why it failed or conflicts, never quoting a value. */
  detail?: string;
  /** The error code of a failure. */
  code?: string;
}

/**
 * Options of {@linkcode runEnvImport}.
 *
 * @example
 * ```ts
 * import type { RunImportOptions } from "@keyward/secrets/config";
 * const options: RunImportOptions = { dryRun: true };
 * if (!options.dryRun) throw new Error();
 * ```
 */
export interface RunImportOptions {
  /** Compare only; write nothing. */
  dryRun?: boolean;
  /** Replace an existing different value (otherwise a conflict). */
  overwrite?: boolean;
  /** Called after each secret (for a progress line). */
  onProgress?: (done: number, total: number) => void;
  /** Cancels between secrets. */
  signal?: AbortSignal;
}

/**
 * The outcome of an import: one row per secret in order, and whether it
 * stopped early because the backend could not be reached (`aborted`, with
 * the error code).
 *
 * @example
 * ```ts
 * import type { ImportReport } from "@keyward/secrets/config";
 * const report: ImportReport = { rows: [] };
 * if (report.aborted) throw new Error();
 * ```
 */
export interface ImportReport {
  /** One row per secret handled. */
  rows: ImportRow[];
  /** Set when the run stopped before the end (backend unreachable or denied). */
  aborted?: { code: string; message: string };
}

/**
 * Writes the planned secrets: each is read first; a missing one is created,
 * an equal one left unchanged, a different one is a conflict unless
 * `overwrite`. Every write is read back and compared by SHA-256 (never
 * printed). An unreachable or denying backend stops the run: the report
 * says exactly what was written before.
 *
 * @example
 * ```ts
 * import { MemorySecretManager } from "@keyward/secrets";
 * import { planEnvImport, runEnvImport } from "@keyward/secrets/config";
 *
 * const manager = new MemorySecretManager();
 * const plan = planEnvImport({ WEBHOOK_SECRET: "whsec-0123456789" });
 * const first = await runEnvImport(manager, plan);
 * const again = await runEnvImport(manager, plan);
 * if (first.rows[0].action !== "created" || again.rows[0].action !== "unchanged") throw new Error();
 * ```
 */
export async function runEnvImport(
  manager: SecretManager,
  plan: ImportPlan,
  options: RunImportOptions = {},
): Promise<ImportReport> {
  const rows: ImportRow[] = [];
  const total = plan.secrets.length;
  for (const [index, secret] of plan.secrets.entries()) {
    options.signal?.throwIfAborted();
    const from = Object.values(secret.from);
    const wanted = await digest(canonical(secret.value));
    try {
      let existing: string | undefined;
      try {
        existing = await digest((await manager.readSecret(secret.name)).value);
      } catch (err) {
        if (!(err instanceof SecretNotFoundError)) throw err;
      }
      if (existing === wanted) {
        rows.push({ name: secret.name, action: "unchanged", from });
      } else if (existing !== undefined && !options.overwrite) {
        rows.push({
          name: secret.name,
          action: "conflict",
          from,
          detail: "the backend holds a different value (--overwrite replaces it)",
        });
      } else if (options.dryRun) {
        rows.push({
          name: secret.name,
          action: existing === undefined ? "would-create" : "would-update",
          from,
        });
      } else {
        const written = await manager.setSecret(secret.name, secret.value);
        const back = await digest((await manager.readSecret(secret.name)).value);
        rows.push(
          back === wanted
            ? {
              name: secret.name,
              action: existing === undefined ? "created" : "updated",
              from,
              version: written.version,
            }
            : {
              name: secret.name,
              action: "failed",
              from,
              version: written.version,
              detail: "the value read back differs from the value written",
            },
        );
      }
    } catch (err) {
      if (!(err instanceof KeywardError)) throw err;
      rows.push({ name: secret.name, action: "failed", from, code: err.code, detail: err.message });
      if (err.code === "access" || err.code === "closed") {
        options.onProgress?.(index + 1, total);
        return { rows, aborted: { code: err.code, message: err.message } };
      }
    }
    options.onProgress?.(index + 1, total);
  }
  for (const setting of plan.settings) {
    rows.push({
      name: setting.variable,
      action: "skipped-setting",
      from: [setting.variable],
      detail: setting.reason,
    });
  }
  return { rows };
}

/**
 * Writes the text of an `.env.template` for a `.env` file: settings keep
 * their values; every secret or bootstrap variable becomes a `<placeholder>`
 * under a comment naming where it now lives
 * (`# ALPACA_API_KEY_ID -> alpaca/api_key field key_id`). It never writes a
 * value it classified as a secret.
 *
 * @example
 * ```ts
 * import { envTemplate, planEnvImport } from "@keyward/secrets/config";
 * const vars = { PORT: "8080", ALPACA_API_KEY_ID: "PK0123456789", ALPACA_API_SECRET_KEY: "s-0123456789abcdef" };
 * const text = envTemplate(vars, planEnvImport(vars));
 * if (!text.includes("# ALPACA_API_KEY_ID -> alpaca/api_key field key_id")) throw new Error(text);
 * if (text.includes("PK0123456789") || !text.includes("PORT=8080")) throw new Error(text);
 * ```
 */
export function envTemplate(variables: Record<string, string>, plan: ImportPlan): string {
  const fieldsOf = new Map<string, { secret: string; fields: string[]; single: boolean }>();
  for (const secret of plan.secrets) {
    for (const [field, variable] of Object.entries(secret.from)) {
      const entry = fieldsOf.get(variable) ??
        { secret: secret.name, fields: [], single: typeof secret.value === "string" };
      entry.fields.push(field);
      fieldsOf.set(variable, entry);
    }
  }
  const where = new Map<string, string>();
  for (const [variable, { secret, fields, single }] of fieldsOf) {
    // one field: `-> name field f`; a URL split into several: `-> name` (its fields follow)
    where.set(variable, single || fields.length > 1 ? secret : `${secret} field ${fields[0]}`);
  }
  const lines = [
    "# Settings for this service. Secrets are not kept here: each placeholder below",
    "# names the secret it is read from (deno task migrate put them there).",
    "",
  ];
  for (const variable of Object.keys(variables).sort()) {
    const target = where.get(variable);
    const setting = plan.settings.find((s) => s.variable === variable);
    if (target) {
      lines.push(`# ${variable} -> ${target}`, `${variable}=<secret>`);
      if (setting?.keep) lines.push(...setting.keep);
    } else if (
      setting?.keep && setting.keep.length > 0 && setting.keep[0].startsWith(`${variable}=`)
    ) {
      const value = variables[variable];
      // a setting's value is kept unless it still looks like a credential
      lines.push(
        classifyVariable(variable, value).kind === "setting"
          ? `${variable}=${value}`
          : `${variable}=<secret>`,
      );
    } else if (setting?.keep) {
      lines.push(`# ${variable}: ${setting.reason}`, ...setting.keep);
    } else if (setting) {
      lines.push(
        `# ${variable}: ${setting.reason}`,
        `${variable}=${setting.reason === "empty" ? "" : "<secret>"}`,
      );
    } else {
      lines.push(
        `# ${variable}: not placed (see deno task migrate's problems)`,
        `${variable}=<secret>`,
      );
    }
  }
  return lines.join("\n") + "\n";
}
