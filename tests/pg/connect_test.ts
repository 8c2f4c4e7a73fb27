/**
 * Issue 12 item 1: a database URL that does not parse must never be quoted
 * (password included) by any error, through every path that takes one:
 * `createSecretManager()` (DATABASE_URL, SECRET_AUDIT_DATABASE_SECRET,
 * SECRET_ROTATION_DATABASE_SECRET), the CLI's `audit verify`/`audit stats`,
 * and `deno task db:migrate`.
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { main } from "../../cli.ts";
import { createSecretManager } from "../../factory.ts";
import { ConfigError } from "../../mod.ts";
import { connectFromSecret, connectionUrlProblem, connectUrl } from "../../pg/connect.ts";
import { MemorySecretManager } from "../../backends/memory.ts";
import { captureIo } from "../../testing/canary.ts";
import { FakeVaultServer } from "../fakes/vault_server.ts";
import { TEST_KEY_B64 } from "../audit/_fixtures.ts";
import { databaseUrl } from "../_postgres.ts";

/** Passwords as an operator would paste them, each with one troublesome character. */
const PASSWORDS: Record<string, string> = {
  slash: "Sup3r/Secr3t-pw1",
  hash: "Sup3r#Secr3t-pw2",
  at: "Sup3r@Secr3t-pw3",
  percent: "Sup3r%Secr3t-pw4",
  question: "Sup3r?Secr3t-pw5",
  space: "Sup3r Secr3t-pw6",
  issue: "Sup3r/Secr3t#pw",
};

/** The password's distinctive parts, any of which in the output is a leak. */
function leaks(text: string, password: string): boolean {
  return password.split(/[^A-Za-z0-9-]+/).filter((p) => p.length >= 5)
    .some((part) => text.includes(part)) || text.includes(password);
}

const raw = (password: string, host = "127.0.0.1:5432") =>
  `postgres://keyward:${password}@${host}/keyward_test`;

Deno.test("connectionUrlProblem() names the fault and never quotes the URL", () => {
  const refused = ["slash", "hash", "percent", "question", "issue"];
  for (const [kind, password] of Object.entries(PASSWORDS)) {
    const problem = connectionUrlProblem(raw(password));
    if (refused.includes(kind)) {
      assert.ok(problem !== undefined, `${kind} accepted`);
      assert.ok(!leaks(problem, password), `${kind}: ${problem}`);
      assert.match(problem, /percent-encode/);
    } else {
      // postgres.js escapes these itself and connects with the password as given.
      assert.equal(problem, undefined, kind);
    }
    assert.equal(connectionUrlProblem(raw(encodeURIComponent(password))), undefined, kind);
  }
  assert.match(connectionUrlProblem("mysql://u:p@h/db")!, /not a postgres:\/\//);
  assert.match(connectionUrlProblem("postgres://u:p@h:notaport/db")!, /does not parse/);
});

Deno.test("connectUrl() and connectFromSecret() refuse with a ConfigError naming the source", async () => {
  for (const password of Object.values(PASSWORDS)) {
    if (connectionUrlProblem(raw(password)) === undefined) continue;
    let thrown: unknown;
    try {
      connectUrl(raw(password), "DATABASE_URL");
    } catch (err) {
      thrown = err;
    }
    assert.ok(thrown instanceof ConfigError, String(thrown));
    assert.match(thrown.message, /^DATABASE_URL is not a usable Postgres connection URL: /);
    assert.ok(!leaks(thrown.message + String(thrown.cause ?? ""), password), thrown.message);
    const secrets = new MemorySecretManager({ initial: { "database/audit": raw(password) } });
    const err = await connectFromSecret(secrets, "database/audit").catch((e) => e);
    assert.ok(err instanceof ConfigError, String(err));
    assert.match(err.message, /^secret "database\/audit" is not a usable/);
    assert.equal(err.secret, "database/audit");
    assert.ok(!leaks(err.message + (err.stack ?? ""), password), err.message);
  }
});

const base = await databaseUrl();

Deno.test({
  name: "a password with '/', '#', '@', '%', '?' or a space connects once percent-encoded",
  ignore: base === undefined,
  fn: async () => {
    const admin = postgres(base!, { max: 1, onnotice: () => {} });
    const role = `keyward_pw_${crypto.randomUUID().slice(0, 8)}`;
    try {
      for (const password of Object.values(PASSWORDS)) {
        await admin.unsafe(`DROP ROLE IF EXISTS ${role}`);
        await admin.unsafe(`CREATE ROLE ${role} LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
        const u = new URL(base!);
        const url = `postgres://${role}:${encodeURIComponent(password)}@${u.host}${u.pathname}`;
        const sql = connectUrl(url, "DATABASE_URL");
        try {
          const [{ who }] = await sql`SELECT current_user AS who`;
          assert.equal(who, role);
        } finally {
          await sql.end();
        }
        // Those the parser escapes itself connect as written, too.
        const asWritten = `postgres://${role}:${password}@${u.host}${u.pathname}`;
        if (connectionUrlProblem(asWritten) === undefined) {
          const sql2 = connectUrl(asWritten, "DATABASE_URL");
          try {
            const [{ who }] = await sql2`SELECT current_user AS who`;
            assert.equal(who, role);
          } finally {
            await sql2.end();
          }
        }
      }
    } finally {
      await admin.unsafe(`DROP ROLE IF EXISTS ${role}`);
      await admin.end();
    }
  },
});

const bad = Object.entries(PASSWORDS).filter(([, p]) => connectionUrlProblem(raw(p)) !== undefined);

Deno.test("createSecretManager() names DATABASE_URL and never quotes it (audit, rotation events)", async () => {
  const server = await FakeVaultServer.start();
  try {
    for (const [kind, password] of bad) {
      const envs: Record<string, string>[] = [
        {
          SECRET_BACKEND: "memory",
          SECRET_AUDIT: "postgres",
          SECRET_AUDIT_SERVICE: "billing",
          KEYWARD_AUDIT_KEY: TEST_KEY_B64,
          DATABASE_URL: raw(password),
        },
        {
          SECRET_BACKEND: "vault",
          VAULT_ADDR: server.url,
          VAULT_TOKEN: server.rootToken,
          SECRET_ROTATION_EVENTS: "postgres",
          DATABASE_URL: raw(password),
        },
      ];
      for (const env of envs) {
        const err = await createSecretManager({ env }).catch((e) => e);
        assert.ok(err instanceof ConfigError, `${kind}: ${err}`);
        assert.match(err.message, /^DATABASE_URL is not a usable Postgres connection URL: /);
        assert.ok(!leaks(`${err.message}\n${err.stack}\n${err.cause ?? ""}`, password), kind);
      }
    }
  } finally {
    await server.close();
  }
});

Deno.test("createSecretManager() names the database secret and never quotes its URL", async () => {
  const server = await FakeVaultServer.start();
  try {
    for (const [kind, password] of bad) {
      // The audit's database secret, read from the env backend (DATABASE_AUDIT).
      const auditErr = await createSecretManager({
        env: {
          SECRET_BACKEND: "env",
          SECRET_AUDIT: "postgres",
          SECRET_AUDIT_SERVICE: "billing",
          KEYWARD_AUDIT_KEY: TEST_KEY_B64,
          SECRET_AUDIT_DATABASE_SECRET: "database/audit",
          DATABASE_AUDIT: raw(password),
        },
      }).catch((e) => e);
      assert.ok(auditErr instanceof ConfigError, `${kind}: ${auditErr}`);
      assert.match(auditErr.message, /secret "database\/audit" is not a usable Postgres/);
      assert.ok(!leaks(`${auditErr.message}\n${auditErr.stack}`, password), kind);

      // The rotation events' database secret, read from Vault.
      const env = {
        SECRET_BACKEND: "vault",
        VAULT_ADDR: server.url,
        VAULT_TOKEN: server.rootToken,
      };
      const writer = await createSecretManager({ env: { ...env, SECRET_CACHE_TTL_MS: "0" } });
      await writer.setSecret("database/rotation", raw(password));
      await writer.close();
      const rotErr = await createSecretManager({
        env: {
          ...env,
          SECRET_ROTATION_EVENTS: "postgres",
          SECRET_ROTATION_DATABASE_SECRET: "database/rotation",
        },
      }).catch((e) => e);
      assert.ok(rotErr instanceof ConfigError, `${kind}: ${rotErr}`);
      assert.match(rotErr.message, /secret "database\/rotation" is not a usable Postgres/);
      assert.ok(!leaks(`${rotErr.message}\n${rotErr.stack}`, password), kind);
    }
  } finally {
    await server.close();
  }
});

Deno.test("secrets audit verify and stats: a malformed DATABASE_URL exits 2, never printing it", async () => {
  for (const [kind, password] of bad) {
    for (const sub of ["verify", "stats"]) {
      const io = captureIo({
        env: { DATABASE_URL: raw(password), KEYWARD_AUDIT_KEY: TEST_KEY_B64 },
      });
      const code = await main(["audit", sub], io);
      const out = io.stdoutText + io.stderrText;
      assert.equal(code, 2, `${sub} ${kind}: ${out}`);
      assert.match(io.stderrText, /DATABASE_URL is not a usable Postgres connection URL/);
      assert.ok(!leaks(out, password), `${sub} ${kind}: ${out}`);
      assert.doesNotMatch(out, /\n\s+at /, "no stack trace");
    }
  }
});

Deno.test("deno task db:migrate: a malformed DATABASE_URL exits 2, never printing it", async () => {
  const task = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)))
    .tasks["db:migrate"] as string;
  const args = task.split(/\s+/).slice(1); // the task's own permission flags
  for (const [kind, password] of bad) {
    const out = await new Deno.Command(Deno.execPath(), {
      args,
      cwd: new URL("../../", import.meta.url),
      env: { DATABASE_URL: raw(password), NO_COLOR: "1" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, `${kind}: ${text}`);
    assert.match(text, /DATABASE_URL is not a usable Postgres connection URL/);
    assert.ok(!leaks(text, password), `${kind}: ${text}`);
  }
});
