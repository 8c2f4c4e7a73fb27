/**
 * The one place keyward opens a Postgres connection (postgres.js): from a
 * connection URL given by a setting (`DATABASE_URL`), or from a secret that
 * holds a `postgres://` URL or connection fields. The audit sink, the CLI's
 * `audit` command, the factory's rotation events and `db:migrate` all
 * connect through here.
 *
 * A connection string holds a password, so no error raised here quotes it,
 * nor passes on the driver's error (which does): a URL that does not parse
 * is a `ConfigError` naming the setting or secret and saying why.
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
  /**
   * Seconds to wait for a connection.
   * @default {5}
   */
  connectTimeoutSeconds?: number;
}

const SCHEME = /^postgres(?:ql)?:\/\//;

/**
 * Says why `text` cannot be used as a Postgres connection URL, or
 * `undefined` when it can. The answer never quotes `text` (it holds a
 * password): it names the part at fault and how to fix it.
 *
 * Accepted is what postgres.js reads as the operator meant it: characters
 * the URL parser escapes itself (a space, an unescaped `@` in the password)
 * are accepted, as they always were; `/`, `?` and `#` (which end the host
 * part early) and a `%` that starts no `%XX` escape are refused.
 */
export function connectionUrlProblem(text: string): string | undefined {
  if (!SCHEME.test(text)) return "it is not a postgres:// or postgresql:// URL";
  const rest = text.slice(text.indexOf("://") + 3);
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const after = end < 0 ? "" : rest.slice(end);
  const at = authority.lastIndexOf("@");
  if (at < 0 && after.includes("@")) {
    return "the user or password holds '/', '?' or '#', which ends the host part early: " +
      "percent-encode them ('/' as %2F, '?' as %3F, '#' as %23)";
  }
  if (/%(?![0-9A-Fa-f]{2})/.test(authority)) {
    return "the user or password holds a '%' that starts no %XX escape: percent-encode it as %25";
  }
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) {
    return "it holds a control character (a line break?)";
  }
  try {
    new URL(text);
  } catch {
    // The parser's own message quotes the whole URL: only the rule is given.
    return "it does not parse as a URL: check the host and port, and percent-encode " +
      "'/', '?', '#' and '%' in the user or password";
  }
  try {
    // postgres.js decodes the user and password (and the host part) this way.
    const hosts = rest.split(/[?/]/)[0];
    decodeURIComponent(hosts.slice(hosts.indexOf("@") + 1));
    const url = new URL(text);
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch {
    return "the user or password holds a '%' that starts no %XX escape: percent-encode it as %25";
  }
  return undefined;
}

/**
 * Throws a `ConfigError` naming `source` (a setting such as `DATABASE_URL`,
 * or `secret "name"`) when `text` is not a usable connection URL; the
 * message never quotes the URL.
 */
export function assertConnectionUrl(text: string, source: string): void {
  const problem = connectionUrlProblem(text);
  if (problem !== undefined) {
    throw new ConfigError(`${source} is not a usable Postgres connection URL: ${problem}`);
  }
}

function common(options: PgConnectOptions) {
  return {
    max: options.max ?? 1,
    onnotice: () => {},
    connect_timeout: options.connectTimeoutSeconds ?? 5,
  };
}

/**
 * Connects with the URL given by `source` (a setting's name, or
 * `secret "name"`), checked first; a bad URL is a `ConfigError` naming
 * `source`, never quoting the URL. postgres.js connects lazily, on the
 * first query.
 */
export function connectUrl(url: string, source: string, options: PgConnectOptions = {}): Sql {
  assertConnectionUrl(url, source);
  try {
    return postgres(url, common(options));
  } catch (err) {
    // The driver's message may quote the URL: only its kind is passed on.
    throw new ConfigError(
      `${source} is not a usable Postgres connection URL (${
        err instanceof Error ? err.name : "error"
      })`,
    );
  }
}

/**
 * Connects with the credentials held by secret `name`: a `postgres://` URL,
 * or JSON fields `host`, `port`, `user` (or `username`), `password`,
 * `database` (or `dbname`). Never echoes them.
 */
export async function connectFromSecret(
  manager: SecretManager,
  name: string,
  options: PgConnectOptions = {},
): Promise<Sql> {
  const text = (await manager.getSecret(name)).trim();
  const source = `secret ${JSON.stringify(name)}`;
  if (/^postgres(ql)?:/.test(text)) {
    try {
      return connectUrl(text, source, options);
    } catch (err) {
      if (err instanceof ConfigError) {
        throw new ConfigError(err.message, { secret: name });
      }
      throw err;
    }
  }
  let fields: Record<string, string>;
  try {
    fields = JSON.parse(text);
  } catch {
    throw new ConfigError(`${source} holds neither a postgres:// URL nor connection fields`, {
      secret: name,
    });
  }
  if (typeof fields !== "object" || fields === null || !fields.host || !fields.password) {
    throw new ConfigError(`${source} needs fields host, user, password and database`, {
      secret: name,
    });
  }
  return postgres({
    ...common(options),
    host: fields.host,
    port: fields.port ? Number(fields.port) : 5432,
    user: fields.user ?? fields.username,
    password: fields.password,
    database: fields.database ?? fields.dbname,
  });
}
