/**
 * The factory's rotation events: with `SECRET_ROTATION_EVENTS=postgres`, the
 * cache in front of a remote backend listens on Postgres LISTEN/NOTIFY
 * (channel `keyward_rotation`) and publishes the names written through it,
 * so a promotion made by an operator reaches every running instance.
 *
 * | setting | meaning |
 * |---|---|
 * | `SECRET_ROTATION_EVENTS` | `off` (default) or `postgres` |
 * | `SECRET_ROTATION_DATABASE_SECRET` | the secret holding the database URL or fields (production) |
 * | `DATABASE_URL` | accepted instead, for local work and CI |
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";
import type { SecretManager } from "../core/types.ts";
import type { RotationEvents } from "../cache/rotation_events.ts";
import type { BackendSettings } from "./_types.ts";
import { setting } from "./_settings.ts";

/** Rotation events built from the settings, and how to release their connection. */
export interface RotationWiring {
  /** The events to give the cache. */
  events: RotationEvents;
  /** Ends the connection the events use. */
  close(): Promise<void>;
}

/**
 * Builds the rotation events `SECRET_ROTATION_EVENTS` asks for, reading the
 * database credentials from `manager` (the backend, before any cache) when
 * `SECRET_ROTATION_DATABASE_SECRET` is set; `undefined` when off.
 */
export async function rotationEventsFromSettings(
  manager: SecretManager,
  settings: BackendSettings,
  cached: boolean,
): Promise<RotationWiring | undefined> {
  const mode = setting(settings.env, "SECRET_ROTATION_EVENTS") ?? "off";
  if (mode !== "off" && mode !== "postgres") {
    throw new ConfigError("SECRET_ROTATION_EVENTS must be one of: off, postgres");
  }
  if (mode === "off") return undefined;
  if (!cached) {
    throw new ConfigError(
      "SECRET_ROTATION_EVENTS needs the cache in front of a remote backend (SECRET_BACKEND=vault or aws, SECRET_CACHE_TTL_MS not 0)",
    );
  }
  const secretName = setting(settings.env, "SECRET_ROTATION_DATABASE_SECRET");
  const url = setting(settings.env, "DATABASE_URL");
  if (secretName === undefined && url === undefined) {
    throw new ConfigError(
      "SECRET_ROTATION_EVENTS=postgres needs SECRET_ROTATION_DATABASE_SECRET (a secret holding the connection) or DATABASE_URL",
    );
  }
  const [{ PostgresRotationEvents }, { connectFromSecret }, { default: postgres }] = await Promise
    .all([
      import("../cache/pg_rotation_events.ts"),
      import("../audit/_pg_connect.ts"),
      import("postgres"),
    ]);
  const sql = secretName !== undefined
    ? await connectFromSecret(manager, secretName)
    : postgres(url!, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  return {
    events: new PostgresRotationEvents(sql),
    close: () => sql.end({ timeout: 5 }),
  };
}

/** Wraps `manager` so that `close()` also runs `cleanup` (after the manager closed). */
export function closingAlso(manager: SecretManager, cleanup: () => Promise<void>): SecretManager {
  return {
    getSecret: (name, opts) => manager.getSecret(name, opts),
    readSecret: (name, opts) => manager.readSecret(name, opts),
    deprecateVersion: (name, version, opts) => manager.deprecateVersion(name, version, opts),
    destroyVersion: (name, version, opts) => manager.destroyVersion(name, version, opts),
    listSecrets: (prefix, opts) => manager.listSecrets(prefix, opts),
    setSecret: (name, value, opts) => manager.setSecret(name, value, opts),
    describeSecret: (name, opts) => manager.describeSecret(name, opts),
    promote: (name, version, opts) => manager.promote(name, version, opts),
    deleteSecret: (name, opts) => manager.deleteSecret(name, opts),
    close: async () => {
      try {
        await manager.close();
      } finally {
        await cleanup();
      }
    },
  };
}
