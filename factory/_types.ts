/**
 * The shape of a backend builder: the factory picks one by `SECRET_BACKEND`
 * and loads its module with a dynamic `import()`.
 *
 * @module
 */

import type { SecretManager } from "../core/types.ts";

/**
 * What a builder may read: settings and the files the orchestrator mounts.
 *
 * @example What a builder receives (the factory builds it from its options)
 * ```ts
 * import type { BackendBuilder, BackendSettings } from "@keyward/secrets/factory";
 * import { EnvSecretManager } from "@keyward/secrets";
 *
 * const settings: BackendSettings = {
 *   env: { KEYWARD_ENV_FILE: "/run/app/.env" },
 *   readTextFile: (path) => Promise.resolve(path === "/run/app/.env" ? "API_TOKEN=tok-0123456789\n" : ""),
 * };
 * const build: BackendBuilder = async ({ env, readTextFile }) =>
 *   new EnvSecretManager({ lookup: () => undefined, dotenv: await readTextFile(env.KEYWARD_ENV_FILE!) });
 * const secrets = await build(settings);
 * if (await secrets.getSecret("api/token") !== "tok-0123456789") throw new Error();
 * ```
 */
export interface BackendSettings {
  /** The settings (environment variables or their test stand-in). */
  env: Record<string, string | undefined>;
  /** Reads a mounted file (a key file, a service-account token, a `.env` file). */
  readTextFile(path: string): Promise<string>;
}

/**
 * Builds one backend from settings; throws `ConfigError` naming a missing or bad setting.
 *
 * @example A builder that refuses a missing setting with a `ConfigError` naming it
 * ```ts
 * import type { BackendBuilder } from "@keyward/secrets/factory";
 * import { ConfigError, MemorySecretManager } from "@keyward/secrets";
 *
 * const build: BackendBuilder = ({ env }) => {
 *   const seed = env.APP_SEED_TOKEN;
 *   if (!seed) return Promise.reject(new ConfigError("APP_SEED_TOKEN is required"));
 *   return Promise.resolve(new MemorySecretManager({ initial: { "app/token": seed } }));
 * };
 * const error = await build({ env: {}, readTextFile: () => Promise.reject(new Error("no files")) })
 *   .catch((e) => e);
 * if (!(error instanceof ConfigError) || !error.message.includes("APP_SEED_TOKEN")) throw new Error();
 * ```
 */
export type BackendBuilder = (settings: BackendSettings) => Promise<SecretManager>;
