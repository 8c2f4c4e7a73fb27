/**
 * The factory's rotation events: with `SECRET_ROTATION_EVENTS=postgres`, the
 * cache in front of a remote backend listens on Postgres LISTEN/NOTIFY
 * (channel `keyward_rotation`) and publishes the names written through it,
 * so a promotion made by an operator reaches every running instance.
 *
 * Its settings (names, types, defaults) are rows of the one settings table,
 * `settings/table.ts` (what each means: `settings/meanings.ts`); the step
 * reads them parsed (`settingsOf`).
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";
import type { SecretManager } from "../core/types.ts";
import { rotationRecorderOf } from "../core/rotation_recorder.ts";
import type { RotationEvents } from "../cache/rotation_events.ts";
import type { BackendSettings } from "./_types.ts";
import { settingsOf } from "./_settings.ts";

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
  const s = settingsOf(settings);
  if (s.SECRET_ROTATION_EVENTS === "off") return undefined;
  if (!cached) {
    throw new ConfigError(
      "SECRET_ROTATION_EVENTS needs the cache in front of a remote backend (one the factory " +
        "caches, such as vault or aws, with SECRET_CACHE_TTL_MS not 0)",
    );
  }
  if (s.SECRET_ROTATION_EVENTS === "endpoint") {
    // Through the host's endpoint (GET /v1/events): no Postgres connection of this instance's own.
    const { url, token } = endpointOf(s, "SECRET_ROTATION_EVENTS=endpoint");
    const { EndpointRotationEvents } = await import("../cache/endpoint_rotation_events.ts");
    return { events: new EndpointRotationEvents({ url, token }), close: () => Promise.resolve() };
  }
  const secretName = s.SECRET_ROTATION_DATABASE_SECRET;
  const url = s.DATABASE_URL;
  if (secretName === undefined && url === undefined) {
    throw new ConfigError(
      "SECRET_ROTATION_EVENTS=postgres needs SECRET_ROTATION_DATABASE_SECRET (a secret holding the connection) or DATABASE_URL",
    );
  }
  const [{ PostgresRotationEvents }, { connectFromSecret, connectUrl }] = await Promise.all([
    import("../cache/pg_rotation_events.ts"),
    import("../pg/connect.ts"),
  ]);
  const sql = secretName !== undefined
    ? await connectFromSecret(manager, secretName)
    : connectUrl(url!, "DATABASE_URL");
  return {
    events: new PostgresRotationEvents(sql),
    close: () => sql.end({ timeout: 5 }),
  };
}

/** `KEYWARD_ENDPOINT_URL` and `KEYWARD_ENDPOINT_TOKEN`, both required by `what`. */
export function endpointOf(
  s: { KEYWARD_ENDPOINT_URL?: string | undefined; KEYWARD_ENDPOINT_TOKEN?: string | undefined },
  what: string,
): { url: string; token: string } {
  const url = s.KEYWARD_ENDPOINT_URL;
  const token = s.KEYWARD_ENDPOINT_TOKEN;
  if (url === undefined || token === undefined) {
    throw new ConfigError(
      `${what} needs KEYWARD_ENDPOINT_URL (the host's endpoint) and KEYWARD_ENDPOINT_TOKEN`,
    );
  }
  return { url, token };
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
    get "keyward.rotationRecorder"() {
      return rotationRecorderOf(manager);
    },
  } as SecretManager;
}
