/**
 * `SECRET_BACKEND=env`: secrets from the environment and, optionally, a
 * `.env` file.
 *
 * Settings: `KEYWARD_ENV_FILE` (a `.env` file read besides the environment),
 * `KEYWARD_ENV_PREFIXES` (comma-separated variable prefixes that
 * `listSecrets` covers; without it and without a `.env` file nothing is
 * listed, never the whole environment).
 *
 * @module
 */

import { EnvSecretManager } from "../backends/env.ts";
import { ConfigError } from "../core/errors.ts";
import type { BackendBuilder } from "./_types.ts";
import { listSetting, setting } from "./_settings.ts";

/** Builds the env backend over `settings.env`. */
export const build: BackendBuilder = async ({ env, readTextFile }) => {
  const listPrefixes = listSetting(
    env,
    "KEYWARD_ENV_PREFIXES",
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    "each prefix is the start of a variable name (letters, digits and '_', e.g. ALPACA_,DB_)",
  );
  const path = setting(env, "KEYWARD_ENV_FILE");
  let dotenv: string | undefined;
  if (path !== undefined) {
    try {
      dotenv = await readTextFile(path);
    } catch (err) {
      throw new ConfigError(
        `KEYWARD_ENV_FILE names ${JSON.stringify(path)}, which cannot be read`,
        {
          backend: "env",
          cause: err,
        },
      );
    }
  }
  return new EnvSecretManager({
    lookup: (key) => env[key],
    keys: () => Object.keys(env),
    ...(dotenv !== undefined ? { dotenv } : {}),
    ...(listPrefixes !== undefined ? { listPrefixes } : {}),
  });
};
