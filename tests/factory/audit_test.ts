import assert from "node:assert/strict";
import { createSecretManager } from "../../factory.ts";
import { ConfigError } from "../../mod.ts";
import { applyMigrations } from "../../migrations/apply.ts";
import { openTestDatabase } from "../_postgres.ts";

const db = await openTestDatabase("factory_audit");
if (db) await applyMigrations(db.sql);

const KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "keyward-factory-audit-" });
}

Deno.test("factory: audit is off unless SECRET_AUDIT says otherwise", async () => {
  const dir = await tempDir();
  try {
    const m = await createSecretManager({
      env: { SECRET_BACKEND: "memory", SECRET_AUDIT_FILE: `${dir}/audit.jsonl` },
    });
    await m.listSecrets();
    await m.close();
    await assert.rejects(Deno.stat(`${dir}/audit.jsonl`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("factory: SECRET_AUDIT=jsonl writes one chained line per call, names only", async () => {
  const dir = await tempDir();
  const canary = `canary-${crypto.randomUUID()}`;
  try {
    const m = await createSecretManager({
      env: {
        SECRET_BACKEND: "memory",
        SECRET_AUDIT: "jsonl",
        SECRET_AUDIT_SERVICE: "billing",
        SECRET_AUDIT_FILE: `${dir}/audit.jsonl`,
        SECRET_AUDIT_CHECKPOINT: `${dir}/checkpoint.json`,
        KEYWARD_AUDIT_KEY: KEY,
      },
    });
    await m.setSecret("db/password", canary);
    assert.equal(await m.getSecret("db/password"), canary);
    await assert.rejects(m.getSecret("db/missing"));
    await m.close();
    const text = await Deno.readTextFile(`${dir}/audit.jsonl`);
    assert.ok(!text.includes(canary), "no value in the audit file");
    const lines = text.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.action, l.outcome, l.secret_name, l.service]), [
      ["set", "ok", "db/password", "billing"],
      ["get", "ok", "db/password", "billing"],
      ["get", "not_found", "db/missing", "billing"],
    ]);
    assert.ok(lines.every((l) => typeof l.mac === "string" && l.mac.length === 64), "chained");
    const checkpoint = JSON.parse(await Deno.readTextFile(`${dir}/checkpoint.json`));
    assert.equal(Object.keys(checkpoint.chains).length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("factory: audit settings are checked, naming the setting and never the key", async () => {
  const bad: [Record<string, string>, RegExp][] = [
    [{ SECRET_AUDIT: "syslog" }, /SECRET_AUDIT must be one of: off, jsonl, postgres/],
    [{ SECRET_AUDIT: "jsonl" }, /SECRET_AUDIT_SERVICE/],
    [{ SECRET_AUDIT: "jsonl", SECRET_AUDIT_SERVICE: "a b" }, /SECRET_AUDIT_SERVICE/],
    [{ SECRET_AUDIT: "postgres", SECRET_AUDIT_SERVICE: "svc" }, /needs an audit key/],
    [
      { SECRET_AUDIT: "postgres", SECRET_AUDIT_SERVICE: "svc", KEYWARD_AUDIT_KEY: KEY },
      /SECRET_AUDIT_DATABASE_SECRET .* or DATABASE_URL/,
    ],
    [
      { SECRET_AUDIT: "jsonl", SECRET_AUDIT_SERVICE: "svc", KEYWARD_AUDIT_KEY: "c2hvcnQ=" },
      /KEYWARD_AUDIT_KEY/,
    ],
    [
      {
        SECRET_AUDIT: "jsonl",
        SECRET_AUDIT_SERVICE: "svc",
        KEYWARD_AUDIT_KEY: KEY,
        SECRET_AUDIT_KEY_SECRET: "k",
      },
      /not both/,
    ],
    [
      { SECRET_AUDIT: "jsonl", SECRET_AUDIT_SERVICE: "svc", SECRET_AUDIT_MAX_FILES: "0" },
      /SECRET_AUDIT_MAX_FILES/,
    ],
  ];
  for (const [env, message] of bad) {
    await assert.rejects(
      createSecretManager({ env: { SECRET_BACKEND: "memory", ...env } }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(err.message, message);
        assert.ok(!err.message.includes(KEY));
        return true;
      },
    );
  }
});

Deno.test({
  name: "factory: SECRET_AUDIT=postgres reads its connection and key from the secret manager",
  ignore: db === null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { sql, url } = db!;
    const dir = await tempDir();
    try {
      // The file store holds the audit key and the database URL, as in production.
      const fileKey = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
      const base = {
        SECRET_BACKEND: "file",
        KEYWARD_FILE_PATH: `${dir}/s.json`,
        KEYWARD_FILE_KEY: fileKey,
      };
      const setup = await createSecretManager({ env: base });
      await setup.setSecret("keyward/audit_key", KEY);
      await setup.setSecret("database/audit", url);
      await setup.close();
      const m = await createSecretManager({
        env: {
          ...base,
          SECRET_AUDIT: "postgres",
          SECRET_AUDIT_SERVICE: "ledger",
          SECRET_AUDIT_KEY_SECRET: "keyward/audit_key",
          SECRET_AUDIT_DATABASE_SECRET: "database/audit",
        },
      });
      await m.listSecrets();
      await m.close();
      const rows =
        await sql`SELECT service, action FROM secret_access_log WHERE service = 'ledger'`;
      assert.deepEqual(rows.map((r) => [r.service, r.action]), [["ledger", "list"]]);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await db!.close();
    }
  },
});
