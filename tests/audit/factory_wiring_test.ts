/**
 * The factory's audit wiring of issue 12: `SECRET_AUDIT_ON_FAILURE`, and one
 * chain for every run of a stable writer (the CLI passes `auditWriter: "cli"`).
 */

import assert from "node:assert/strict";
import { AuditUnavailableError } from "../../audit/audited_manager.ts";
import { fromJsonLine } from "../../audit/jsonl_sink.ts";
import { verifyAuditRows } from "../../audit/verify.ts";
import { ConfigError } from "../../core/errors.ts";
import { createSecretManager } from "../../factory.ts";
import { TEST_KEY_B64, testKey } from "./_fixtures.ts";

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-audit-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("factory: three CLI runs write one chain; the middle row deleted is found without a checkpoint", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/audit.jsonl`;
    const env = {
      SECRET_BACKEND: "memory",
      SECRET_AUDIT: "jsonl",
      SECRET_AUDIT_SERVICE: "ops",
      SECRET_AUDIT_FILE: path,
      KEYWARD_AUDIT_KEY: TEST_KEY_B64,
    };
    for (const run of [1, 2, 3]) {
      const secrets = await createSecretManager({ env, auditWriter: "cli" });
      await secrets.listSecrets(`run${run}/`);
      await secrets.close();
    }
    const lines = (await Deno.readTextFile(path)).trim().split("\n");
    const rows = lines.map((l, i) => ({ ...fromJsonLine(l), id: i + 1 }));
    assert.deepEqual(rows.map((r) => `${r.chainId}#${r.seq}`), [
      "ops:cli#1",
      "ops:cli#2",
      "ops:cli#3",
    ]);
    assert.equal((await verifyAuditRows(rows, { key: testKey() })).ok, true);
    const report = await verifyAuditRows([rows[0], rows[2]], { key: testKey() });
    assert.equal(report.first?.kind, "deleted");
  });
});

Deno.test("factory: SECRET_AUDIT_ON_FAILURE=fail refuses what an unwritable trail cannot record; a bad value is a ConfigError", async () => {
  await withDir(async (dir) => {
    const env = {
      SECRET_BACKEND: "memory",
      SECRET_AUDIT: "jsonl",
      SECRET_AUDIT_SERVICE: "ops",
      SECRET_AUDIT_FILE: dir, // a folder: it cannot be opened as the trail
      KEYWARD_AUDIT_KEY: TEST_KEY_B64,
    };
    const strict = await createSecretManager({ env: { ...env, SECRET_AUDIT_ON_FAILURE: "fail" } });
    await assert.rejects(strict.listSecrets(), AuditUnavailableError);
    await strict.close();
    const lenient = await createSecretManager({ env });
    assert.deepEqual(await lenient.listSecrets(), []);
    await lenient.close();
    await assert.rejects(
      createSecretManager({ env: { ...env, SECRET_AUDIT_ON_FAILURE: "maybe" } }),
      (err: unknown) => err instanceof ConfigError && /SECRET_AUDIT_ON_FAILURE/.test(err.message),
    );
  });
});
