/**
 * The rotation engine's settings, read in this one place (until the
 * settings table takes them over).
 *
 * | setting | meaning |
 * |---|---|
 * | `KEYWARD_ROTATION_POLICY` | the rotation policy file (default `keyward.rotation.json` in the working directory) |
 * | `SECRET_ROTATION_LOG` | `file` (default, a JSON-lines file) or `postgres` (`secret_rotation_log`) |
 * | `SECRET_ROTATION_LOG_FILE` | `file`: the log (default `.keyward/rotation.jsonl`) |
 * | `SECRET_ROTATION_LOCK_DIR` | `file`: where lock files live (default `.keyward/rotation-locks`) |
 * | `SECRET_ROTATION_LOG_DATABASE_SECRET` | `postgres`: the secret holding the connection (production) |
 * | `DATABASE_URL` | `postgres`: accepted instead, for local work and CI |
 * | `KEYWARD_ROTATION_TEST_CRASH_AFTER` | tests only: the process kills itself (SIGKILL) right after this step succeeded |
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";

/** The rotation settings, parsed. */
export interface RotationSettings {
  /** The policy file and whether it was named explicitly (a missing explicit file is an error). */
  policyPath: string;
  /** Whether the policy path was set rather than defaulted. */
  policyExplicit: boolean;
  /** Where the log lives. */
  log: "file" | "postgres";
  /** The JSON-lines log file. */
  logFile: string;
  /** The lock directory. */
  lockDir: string;
  /** The secret holding the log database's connection. */
  logDatabaseSecret?: string;
  /** The log database's URL (local work, CI). */
  databaseUrl?: string;
  /** Tests only: the step after which the process kills itself. */
  crashAfter?: string;
}

function get(env: Record<string, string | undefined>, key: string): string | undefined {
  const v = env[key];
  return v === undefined || v === "" ? undefined : v;
}

/** Reads the rotation settings from `env`; a bad value is a `ConfigError` naming the setting. */
export function rotationSettings(env: Record<string, string | undefined>): RotationSettings {
  const log = get(env, "SECRET_ROTATION_LOG") ?? "file";
  if (log !== "file" && log !== "postgres") {
    throw new ConfigError("SECRET_ROTATION_LOG must be one of: file, postgres");
  }
  const policy = get(env, "KEYWARD_ROTATION_POLICY");
  const settings: RotationSettings = {
    policyPath: policy ?? "keyward.rotation.json",
    policyExplicit: policy !== undefined,
    log,
    logFile: get(env, "SECRET_ROTATION_LOG_FILE") ?? ".keyward/rotation.jsonl",
    lockDir: get(env, "SECRET_ROTATION_LOCK_DIR") ?? ".keyward/rotation-locks",
  };
  const secret = get(env, "SECRET_ROTATION_LOG_DATABASE_SECRET");
  if (secret !== undefined) settings.logDatabaseSecret = secret;
  const url = get(env, "DATABASE_URL");
  if (url !== undefined) settings.databaseUrl = url;
  const crash = get(env, "KEYWARD_ROTATION_TEST_CRASH_AFTER");
  if (crash !== undefined) settings.crashAfter = crash;
  if (log === "postgres" && secret === undefined && url === undefined) {
    throw new ConfigError(
      "SECRET_ROTATION_LOG=postgres needs SECRET_ROTATION_LOG_DATABASE_SECRET (a secret holding the connection) or DATABASE_URL",
    );
  }
  return settings;
}
