/**
 * A service's configuration, settings kept apart from secrets: `loadConfig`
 * validates the settings from the environment with any Standard Schema
 * validator (zod, valibot, ...) and reads the declared secrets from a
 * `SecretManager`, reporting every problem at once; `classifyVariable` is the
 * rule that tells a secret from a setting; `postgresUrl` builds a connection
 * string that never prints.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { MemorySecretManager } from "@keyward/secrets";
 * import { ConfigProblemsError, loadConfig } from "@keyward/secrets/config";
 *
 * try {
 *   await loadConfig({
 *     settings: z.object({ PORT: z.coerce.number().int() }),
 *     secrets: { hook: "webhook/signing_key" },
 *     manager: new MemorySecretManager(),
 *     env: { PORT: "eighty", DB_PASSWORD: "not-here" },
 *   });
 *   throw new Error("unreachable");
 * } catch (err) {
 *   if (!(err instanceof ConfigProblemsError) || err.problems.length !== 2) throw err;
 * }
 * ```
 *
 * @module
 */

export {
  BOOTSTRAP_CREDENTIALS,
  classifyVariable,
  looksLikeCredential,
  SECRET_NAME_SUFFIXES,
  urlHasPassword,
  type VariableClass,
} from "./config/classify.ts";
export {
  type ConfigProblem,
  ConfigProblemsError,
  loadConfig,
  type LoadConfigOptions,
  type LoadedConfig,
  type SecretDeclaration,
  type SecretsOf,
  type SettingsIssue,
  type SettingsOf,
  type SettingsResult,
  type SettingsSchema,
} from "./config/load.ts";
export { type PostgresLocation, postgresUrl } from "./config/connection.ts";
export {
  DEFAULT_GROUPS,
  type EnvMap,
  envTemplate,
  type GroupRule,
  type ImportPlan,
  type ImportProblem,
  type ImportReport,
  type ImportRow,
  malformedEnvLines,
  planEnvImport,
  type PlannedSecret,
  type PlannedSetting,
  type PlanOptions,
  runEnvImport,
  type RunImportOptions,
  type TemplateMarker,
  templateMarkers,
} from "./config/env_import.ts";
export { buildRunEnv, fillTemplate, type RunEnv, type RunEnvOptions } from "./config/run_env.ts";
