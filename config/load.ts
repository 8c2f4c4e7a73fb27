/**
 * `loadConfig`: a service's settings from the environment, validated by any
 * Standard Schema validator, and its secrets from a `SecretManager`, with
 * every problem reported at once.
 *
 * @module
 */

import { ConfigError, KeywardError } from "../core/errors.ts";
import { Secret } from "../core/secret.ts";
import type { SecretManager } from "../core/types.ts";
import { classifyVariable } from "./classify.ts";

/**
 * One problem a settings validator reports (the Standard Schema issue shape).
 *
 * @example
 * ```ts
 * import type { SettingsIssue } from "@keyward/secrets/config";
 * const issue: SettingsIssue = { message: "expected a number", path: ["PORT"] };
 * if (issue.path?.[0] !== "PORT") throw new Error();
 * ```
 */
export interface SettingsIssue {
  /** What is wrong. */
  readonly message: string;
  /** Where: the first segment is the variable. */
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/**
 * What a settings validator answers (the Standard Schema result shape).
 *
 * @example
 * ```ts
 * import type { SettingsResult } from "@keyward/secrets/config";
 * const ok: SettingsResult<{ PORT: number }> = { value: { PORT: 8080 } };
 * if (ok.issues) throw new Error();
 * ```
 */
export type SettingsResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<SettingsIssue> };

/**
 * The part of the Standard Schema interface (`@standard-schema/spec` v1)
 * that `loadConfig` uses: zod, valibot, arktype and every other validator
 * implementing Standard Schema fit it as they are.
 *
 * @example
 * ```ts
 * import type { SettingsSchema } from "@keyward/secrets/config";
 * const portOnly: SettingsSchema<{ PORT: string }> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (v) => {
 *       const port = (v as Record<string, string | undefined>).PORT;
 *       return port ? { value: { PORT: port } } : { issues: [{ message: "required", path: ["PORT"] }] };
 *     },
 *   },
 * };
 * if (portOnly["~standard"].version !== 1) throw new Error();
 * ```
 */
export interface SettingsSchema<Output = unknown> {
  /** The Standard Schema properties. */
  readonly "~standard": {
    /** The spec's version: 1. */
    readonly version: 1;
    /** The validator library. */
    readonly vendor: string;
    /** Validates the environment. */
    readonly validate: (
      value: unknown,
    ) => SettingsResult<Output> | Promise<SettingsResult<Output>>;
    /** The inferred types, when the validator provides them. */
    readonly types?: { readonly input: unknown; readonly output: Output } | undefined;
  };
}

/**
 * The settings type a validator produces.
 *
 * @example
 * ```ts
 * import type { SettingsOf, SettingsSchema } from "@keyward/secrets/config";
 * const port: SettingsOf<SettingsSchema<{ PORT: number }>> = { PORT: 1 };
 * if (port.PORT !== 1) throw new Error();
 * ```
 */
export type SettingsOf<S extends SettingsSchema> = NonNullable<S["~standard"]["types"]>["output"];

/**
 * One secret a service declares: its name and, for a credential pair, the
 * fields it needs (read together from one version, so no reader ever sees
 * half a rotation).
 *
 * @example
 * ```ts
 * import type { SecretDeclaration } from "@keyward/secrets/config";
 * const db: SecretDeclaration = { name: "database/app", fields: ["username", "password"] };
 * if (db.fields?.length !== 2) throw new Error();
 * ```
 */
export interface SecretDeclaration {
  /** The secret's name in the manager. */
  name: string;
  /** The fields to read; without it the secret's value is one `Secret`. */
  fields?: readonly string[];
}

/**
 * The `Secret`s a declaration gives: one `Secret`, or one per field.
 *
 * @example
 * ```ts
 * import type { SecretsOf } from "@keyward/secrets/config";
 * import type { Secret } from "@keyward/secrets";
 * type S = SecretsOf<{ db: { name: "database/app"; fields: readonly ["password"] }; hook: "webhook/key" }>;
 * const check = (s: S): Secret[] => [s.db.password, s.hook];
 * if (typeof check !== "function") throw new Error();
 * ```
 */
export type SecretsOf<D> = {
  [K in keyof D]: D[K] extends { fields: readonly (infer F extends string)[] }
    ? { [P in F]: Secret }
    : Secret;
};

/**
 * Options of {@linkcode loadConfig}.
 *
 * @example
 * ```ts
 * import { loadConfig, type LoadConfigOptions, type SettingsSchema } from "@keyward/secrets/config";
 *
 * // any Standard Schema validator works; this one accepts everything
 * const anything: SettingsSchema<{ PORT?: string }> = {
 *   "~standard": { version: 1, vendor: "example", validate: (v) => ({ value: v as { PORT?: string } }) },
 * };
 * const options: LoadConfigOptions<typeof anything, Record<never, never>> = {
 *   settings: anything,
 *   env: { PORT: "8080" },
 * };
 * const config = await loadConfig(options);
 * if (config.settings.PORT !== "8080") throw new Error();
 * ```
 */
export interface LoadConfigOptions<
  S extends SettingsSchema,
  D extends Record<string, SecretDeclaration | string>,
> {
  /** The settings validator (zod, valibot, arktype, ... anything implementing Standard Schema). */
  settings: S;
  /** The secrets, by the key the service uses: a name, or a declaration with fields. */
  secrets?: D;
  /** Where the secrets come from; required when `secrets` declares any. */
  manager?: SecretManager;
  /**
   * The environment the settings are read from.
   * @default {`Deno.env.toObject()` on Deno, `process.env` on Node}
   */
  env?: Record<string, string | undefined>;
  /** Bootstrap credentials the service reads from its environment on purpose (e.g. `VAULT_TOKEN`). */
  bootstrap?: readonly string[];
  /**
   * Accept secret-looking settings: only when the env backend is the
   * manager (the secrets are in the environment on purpose).
   * @default {false}
   */
  allowSecretSettings?: boolean;
  /** Cancels the secret reads. */
  signal?: AbortSignal;
}

/**
 * One problem `loadConfig` found: a setting (by variable) or a secret (by
 * name). Never a value.
 *
 * @example
 * ```ts
 * import type { ConfigProblem } from "@keyward/secrets/config";
 * const p: ConfigProblem = { kind: "setting", key: "PORT", message: "expected a number" };
 * if (p.key !== "PORT") throw new Error();
 * ```
 */
export interface ConfigProblem {
  /** A setting from the environment, or a secret from the manager. */
  kind: "setting" | "secret";
  /** The variable (settings) or the secret's name (secrets). */
  key: string;
  /** What is wrong, never quoting a value. */
  message: string;
  /** The keyward error code of a failed secret read. */
  code?: string;
}

/**
 * Every problem `loadConfig` found, at once. A `ConfigError` (exit code 2).
 *
 * @example
 * ```ts
 * import { ConfigProblemsError } from "@keyward/secrets/config";
 * const err = new ConfigProblemsError([{ kind: "secret", key: "db/app", message: "not found" }]);
 * if (err.code !== "config" || !err.message.includes("db/app")) throw new Error();
 * ```
 */
export class ConfigProblemsError extends ConfigError {
  /** The problems, settings first. */
  readonly problems: readonly ConfigProblem[];
  /** Builds the error from the problems. */
  constructor(problems: readonly ConfigProblem[]) {
    super(
      `the service's configuration has ${problems.length} problem(s):\n` +
        problems.map((p) => `  ${p.kind} ${p.key}: ${p.message}`).join("\n"),
    );
    this.name = "ConfigProblemsError";
    this.problems = problems;
  }
}

/**
 * What `loadConfig` returns: the validated settings, the secrets as
 * `Secret`s and the version of each secret read.
 *
 * @example
 * ```ts
 * import type { LoadedConfig } from "@keyward/secrets/config";
 * const versions = (c: LoadedConfig<{ PORT: number }, Record<never, never>>) => c.versions;
 * if (typeof versions !== "function") throw new Error();
 * ```
 */
export interface LoadedConfig<T, D> {
  /** The validator's output. */
  settings: T;
  /** One `Secret` per declared secret, or per field of a declared pair. */
  secrets: SecretsOf<D>;
  /** Secret name -> version id read, for the health answer. */
  versions: Record<string, string>;
}

function defaultEnv(): Record<string, string | undefined> {
  const g = globalThis as {
    Deno?: { env: { toObject(): Record<string, string> } };
    process?: { env: Record<string, string | undefined> };
  };
  if (g.Deno) return g.Deno.env.toObject();
  if (g.process) return g.process.env;
  return {};
}

/** Replaces any environment value quoted by a validator's message. */
function scrub(message: string, env: Record<string, string | undefined>): string {
  let out = message;
  for (const value of Object.values(env)) {
    if (value && value.length >= 4 && out.includes(value)) {
      out = out.split(value).join("[REDACTED]");
    }
  }
  return out;
}

function issueKey(issue: SettingsIssue): string {
  const [first] = issue.path ?? [];
  if (first === undefined) return "(settings)";
  const key = typeof first === "object" ? first.key : first;
  return String(key);
}

/**
 * Reads a service's configuration: settings from the environment through
 * the Standard Schema validator `settings`, secrets from `manager`. Every
 * invalid setting and every missing or unreadable secret is reported at
 * once in a {@linkcode ConfigProblemsError}, by variable or by name and never
 * by value. A secret-looking variable among the validated settings (see
 * `classifyVariable`) is refused unless it is a declared bootstrap
 * credential or `allowSecretSettings` is set.
 *
 * @example Settings from zod, a credential pair from the manager
 * ```ts
 * import { z } from "zod";
 * import { MemorySecretManager } from "@keyward/secrets";
 * import { loadConfig } from "@keyward/secrets/config";
 *
 * const manager = new MemorySecretManager();
 * await manager.setSecret("database/app", { username: "app_a", password: "pw-0123456789" });
 * const config = await loadConfig({
 *   settings: z.object({ HOST: z.string().default("127.0.0.1"), PORT: z.coerce.number() }),
 *   secrets: { db: { name: "database/app", fields: ["username", "password"] as const } },
 *   manager,
 *   env: { PORT: "8080" },
 * });
 * if (config.settings.PORT !== 8080 || config.secrets.db.username.reveal() !== "app_a") throw new Error();
 * if (`${config.secrets.db.password}` !== "[REDACTED]") throw new Error();
 * if (config.versions["database/app"] !== "1") throw new Error();
 * ```
 */
export async function loadConfig<
  S extends SettingsSchema,
  D extends Record<string, SecretDeclaration | string> = Record<never, never>,
>(options: LoadConfigOptions<S, D>): Promise<LoadedConfig<SettingsOf<S>, D>> {
  const env = options.env ?? defaultEnv();
  const problems: ConfigProblem[] = [];

  let result = options.settings["~standard"].validate(env);
  if (result instanceof Promise) result = await result;
  let settings = undefined as SettingsOf<S>;
  if (result.issues) {
    for (const issue of result.issues) {
      problems.push({ kind: "setting", key: issueKey(issue), message: scrub(issue.message, env) });
    }
  } else {
    settings = result.value as SettingsOf<S>;
    if (!options.allowSecretSettings && settings !== null && typeof settings === "object") {
      const allowed = new Set((options.bootstrap ?? []).map((n) => n.toUpperCase()));
      for (const [key, value] of Object.entries(settings as Record<string, unknown>)) {
        if (typeof value !== "string" && typeof value !== "number") continue;
        const c = classifyVariable(key, String(value));
        if (c.kind === "setting" || allowed.has(key.toUpperCase())) continue;
        problems.push({
          kind: "setting",
          key,
          message: c.kind === "bootstrap"
            ? `a bootstrap credential among the settings: declare it in \`bootstrap\` if the service reads it on purpose`
            : `looks like a secret (${c.reason}): declare it as a secret read from the secret manager`,
        });
      }
    }
  }

  const declared = Object.entries(options.secrets ?? {}) as [string, SecretDeclaration | string][];
  const secrets: Record<string, Secret | Record<string, Secret>> = {};
  const versions: Record<string, string> = {};
  if (declared.length > 0 && !options.manager) {
    throw new ConfigError("loadConfig: `secrets` are declared but no `manager` was given");
  }
  await Promise.all(declared.map(async ([key, decl]) => {
    const { name, fields } = typeof decl === "string" ? { name: decl, fields: undefined } : decl;
    try {
      const read = await options.manager!.readSecret(name, { signal: options.signal });
      versions[name] = read.version;
      if (!fields) {
        secrets[key] = new Secret(read.value);
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(read.value);
      } catch {
        parsed = undefined;
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        problems.push({
          kind: "secret",
          key: name,
          message: `has no fields (expected ${fields.join(", ")})`,
        });
        return;
      }
      const record = parsed as Record<string, unknown>;
      const missing = fields.filter((f) => typeof record[f] !== "string");
      if (missing.length > 0) {
        problems.push({
          kind: "secret",
          key: name,
          message: `lacks field(s) ${missing.join(", ")}`,
        });
        return;
      }
      secrets[key] = Object.fromEntries(fields.map((f) => [f, new Secret(record[f] as string)]));
    } catch (err) {
      if (!(err instanceof KeywardError)) throw err;
      problems.push({
        kind: "secret",
        key: name,
        code: err.code,
        message: err.code === "not_found"
          ? "not found"
          : `cannot be read (${err.code}: ${err.message})`,
      });
    }
  }));

  if (problems.length > 0) {
    // settings first, then secrets; each by key
    problems.sort((a, b) => b.kind.localeCompare(a.kind) || a.key.localeCompare(b.key));
    throw new ConfigProblemsError(problems);
  }
  return { settings, secrets: secrets as SecretsOf<D>, versions };
}
