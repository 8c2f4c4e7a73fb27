/**
 * The environment `secrets run` gives a child process: the selected secrets
 * as variables (the env backend's mapping), plus variables the map file
 * builds from templates over a secret's fields.
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";
import type { SecretManager } from "../core/types.ts";
import { envKeyFor } from "../backends/env.ts";
import type { EnvMap } from "./env_import.ts";

/**
 * Options of {@linkcode buildRunEnv}.
 *
 * @example
 * ```ts
 * import type { RunEnvOptions } from "@keyward/secrets/config";
 * const options: RunEnvOptions = { prefix: "test/" };
 * if (options.prefix !== "test/") throw new Error();
 * ```
 */
export interface RunEnvOptions {
  /** Only secrets under this prefix; the prefix is dropped from the variable name. */
  prefix?: string;
  /** Template variables (`env`) built over secrets' fields. */
  map?: EnvMap;
  /** Cancels the reads. */
  signal?: AbortSignal;
}

/**
 * The variables for the child and the values they hold (for the redactor of
 * the child's output).
 *
 * @example
 * ```ts
 * import type { RunEnv } from "@keyward/secrets/config";
 * const run: RunEnv = { env: {}, values: [], versions: {} };
 * if (run.values.length !== 0) throw new Error();
 * ```
 */
export interface RunEnv {
  /** Variable -> value. */
  env: Record<string, string>;
  /** Every secret value handed over (field values included). */
  values: string[];
  /** Secret name -> version read. */
  versions: Record<string, string>;
}

/**
 * Fills `{field}` placeholders of a template with the percent-encoded
 * fields of a secret; an unknown field is a `ConfigError` naming it.
 *
 * @example
 * ```ts
 * import { fillTemplate } from "@keyward/secrets/config";
 * const url = fillTemplate("postgres://{username}:{password}@db/app", { username: "app", password: "p/w#" }, "database/app");
 * if (url !== "postgres://app:p%2Fw%23@db/app") throw new Error(url);
 * ```
 */
export function fillTemplate(
  template: string,
  fields: Record<string, string>,
  secret: string,
): string {
  return template.replace(/\{([A-Za-z0-9_.-]+)\}/g, (_, field: string) => {
    if (!Object.hasOwn(fields, field)) {
      throw new ConfigError(`the map file's template uses field ${field}, which ${secret} lacks`, {
        secret,
        field,
      });
    }
    return encodeURIComponent(fields[field]);
  });
}

function fieldsOf(text: string): Record<string, string> {
  try {
    const parsed = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
      return Object.fromEntries(
        Object.entries(parsed).filter(([, v]) => typeof v === "string"),
      ) as Record<string, string>;
    }
  } catch {
    // a single value
  }
  return { value: text };
}

/**
 * Reads the secrets under `prefix` and the ones the map's templates name,
 * and returns the child's variables: `test/alpaca/api_key_id` with prefix
 * `test/` -> `ALPACA_API_KEY_ID` (a secret with fields gives its JSON text,
 * as the env backend reads it), plus each template variable.
 *
 * @example
 * ```ts
 * import { MemorySecretManager } from "@keyward/secrets";
 * import { buildRunEnv } from "@keyward/secrets/config";
 *
 * const manager = new MemorySecretManager();
 * await manager.setSecret("test/webhook/secret", "whsec-0123456789");
 * await manager.setSecret("test/database/app", { username: "app", password: "p/w#1" });
 * const run = await buildRunEnv(manager, {
 *   prefix: "test/",
 *   map: { env: { DATABASE_URL: { secret: "test/database/app", template: "postgres://{username}:{password}@127.0.0.1:5432/t" } } },
 * });
 * if (run.env.WEBHOOK_SECRET !== "whsec-0123456789") throw new Error();
 * if (run.env.DATABASE_URL !== "postgres://app:p%2Fw%231@127.0.0.1:5432/t") throw new Error();
 * ```
 */
export async function buildRunEnv(
  manager: SecretManager,
  options: RunEnvOptions = {},
): Promise<RunEnv> {
  const env: Record<string, string> = {};
  const values = new Set<string>();
  const versions: Record<string, string> = {};
  const cache = new Map<string, string>();
  const read = async (name: string): Promise<string> => {
    const hit = cache.get(name);
    if (hit !== undefined) return hit;
    const result = await manager.readSecret(name, { signal: options.signal });
    versions[name] = result.version;
    cache.set(name, result.value);
    for (const v of Object.values(fieldsOf(result.value))) values.add(v);
    values.add(result.value);
    return result.value;
  };
  if (options.prefix !== undefined) {
    const prefix = options.prefix;
    for (const name of await manager.listSecrets(prefix, { signal: options.signal })) {
      const rest = name.slice(prefix.length).replace(/^\/+/, "");
      if (rest === "") continue;
      env[envKeyFor(rest)] = await read(name);
    }
  }
  for (const [variable, { secret, template }] of Object.entries(options.map?.env ?? {})) {
    env[variable] = fillTemplate(template, fieldsOf(await read(secret)), secret);
    values.add(env[variable]);
  }
  return { env, values: [...values], versions };
}
