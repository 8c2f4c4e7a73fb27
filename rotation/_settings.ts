/**
 * The rotation engine's settings, read from the parsed settings table
 * (`settings/table.ts`, feature `rotate`: `KEYWARD_ROTATION_POLICY`,
 * `SECRET_ROTATION_LOG`, `SECRET_ROTATION_LOG_FILE`,
 * `SECRET_ROTATION_LOCK_DIR`, `SECRET_ROTATION_LOG_DATABASE_SECRET`, and
 * `DATABASE_URL`), plus one test hook kept out of the table.
 *
 * `KEYWARD_ROTATION_TEST_CRASH_AFTER` is not a setting: the crash tests
 * (tests/rotation/crash_test.ts, postgres_password_test.ts) set it so the
 * CLI kills itself (SIGKILL) right after the named step succeeded, then
 * resume the rotation. It is deliberately absent from the settings table,
 * the README and `.env.template` (no operator should set it); the settings
 * test lists it among the names that are not settings.
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";
import { parseSettings, rawSetting } from "../settings/parse.ts";
import { DEFAULT_ROTATION_POLICY } from "../settings/table.ts";

/** The test hook's variable (see the module's note): not a setting. */
const CRASH_AFTER = "KEYWARD_ROTATION_TEST_CRASH_AFTER";

/** The rotation settings, parsed. */
export interface RotationSettings {
  /** The policy file. */
  policyPath: string;
  /** Whether the policy path was set rather than defaulted (a missing explicit file is an error). */
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

/** Reads the rotation settings from `env`; a bad value is a `ConfigError` naming the setting. */
export function rotationSettings(env: Record<string, string | undefined>): RotationSettings {
  const s = parseSettings(env);
  const policy = s.KEYWARD_ROTATION_POLICY;
  const settings: RotationSettings = {
    policyPath: policy ?? DEFAULT_ROTATION_POLICY,
    policyExplicit: policy !== undefined,
    log: s.SECRET_ROTATION_LOG,
    logFile: s.SECRET_ROTATION_LOG_FILE,
    lockDir: s.SECRET_ROTATION_LOCK_DIR,
  };
  const secret = s.SECRET_ROTATION_LOG_DATABASE_SECRET;
  if (secret !== undefined) settings.logDatabaseSecret = secret;
  const url = s.DATABASE_URL;
  if (url !== undefined) settings.databaseUrl = url;
  const crash = rawSetting(env, CRASH_AFTER);
  if (crash !== undefined) settings.crashAfter = crash;
  if (settings.log === "postgres" && secret === undefined && url === undefined) {
    throw new ConfigError(
      "SECRET_ROTATION_LOG=postgres needs SECRET_ROTATION_LOG_DATABASE_SECRET (a secret holding the connection) or DATABASE_URL",
    );
  }
  return settings;
}
