/**
 * The shape of a backend builder: the factory picks one by `SECRET_BACKEND`
 * and loads its module with a dynamic `import()`.
 *
 * @module
 */

import type { SecretManager } from "../core/types.ts";

/** What a builder may read: settings and the files the orchestrator mounts. */
export interface BackendSettings {
  /** The settings (environment variables or their test stand-in). */
  env: Record<string, string | undefined>;
  /** Reads a mounted file (a key file, a service-account token, a `.env` file). */
  readTextFile(path: string): Promise<string>;
}

/** Builds one backend from settings; throws `ConfigError` naming a missing or bad setting. */
export type BackendBuilder = (settings: BackendSettings) => Promise<SecretManager>;
