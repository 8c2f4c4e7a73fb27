/**
 * Applies keyward's SQL migrations in order, each in its own transaction,
 * under an advisory lock, recording each in `schema_migrations` with the
 * SHA-256 of its text. A migration edited after it was applied is refused.
 *
 * @module
 */

import type { Sql } from "postgres";
import { ConfigError, KeywardError } from "../core/errors.ts";
import { MIGRATIONS } from "./_sql.ts";

/**
 * One migration: its id (`0001_secret_access_log`) and its SQL.
 *
 * @example Migrations of your own, with the checksum `schema_migrations` will record
 * ```ts
 * import { type Migration, migrationChecksum } from "@keyward/secrets/postgres";
 *
 * const appMigrations: Migration[] = [
 *   { id: "app_0001_accounts", sql: "CREATE TABLE accounts (id bigserial PRIMARY KEY)" },
 *   { id: "app_0002_accounts_email", sql: "ALTER TABLE accounts ADD COLUMN email text" },
 * ];
 * if (appMigrations.some((m, i) => i > 0 && m.id <= appMigrations[i - 1].id)) {
 *   throw new Error("ids must increase: they are applied in this order");
 * }
 * const checksum = await migrationChecksum(appMigrations[0].sql);
 * if (!/^[0-9a-f]{64}$/.test(checksum)) throw new Error();
 * ```
 */
export interface Migration {
  /** The file name without `.sql`; numbered, applied in this order. */
  id: string;
  /** The SQL text (may hold several statements). */
  sql: string;
}

/**
 * What {@linkcode applyMigrations} did.
 *
 * @example A deploy step that may run any number of times
 * (Not run by `deno test --doc`: it needs a Postgres server.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { applyMigrations, MIGRATIONS, type MigrationReport } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const first: MigrationReport = await applyMigrations(sql);
 * console.log(`applied: ${first.applied.join(", ") || "nothing"}`);
 * const again = await applyMigrations(sql);
 * if (again.applied.length !== 0 || again.alreadyApplied.length !== MIGRATIONS.length) {
 *   throw new Error("a second run applies nothing");
 * }
 * await sql.end();
 * ```
 */
export interface MigrationReport {
  /** Migrations applied by this call, in order. */
  applied: string[];
  /** Migrations that were already applied (checksums verified). */
  alreadyApplied: string[];
}

/**
 * Options of {@linkcode applyMigrations}.
 *
 * @example Your own migrations, recorded in the same `schema_migrations`
 * Applied in a call of their own, so a migration a later keyward version
 * adds never lands between yours.
 * (Not run by `deno test --doc`: it needs a Postgres server.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { type ApplyMigrationsOptions, applyMigrations } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const options: ApplyMigrationsOptions = {
 *   migrations: [
 *     { id: "app_0001_accounts", sql: "CREATE TABLE accounts (id bigserial PRIMARY KEY)" },
 *     { id: "app_0002_accounts_email", sql: "ALTER TABLE accounts ADD COLUMN email text" },
 *   ],
 * };
 * await applyMigrations(sql); // keyward's own tables
 * const report = await applyMigrations(sql, options);
 * console.log(`applied: ${report.applied.join(", ") || "nothing"}`);
 * await sql.end();
 * ```
 */
export interface ApplyMigrationsOptions {
  /**
   * The migrations to apply.
   * @default {the migrations shipped with this version of keyward}
   */
  migrations?: readonly Migration[];
}

/**
 * The advisory lock key every applier takes (`hashtext('keyward.migrations')`).
 *
 * @example Waiting in a deploy script until no migration is running
 * (Not run by `deno test --doc`: it needs a Postgres server.)
 * ```ts ignore
 * import postgres from "postgres";
 * import { MIGRATION_LOCK_NAME } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * await sql.begin(async (tx) => {
 *   await tx`SELECT pg_advisory_xact_lock(hashtext(${MIGRATION_LOCK_NAME}))`;
 *   // every applier that started before us has finished here
 * });
 * await sql.end();
 * ```
 */
export const MIGRATION_LOCK_NAME = "keyward.migrations";

/**
 * Lower-case hex SHA-256 of a migration's text (WebCrypto), as recorded in
 * `schema_migrations.checksum`.
 *
 * @example Any edit to an applied migration changes its checksum
 * ```ts
 * import { migrationChecksum, MIGRATIONS } from "@keyward/secrets/postgres";
 *
 * const empty = await migrationChecksum("");
 * if (empty !== "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") throw new Error();
 * const shipped = await migrationChecksum(MIGRATIONS[0].sql);
 * if (!/^[0-9a-f]{64}$/.test(shipped)) throw new Error();
 * if (await migrationChecksum(MIGRATIONS[0].sql + "\n") === shipped) throw new Error();
 * ```
 */
export async function migrationChecksum(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  id          text PRIMARY KEY,
  checksum    text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now()
)`;

/**
 * Applies the pending migrations to the database `sql` points at (its
 * `search_path` decides the schema). Safe to run from several processes at
 * once: an advisory lock serialises them, and each migration is re-checked
 * under the lock before it runs.
 *
 * @throws {ConfigError} when an applied migration's text changed (naming it),
 *   or a migration is missing while a later one is applied.
 *
 * @example
 * ```ts ignore
 * import postgres from "postgres";
 * import { applyMigrations } from "@keyward/secrets/postgres";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const report = await applyMigrations(sql);
 * console.log(`applied: ${report.applied.join(", ") || "nothing"}`);
 * await sql.end();
 * ```
 */
export async function applyMigrations(
  sql: Sql,
  options: ApplyMigrationsOptions = {},
): Promise<MigrationReport> {
  const migrations = options.migrations ?? MIGRATIONS;
  const sums = new Map<string, string>();
  for (const m of migrations) sums.set(m.id, await migrationChecksum(m.sql));
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].id <= migrations[i - 1].id) {
      throw new ConfigError(`migration ${migrations[i].id} is out of order`);
    }
  }

  const applied = await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext(${MIGRATION_LOCK_NAME}))`;
    await tx.unsafe(CREATE_TABLE);
    return await tx<{ id: string; checksum: string }[]>`
      SELECT id, checksum FROM schema_migrations ORDER BY id`;
  });
  const done = new Map(applied.map((r) => [r.id, r.checksum]));
  checkApplied(migrations, sums, done);

  const report: MigrationReport = { applied: [], alreadyApplied: [] };
  for (const m of migrations) {
    if (done.has(m.id)) {
      report.alreadyApplied.push(m.id);
      continue;
    }
    const ran = await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(hashtext(${MIGRATION_LOCK_NAME}))`;
      const now = await tx<{ checksum: string }[]>`
        SELECT checksum FROM schema_migrations WHERE id = ${m.id}`;
      if (now.length > 0) {
        if (now[0].checksum !== sums.get(m.id)) throw editedError(m.id);
        return false; // another applier ran it while we waited for the lock
      }
      await tx.unsafe(m.sql);
      await tx`INSERT INTO schema_migrations (id, checksum) VALUES (${m.id}, ${sums.get(m.id)!})`;
      return true;
    });
    (ran ? report.applied : report.alreadyApplied).push(m.id);
  }
  return report;
}

function editedError(id: string): ConfigError {
  return new ConfigError(
    `migration ${id} was changed after it was applied (its checksum differs from the one in ` +
      `schema_migrations); add a new migration instead of editing an applied one`,
  );
}

function checkApplied(
  migrations: readonly Migration[],
  sums: Map<string, string>,
  done: Map<string, string>,
): void {
  let lastApplied = -1;
  migrations.forEach((m, i) => {
    const have = done.get(m.id);
    if (have === undefined) return;
    if (have !== sums.get(m.id)) throw editedError(m.id);
    lastApplied = i;
  });
  for (let i = 0; i < lastApplied; i++) {
    if (!done.has(migrations[i].id)) {
      throw new ConfigError(
        `migration ${migrations[i].id} is not applied but the later ${
          migrations[lastApplied].id
        } is; renumber it after the applied ones`,
      );
    }
  }
}

if (import.meta.main) {
  const url = Deno.env.get("DATABASE_URL");
  if (!url) {
    console.error("DATABASE_URL is not set (postgres://user:password@host:5432/db)");
    Deno.exit(2);
  }
  const { connectUrl } = await import("../pg/connect.ts");
  let sql;
  try {
    sql = connectUrl(url, "DATABASE_URL", { connectTimeoutSeconds: 30 });
  } catch (err) {
    // A ConfigError naming the setting and why; it never quotes the URL.
    console.error(err instanceof KeywardError ? err.message : "DATABASE_URL cannot be used");
    Deno.exit(2);
  }
  try {
    const report = await applyMigrations(sql);
    for (const id of report.applied) console.log(`applied ${id}`);
    console.log(
      `${report.applied.length} applied, ${report.alreadyApplied.length} already applied`,
    );
  } catch (err) {
    // keyward's own errors and the server's (a failing statement) hold no
    // secret; other driver errors may quote the connection string, so only
    // their name and code are shown.
    const code = (err as { code?: unknown })?.code;
    console.error(
      err instanceof KeywardError || (err instanceof Error && err.name === "PostgresError")
        ? err.message
        : `migration failed: ${err instanceof Error ? err.name : "error"}${
          typeof code === "string" && /^[A-Z0-9_]{1,40}$/.test(code) ? ` (${code})` : ""
        }`,
    );
    Deno.exitCode = 1;
  } finally {
    await sql.end();
  }
}
