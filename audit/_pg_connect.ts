/**
 * Opens a postgres.js connection whose credentials come from the secret
 * manager: the secret holds a `postgres://` URL, or fields `host`, `port`,
 * `user` (or `username`), `password`, `database` (or `dbname`). Shared by
 * the audit sink and the factory's rotation events.
 *
 * @module
 */

import postgres, { type Sql } from "postgres";
import { ConfigError } from "../core/errors.ts";
import type { SecretManager } from "../core/types.ts";

/** Connection options passed through to postgres.js besides the credentials. */
export interface PgConnectOptions {
  /**
   * Connections in the pool.
   * @default {1}
   */
  max?: number;
}

/** Connects with the credentials held by secret `name`; never echoes them. */
export async function connectFromSecret(
  manager: SecretManager,
  name: string,
  options: PgConnectOptions = {},
): Promise<Sql> {
  const text = await manager.getSecret(name);
  const common = { max: options.max ?? 1, onnotice: () => {}, connect_timeout: 5 };
  if (/^postgres(ql)?:\/\//.test(text)) return postgres(text, common);
  let fields: Record<string, string>;
  try {
    fields = JSON.parse(text);
  } catch {
    throw new ConfigError(
      `secret ${JSON.stringify(name)} holds neither a postgres:// URL nor connection fields`,
      { secret: name },
    );
  }
  if (typeof fields !== "object" || fields === null || !fields.host || !fields.password) {
    throw new ConfigError(
      `secret ${JSON.stringify(name)} needs fields host, user, password and database`,
      { secret: name },
    );
  }
  return postgres({
    ...common,
    host: fields.host,
    port: fields.port ? Number(fields.port) : 5432,
    user: fields.user ?? fields.username,
    password: fields.password,
    database: fields.database ?? fields.dbname,
  });
}
