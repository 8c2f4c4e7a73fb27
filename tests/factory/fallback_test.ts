/**
 * Issue 14 §4: the env backend reads `./.env` unless `KEYWARD_ENV_FILE`
 * says otherwise, and `SECRET_FALLBACK=env` puts it behind the configured
 * backend for not-found reads only, each a warning and an audit event of
 * source `fallback`.
 */

import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { fromJsonLine } from "../../audit/jsonl_sink.ts";
import { verifyAuditRows } from "../../audit/verify.ts";
import { AuditKey } from "../../audit/chain.ts";
import { generateFileKey } from "../../backends/file.ts";
import { SecretAccessError, SecretNotFoundError } from "../../core/errors.ts";
import { createSecretManager } from "../../factory.ts";

const CANARY = "whsec_fallback_canary_7c1e9a3f5b";
const KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

Deno.test("env backend: ./.env is read when KEYWARD_ENV_FILE is unset; none turns it off; a missing one is fine", async () => {
  const read: string[] = [];
  const readTextFile = (path: string) => {
    read.push(path);
    return Promise.resolve(`WEBHOOK_SECRET=${CANARY}\n`);
  };
  const m = await createSecretManager({ env: { SECRET_BACKEND: "env" }, readTextFile });
  assert.deepEqual(read, [".env"]);
  assert.equal(await m.getSecret("webhook/secret"), CANARY);
  await m.close();

  read.length = 0;
  const off = await createSecretManager({
    env: { SECRET_BACKEND: "env", KEYWARD_ENV_FILE: "none" },
    readTextFile,
  });
  assert.deepEqual(read, [], "KEYWARD_ENV_FILE=none reads no file");
  await assert.rejects(off.getSecret("webhook/secret"), SecretNotFoundError);
  await off.close();

  const none = await createSecretManager({
    env: { SECRET_BACKEND: "env" },
    readTextFile: () => Promise.reject(new Deno.errors.NotFound("no .env")),
  });
  await assert.rejects(none.getSecret("webhook/secret"), SecretNotFoundError);
  await none.close();
});

Deno.test("env backend: a ./.env that exists but cannot be read is a ConfigError pointing at KEYWARD_ENV_FILE=none", async () => {
  await assert.rejects(
    createSecretManager({
      env: { SECRET_BACKEND: "env" },
      readTextFile: () => Promise.reject(new Deno.errors.IsADirectory(`is a dir ${CANARY}`)),
    }),
    (err: Error) => {
      assert.match(err.message, /KEYWARD_ENV_FILE=none/);
      assert.ok(!err.message.includes(CANARY));
      return true;
    },
  );
});

async function withStore(
  fn: (dir: string, env: Record<string, string>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-fallback-" });
  try {
    await fn(dir, {
      SECRET_BACKEND: "file",
      KEYWARD_FILE_PATH: `${dir}/secrets.json`,
      KEYWARD_FILE_KEY: generateFileKey(),
      KEYWARD_ENV_FILE: "none",
      SECRET_FALLBACK: "env",
      SECRET_AUDIT: "jsonl",
      SECRET_AUDIT_SERVICE: "signal",
      SECRET_AUDIT_FILE: `${dir}/audit.jsonl`,
      KEYWARD_AUDIT_KEY: KEY,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("SECRET_FALLBACK=env: a not-found is served from the environment with a warning and a fallback audit event", async () => {
  const records: LogRecord[] = [];
  await configure({
    sinks: { mem: (r) => void records.push(r) },
    loggers: [
      { category: ["keyward"], sinks: ["mem"], lowestLevel: "warning" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
    reset: true,
  });
  try {
    await withStore(async (dir, env) => {
      const m = await createSecretManager({ env: { ...env, WEBHOOK_SECRET: CANARY } });
      assert.equal(await m.getSecret("webhook/secret"), CANARY);
      const read = await m.readSecret("webhook/secret");
      assert.equal(read.value, CANARY);
      // not in the environment either: the backend's not-found stands
      await assert.rejects(m.getSecret("alpaca/api_key"), SecretNotFoundError);
      // a version the environment cannot have is not answered from it
      await assert.rejects(m.getSecret("webhook/secret", { version: "1" }), SecretNotFoundError);
      // written to the backend later: read from there at once
      await m.setSecret("webhook/secret", "whsec_backend_value_000000");
      assert.equal(await m.getSecret("webhook/secret"), "whsec_backend_value_000000");
      await m.close();

      const warnings = records.filter((r) => r.category.includes("fallback"));
      assert.equal(warnings.length, 2);
      assert.equal(warnings[0].properties.secret, "webhook/secret");
      const text = await Deno.readTextFile(`${dir}/audit.jsonl`);
      assert.ok(!text.includes(CANARY), "no value in the audit");
      const rows = text.trim().split("\n").map((l, i) => ({ ...fromJsonLine(l), id: i + 1 }));
      const fallback = rows.filter((r) => r.source === "fallback");
      assert.equal(fallback.length, 2);
      assert.equal(fallback[0].secretName, "webhook/secret");
      assert.equal(fallback[0].backend, "env");
      assert.equal(fallback[0].outcome, "ok");
      // the backend's own not-found is recorded before it
      assert.ok(rows.some((r) => r.source === "backend" && r.outcome === "not_found"));
      // the chain with fallback events verifies
      const report = await verifyAuditRows(rows, { key: AuditKey.fromBase64(KEY) });
      assert.equal(report.ok, true);
      for (const r of records) assert.ok(!JSON.stringify(r.properties).includes(CANARY));
    });
  } finally {
    await reset();
  }
});

Deno.test("SECRET_FALLBACK=env never answers an access error from the environment", async () => {
  await withStore(async (_dir, env) => {
    const m = await createSecretManager({ env: { ...env, SECRET_AUDIT: "off" } });
    await m.setSecret("other/secret", "something-0123456789");
    await m.close();
    // the same store opened with the wrong key: access error, not a not-found
    const wrong = await createSecretManager({
      env: {
        ...env,
        SECRET_AUDIT: "off",
        KEYWARD_FILE_KEY: generateFileKey(),
        WEBHOOK_SECRET: CANARY,
      },
    });
    await assert.rejects(wrong.getSecret("webhook/secret"), SecretAccessError);
    await wrong.close();
  });
});
