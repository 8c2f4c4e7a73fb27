/**
 * `SECRET_BACKEND=env`: secrets from the environment and, optionally, a
 * `.env` file.
 *
 * Settings: `KEYWARD_ENV_FILE` (a `.env` file read besides the environment;
 * unset: `./.env` when it exists; `none`: no file),
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
  if (path === undefined) {
    // Unset: `./.env` when it exists, as users of `SECRET_BACKEND=env` expect.
    dotenv = await readDefaultDotenv(readTextFile);
  } else if (path !== "none") {
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

/** The file read when `KEYWARD_ENV_FILE` is unset. */
export const DEFAULT_DOTENV = ".env";

/**
 * Reads `./.env`, or `undefined` when there is none (or it may not be read:
 * a program without read access to its working directory never asked for it).
 * Any other failure (a directory named `.env`) is a `ConfigError`.
 */
async function readDefaultDotenv(
  readTextFile: (path: string) => Promise<string>,
): Promise<string | undefined> {
  try {
    return await readTextFile(DEFAULT_DOTENV);
  } catch (err) {
    const name = (err as { name?: unknown; code?: unknown }).name;
    const code = (err as { code?: unknown }).code;
    if (
      name === "NotFound" || name === "NotCapable" || name === "PermissionDenied" ||
      code === "ENOENT" || code === "EACCES"
    ) {
      return undefined;
    }
    throw new ConfigError(
      `./.env exists but cannot be read (set KEYWARD_ENV_FILE=none to ignore it)`,
      { backend: "env", cause: err },
    );
  }
}
