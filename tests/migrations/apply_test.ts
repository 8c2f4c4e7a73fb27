import assert from "node:assert/strict";
import { ConfigError } from "../../core/errors.ts";
import { applyMigrations, type Migration, migrationChecksum } from "../../migrations/apply.ts";
import { MIGRATIONS } from "../../migrations/_sql.ts";
import { readMigrationFiles, renderModule } from "../../migrations/generate.ts";
import { openTestDatabase } from "../_postgres.ts";

Deno.test("the generated migrations module matches the SQL files (run `deno task db:generate`)", async () => {
  const dir = new URL("../../migrations/", import.meta.url);
  const files = await readMigrationFiles(dir);
  assert.deepEqual(MIGRATIONS.map((m) => m.id), files.map((f) => f.id));
  const current = await Deno.readTextFile(new URL("_sql.ts", dir));
  assert.equal(
    current,
    renderModule(files),
    "migrations/_sql.ts is stale: run deno task db:generate",
  );
});

Deno.test("migration checksums are the SHA-256 of the text", async () => {
  assert.equal(
    await migrationChecksum("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

const db = await openTestDatabase("migrations");

Deno.test({
  name: "migrations apply to an empty schema, in order, and a re-run applies nothing",
  ignore: db === null,
  async fn() {
    const sql = db!.sql;
    await sql.unsafe(
      `DROP SCHEMA IF EXISTS "${db!.schema}" CASCADE; CREATE SCHEMA "${db!.schema}"`,
    );
    const first = await applyMigrations(sql);
    assert.deepEqual(first.applied, MIGRATIONS.map((m) => m.id));
    assert.deepEqual(first.alreadyApplied, []);
    const tables = await sql<{ table_name: string }[]>`
      SELECT table_name FROM information_schema.tables
      WHERE table_schema = ${db!.schema} ORDER BY table_name`;
    assert.deepEqual(tables.map((t) => t.table_name), [
      "audit_verify_runs",
      "schema_migrations",
      "secret_access_log",
      "secret_access_log_anchor",
      "secret_rotation_log",
    ]);
    const recorded = await sql<{ id: string; checksum: string }[]>`
      SELECT id, checksum FROM schema_migrations ORDER BY id`;
    for (const [i, m] of MIGRATIONS.entries()) {
      assert.equal(recorded[i].id, m.id);
      assert.equal(recorded[i].checksum, await migrationChecksum(m.sql));
    }
    const again = await applyMigrations(sql);
    assert.deepEqual(again.applied, []);
    assert.deepEqual(again.alreadyApplied, MIGRATIONS.map((m) => m.id));
  },
});

Deno.test({
  name: "an applied migration whose text changed is refused, naming it, and nothing runs",
  ignore: db === null,
  async fn() {
    const sql = db!.sql;
    await sql.unsafe(
      `DROP SCHEMA IF EXISTS "${db!.schema}" CASCADE; CREATE SCHEMA "${db!.schema}"`,
    );
    await applyMigrations(sql);
    const edited: Migration[] = MIGRATIONS.map((m, i) =>
      i === 0 ? { ...m, sql: m.sql + "\nCREATE TABLE sneaky (id int);" } : m
    );
    const extra: Migration = { id: "9999_later", sql: "CREATE TABLE later (id int);" };
    await assert.rejects(
      applyMigrations(sql, { migrations: [...edited, extra] }),
      (err: unknown) =>
        err instanceof ConfigError && err.message.includes(MIGRATIONS[0].id) &&
        /changed after it was applied/.test(err.message),
    );
    const sneaky = await sql`SELECT to_regclass('sneaky') AS t, to_regclass('later') AS l`;
    assert.equal(sneaky[0].t, null);
    assert.equal(sneaky[0].l, null, "a later migration must not run after the refusal");
  },
});

Deno.test({
  name: "a failing migration rolls back completely and is not recorded",
  ignore: db === null,
  async fn() {
    const sql = db!.sql;
    await sql.unsafe(
      `DROP SCHEMA IF EXISTS "${db!.schema}" CASCADE; CREATE SCHEMA "${db!.schema}"`,
    );
    const broken: Migration = {
      id: "9000_broken",
      sql: "CREATE TABLE half_done (id int);\nSELECT no_such_function();",
    };
    await assert.rejects(applyMigrations(sql, { migrations: [...MIGRATIONS, broken] }));
    const rows = await sql`SELECT id FROM schema_migrations ORDER BY id`;
    assert.deepEqual(rows.map((r) => r.id), MIGRATIONS.map((m) => m.id));
    assert.equal((await sql`SELECT to_regclass('half_done') AS t`)[0].t, null);
  },
});

Deno.test({
  name: "two appliers racing on an empty schema apply each migration exactly once",
  ignore: db === null,
  async fn() {
    const sql = db!.sql;
    await sql.unsafe(
      `DROP SCHEMA IF EXISTS "${db!.schema}" CASCADE; CREATE SCHEMA "${db!.schema}"`,
    );
    const [a, b] = await Promise.all([applyMigrations(sql), applyMigrations(sql)]);
    assert.deepEqual([...a.applied, ...b.applied].sort(), MIGRATIONS.map((m) => m.id).sort());
    const rows = await sql`SELECT count(*)::int AS n FROM schema_migrations`;
    assert.equal(rows[0].n, MIGRATIONS.length);
  },
});

Deno.test({
  name: "a missing earlier migration is refused when a later one is applied",
  ignore: db === null,
  async fn() {
    const sql = db!.sql;
    await sql.unsafe(
      `DROP SCHEMA IF EXISTS "${db!.schema}" CASCADE; CREATE SCHEMA "${db!.schema}"`,
    );
    await applyMigrations(sql);
    const gap: Migration = { id: "0001_t_inserted_late", sql: "SELECT 1;" };
    await assert.rejects(
      applyMigrations(sql, { migrations: [MIGRATIONS[0], gap, ...MIGRATIONS.slice(1)] }),
      /0001_t_inserted_late is not applied but the later/,
    );
  },
});

Deno.test({
  name: "migrations: close the test database",
  ignore: db === null,
  fn: () => db!.close(),
});
