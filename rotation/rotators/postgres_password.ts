/**
 * The `postgres-password` rotator: alternating users (AWS's alternating-users
 * strategy). The secret (e.g. `database/app`) holds fields `{ username,
 * password }`; two roles `<base>_a` and `<base>_b` take turns, so the login
 * services use now keeps working until the next rotation.
 *
 * - set at provider: `ALTER ROLE <other> WITH LOGIN PASSWORD '<SCRAM verifier>'`
 *   (the verifier is computed here, so the password itself never reaches the
 *   server or its statement log);
 * - test: a real connection as the new user running `select 1`;
 * - disable old: `ALTER ROLE <old> NOLOGIN` (refused when it is the current user).
 *
 * The admin connection's credential comes from the secret manager: option
 * `adminSecret` names a secret holding a `postgres://` URL or connection
 * fields (never the command line). Options: `adminSecret` (required),
 * `passwordLength` (default 32), `url` (optional `postgres://host:port/db`
 * the new user connects to for the test; default the admin connection's).
 *
 * @module
 */

import postgres, { type Sql } from "postgres";
import { ConfigError } from "../../core/errors.ts";
import type { SecretValue } from "../../core/types.ts";
import { connectFromSecret } from "../../pg/connect.ts";
import { type Rotator, type RotatorContext, RotatorError } from "../types.ts";
import { randomString } from "./random.ts";

const ROLE = /^[a-z_][a-z0-9_]{0,60}_[ab]$/;
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function fields(name: string, value: SecretValue): { username: string; password: string } {
  if (
    typeof value === "string" || typeof value.username !== "string" ||
    typeof value.password !== "string"
  ) {
    throw new ConfigError(
      `secret ${JSON.stringify(name)} must hold fields username and password for postgres-password`,
      { secret: name },
    );
  }
  if (!ROLE.test(value.username)) {
    throw new ConfigError(
      `secret ${
        JSON.stringify(name)
      }: its username must end in _a or _b (alternating users <base>_a / <base>_b)`,
      { secret: name },
    );
  }
  return { username: value.username, password: value.password };
}

function otherUser(username: string): string {
  return username.endsWith("_a") ? `${username.slice(0, -2)}_b` : `${username.slice(0, -2)}_a`;
}

function b64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The SCRAM-SHA-256 verifier Postgres stores for `password` (RFC 5802 /
 * 7677), so `ALTER ROLE ... PASSWORD` never carries the password itself.
 */
export async function scramVerifier(password: string, iterations = 4096): Promise<string> {
  const enc = new TextEncoder();
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const base = await crypto.subtle.importKey("raw", enc.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const salted = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt, iterations },
      base,
      256,
    ),
  );
  const hmacKey = await crypto.subtle.importKey(
    "raw",
    salted,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const clientKey = new Uint8Array(
    await crypto.subtle.sign("HMAC", hmacKey, enc.encode("Client Key")),
  );
  const storedKey = new Uint8Array(await crypto.subtle.digest("SHA-256", clientKey));
  const serverKey = new Uint8Array(
    await crypto.subtle.sign("HMAC", hmacKey, enc.encode("Server Key")),
  );
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}

async function admin(ctx: RotatorContext): Promise<Sql> {
  const secret = ctx.options.adminSecret;
  if (typeof secret !== "string" || ctx.manager === undefined) {
    throw new ConfigError("postgres-password needs option adminSecret (a secret name)");
  }
  return await connectFromSecret(ctx.manager, secret);
}

async function withAdmin<T>(ctx: RotatorContext, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = await admin(ctx);
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 }).catch(() => {});
  }
}

function targetOf(ctx: RotatorContext, sql: Sql): { host: string; port: number; database: string } {
  if (typeof ctx.options.url === "string") {
    const u = new URL(ctx.options.url);
    return {
      host: u.hostname,
      port: Number(u.port || 5432),
      database: decodeURIComponent(u.pathname.slice(1)) || "postgres",
    };
  }
  const o = sql.options as unknown as { host: string[]; port: number[]; database: string };
  return { host: o.host[0], port: o.port[0], database: o.database };
}

/** Connects as `username` and runs `select 1`; throws `RotatorError` when refused. */
async function tryLogin(
  ctx: RotatorContext,
  sql: Sql,
  username: string,
  password: string,
): Promise<void> {
  const t = targetOf(ctx, sql);
  const conn = postgres({
    host: t.host,
    port: t.port,
    database: t.database,
    username,
    password,
    max: 1,
    connect_timeout: 5,
    onnotice: () => {},
  });
  try {
    const [row] = await conn`select 1 as one`;
    if (row?.one !== 1) throw new Error("unexpected answer");
  } catch (err) {
    throw new RotatorError(
      "login_refused",
      `a connection as ${username} failed (${
        (err as { code?: string }).code ?? (err as Error).name
      })`,
      ctx.name,
    );
  } finally {
    await conn.end({ timeout: 1 }).catch(() => {});
  }
}

/** A `postgres://host:port/db` URL with no user or password (the policy file is not a secret). */
function isPlainPostgresUrl(url: unknown): boolean {
  if (typeof url !== "string" || !/^postgres(ql)?:\/\//.test(url)) return false;
  try {
    const u = new URL(url);
    return u.hostname !== "" && u.username === "" && u.password === "";
  } catch {
    return false;
  }
}

async function roleExists(sql: Sql, role: string): Promise<boolean> {
  const rows = await sql`SELECT 1 FROM pg_roles WHERE rolname = ${role}`;
  return rows.length === 1;
}

/** The `postgres-password` rotator. */
export const postgresPasswordRotator: Rotator = {
  name: "postgres-password",
  validateOptions(options) {
    const problems: [string, string][] = [];
    for (const key of Object.keys(options)) {
      if (!["adminSecret", "passwordLength", "url"].includes(key)) {
        problems.push([key, "unknown option"]);
      }
    }
    if (typeof options.adminSecret !== "string" || options.adminSecret.length === 0) {
      problems.push(["adminSecret", "required: the secret holding the admin connection"]);
    }
    const n = options.passwordLength;
    if (n !== undefined && (typeof n !== "number" || !Number.isInteger(n) || n < 16 || n > 99)) {
      problems.push(["passwordLength", "must be an integer from 16 to 99"]);
    }
    if (options.url !== undefined && !isPlainPostgresUrl(options.url)) {
      problems.push(["url", "must be a postgres:// URL without credentials"]);
    }
    return problems;
  },
  async prepare(ctx) {
    const cur = fields(ctx.name, ctx.current);
    await withAdmin(ctx, async (sql) => {
      try {
        await sql`select 1`;
      } catch (err) {
        throw new RotatorError(
          "admin_login_refused",
          `the database refused the admin login of ${JSON.stringify(ctx.options.adminSecret)} (${
            (err as { code?: string }).code ?? (err as Error).name
          })`,
          ctx.name,
        );
      }
      for (const role of [cur.username, otherUser(cur.username)]) {
        if (!(await roleExists(sql, role))) {
          throw new ConfigError(
            `role ${role} does not exist: create ${
              cur.username.slice(0, -2)
            }_a and _b first (see the runbook)`,
            { secret: ctx.name },
          );
        }
      }
    });
  },
  generate(ctx) {
    const cur = fields(ctx.name, ctx.current);
    const length = typeof ctx.options.passwordLength === "number" ? ctx.options.passwordLength : 32;
    const base = ctx.current as Record<string, string>;
    return Promise.resolve({
      ...base,
      username: otherUser(cur.username),
      password: randomString(length, ALNUM),
    });
  },
  async setAtProvider(ctx, pending) {
    const next = fields(ctx.name, pending);
    const cur = fields(ctx.name, ctx.current);
    if (next.username === cur.username) {
      throw new RotatorError(
        "same_user",
        "refusing to change the password of the user current uses",
        ctx.name,
      );
    }
    const verifier = await scramVerifier(next.password);
    await withAdmin(ctx, async (sql) => {
      await sql.unsafe(`ALTER ROLE "${next.username}" WITH LOGIN PASSWORD '${verifier}'`);
    });
  },
  async test(ctx, pending) {
    const next = fields(ctx.name, pending);
    await withAdmin(ctx, (sql) => tryLogin(ctx, sql, next.username, next.password));
  },
  async disableOld(ctx, old) {
    const o = fields(ctx.name, old);
    const cur = fields(ctx.name, ctx.current);
    if (o.username === cur.username) {
      throw new RotatorError(
        "current_user",
        `refusing to disable ${o.username}: it is the user current uses`,
        ctx.name,
      );
    }
    await withAdmin(ctx, async (sql) => {
      await sql.unsafe(`ALTER ROLE "${o.username}" NOLOGIN`);
    });
    return `${o.username} NOLOGIN (open sessions continue until they end)`;
  },
  conflicts(old, current) {
    if (typeof old === "string" || typeof current === "string") return false;
    return old.username !== current.username;
  },
};
