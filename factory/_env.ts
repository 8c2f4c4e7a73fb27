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
import { settingsOf } from "./_settings.ts";

/** The environment is local: the env backend is not cached. */
export const remote = false;

/** Builds the env backend over `settings.env`. */
export const build: BackendBuilder = async (input) => {
  const { env, readTextFile } = input;
  const settings = settingsOf(input);
  const listPrefixes = settings.KEYWARD_ENV_PREFIXES;
  const path = settings.KEYWARD_ENV_FILE;
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
