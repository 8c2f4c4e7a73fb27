/**
 * Connection strings built from settings plus a secret, kept in a `Secret`
 * so the result is never logged or quoted.
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";
import { Secret } from "../core/secret.ts";

/**
 * Where a Postgres database is: plain settings, no credential.
 *
 * @example
 * ```ts
 * import type { PostgresLocation } from "@keyward/secrets/config";
 * const where: PostgresLocation = { host: "127.0.0.1", port: 5432, database: "app" };
 * if (where.port !== 5432) throw new Error();
 * ```
 */
export interface PostgresLocation {
  /** Host name or address. */
  host: string;
  /** Port. @default {5432} */
  port?: number;
  /** Database name. */
  database: string;
  /** Extra query parameters (`sslmode`, `application_name`, ...). */
  params?: Record<string, string>;
}

/**
 * Builds `postgres://user:password@host:port/database` from settings and a
 * `database/app`-style credential, percent-encoding each part, and returns it
 * as a `Secret` (printing it shows `[REDACTED]`). Errors name the part that
 * is wrong, never its text.
 *
 * @example
 * ```ts
 * import { Secret } from "@keyward/secrets";
 * import { postgresUrl } from "@keyward/secrets/config";
 *
 * const url = postgresUrl(
 *   { host: "127.0.0.1", port: 5432, database: "app" },
 *   { username: new Secret("app_a"), password: new Secret("p/w#1 @%?") },
 * );
 * if (`${url}` !== "[REDACTED]") throw new Error();
 * const parsed = new URL(url.reveal());
 * if (decodeURIComponent(parsed.password) !== "p/w#1 @%?" || parsed.pathname !== "/app") throw new Error();
 * ```
 */
export function postgresUrl(
  where: PostgresLocation,
  credential: { username: Secret | string; password: Secret | string },
): Secret {
  const reveal = (s: Secret | string) => typeof s === "string" ? s : s.reveal();
  const username = reveal(credential.username);
  const password = reveal(credential.password);
  if (!username) throw new ConfigError("postgresUrl: the credential's username is empty");
  if (!password) throw new ConfigError("postgresUrl: the credential's password is empty");
  if (!where.host || /[\s/@?#]/.test(where.host)) {
    throw new ConfigError(
      "postgresUrl: the host setting is empty or holds '/', '@', '?', '#' or a space",
    );
  }
  const port = where.port ?? 5432;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError("postgresUrl: the port setting must be an integer from 1 to 65535");
  }
  if (!where.database) throw new ConfigError("postgresUrl: the database setting is empty");
  const host = where.host.includes(":") && !where.host.startsWith("[")
    ? `[${where.host}]`
    : where.host;
  const query = new URLSearchParams(where.params ?? {}).toString();
  return new Secret(
    `postgres://${encodeURIComponent(username)}:${encodeURIComponent(password)}@${host}:${port}/` +
      encodeURIComponent(where.database) + (query ? `?${query}` : ""),
  );
}
