/**
 * `connectFromSecret()` with a secret that holds connection fields (the
 * `database/app` shape plus host, port and database), as the audit sink and
 * the rotation events read `SECRET_AUDIT_DATABASE_SECRET`.
 */

import assert from "node:assert/strict";
import { MemorySecretManager } from "../../backends/memory.ts";
import { ConfigError } from "../../mod.ts";
import { connectFromSecret, connectionUrlProblem } from "../../pg/connect.ts";
import { openTestDatabase, RUN_ID } from "../_postgres.ts";

function generatedPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return "pw/" + Array.from(bytes, (b) => b.toString(36)).join("") + "#@%'";
}

Deno.test("a secret with fields host, port, username, password and database connects", async () => {
  const db = await openTestDatabase("pg_fields");
  if (!db) return;
  const role = `fields_${RUN_ID}`.toLowerCase();
  const password = generatedPassword();
  const where = new URL(db.url);
  try {
    await db.sql.unsafe(`CREATE ROLE "${role}" LOGIN PASSWORD '${password.replaceAll("'", "''")}'`);
    const fields = {
      host: where.hostname,
      port: where.port || "5432",
      database: where.pathname.slice(1),
      password,
    };
    // `username` (the database/app shape) and `user` (libpq's) both name the role.
    for (const userField of ["username", "user"]) {
      const secrets = new MemorySecretManager({
        initial: { "database/audit": { ...fields, [userField]: role } },
      });
      const sql = await connectFromSecret(secrets, "database/audit");
      try {
        const [{ who, db: name }] = await sql`SELECT current_user AS who, current_database() AS db`;
        assert.equal(who, role);
        assert.equal(name, fields.database);
      } finally {
        await sql.end();
      }
    }
  } finally {
    await db.sql.unsafe(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
    await db.close();
  }
});

Deno.test("a secret with neither a URL nor connection fields is refused, naming it and no value", async () => {
  const canary = "canary-pg-fields-0001";
  const cases: [unknown, RegExp][] = [
    [`not a url ${canary}`, /holds neither a postgres:\/\/ URL nor connection fields/],
    [{ host: "127.0.0.1", username: "app", note: canary }, /needs fields host, user, password/],
    [{ password: canary, username: "app" }, /needs fields host, user, password/],
  ];
  for (const [value, message] of cases) {
    const secrets = new MemorySecretManager({
      initial: { "database/audit": value as string | Record<string, string> },
    });
    const err = await connectFromSecret(secrets, "database/audit").catch((e) => e);
    assert.ok(err instanceof ConfigError, String(err));
    assert.match(err.message, message);
    assert.match(err.message, /^secret "database\/audit"/);
    assert.equal(err.secret, "database/audit");
    assert.ok(!`${err.message}${err.stack}`.includes(canary));
  }
});

Deno.test("a URL with a line break in it is refused without quoting it", () => {
  const password = `pw-${crypto.randomUUID()}\n-pasted`;
  const problem = connectionUrlProblem(`postgres://app:${password}@127.0.0.1/app`);
  assert.match(problem!, /control character/);
  assert.ok(!problem!.includes(password.slice(0, 12)));
});

Deno.test("a password percent-encoded as Latin-1 (%E9 for é) is refused, not sent garbled", () => {
  // postgres.js decodes the password with decodeURIComponent, which throws on
  // bytes that are not UTF-8; the problem names the fault, never the URL.
  const word = `caf${crypto.randomUUID().slice(0, 8)}`;
  const latin1 = `${word}%E9`;
  const problem = connectionUrlProblem(`postgres://app:${latin1}@127.0.0.1/app`);
  assert.match(problem!, /percent-encode/);
  assert.ok(!problem!.includes(word));
  assert.equal(
    connectionUrlProblem(`postgres://app:${encodeURIComponent(`${word}é`)}@127.0.0.1/app`),
    undefined,
  );
});
