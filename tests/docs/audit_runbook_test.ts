/**
 * The `sh` blocks of docs/RUNBOOKS/audit.md run, in order, against a real
 * audit table: the operator's setup (block 1: its `DATABASE_URL` names the
 * production host, which the test then points at its own database; the audit
 * key is read from the embedded file store with `secrets get`), verify with
 * and without a checkpoint, and prune. No block may print the audit key.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { FileSecretManager, generateFileKey } from "../../backends/file.ts";
import { checkpointFileWriter } from "../../audit/checkpoint_file.ts";
import { PostgresAuditSink } from "../../audit/pg_sink.ts";
import { applyMigrations } from "../../migrations/apply.ts";
import { openTestDatabase } from "../_postgres.ts";
import { event, TEST_KEY_B64, testKey } from "../audit/_fixtures.ts";
import { prelude, sh, shBlocks } from "./_runbook.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const db = await openTestDatabase("audit_runbook");
if (db) await applyMigrations(db.sql);

Deno.test({
  name: "the audit runbook's sh blocks run against a real audit table and print no key",
  ignore: db === null,
  async fn() {
    const blocks = shBlocks(await Deno.readTextFile(`${ROOT}docs/RUNBOOKS/audit.md`));
    assert.equal(blocks.length, 3, "setup, verify, prune");
    const dir = await Deno.makeTempDir({ prefix: "keyward-audit-runbook-" });
    const fileKey = generateFileKey();
    const store = new FileSecretManager({ path: `${dir}/secrets.json`, key: fileKey });
    try {
      await store.setSecret("keyward/audit_key", TEST_KEY_B64);
      // The trail the operator verifies, with the checkpoint its writer exported on close.
      const sink = new PostgresAuditSink({
        sql: db!.sql,
        key: testKey(),
        flushIntervalMs: 1,
        onCheckpoint: checkpointFileWriter(`${dir}/audit-checkpoint.json`),
      });
      for (let i = 0; i < 5; i++) sink.record(event({ secretName: `app/s${i}` }));
      await sink.close();

      const env: Record<string, string> = {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: dir,
        DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
        NO_COLOR: "1",
        SECRET_BACKEND: "file",
        KEYWARD_FILE_PATH: `${dir}/secrets.json`,
        KEYWARD_FILE_KEY: fileKey,
      };
      const script = [
        await prelude(),
        blocks[0],
        // The runbook's host stands for the operator's database: the test's own.
        `export DATABASE_URL='${db!.url}'`,
        'test -n "$KEYWARD_AUDIT_KEY"',
        blocks[1],
        blocks[2],
      ].join("\n");
      const out = await sh(dir, env, script);
      assert.equal(out.code, 0, `${out.stdout}\n${out.stderr}`);
      assert.match(out.stdout, /5 row|rows: 5|"rows":\s*5/, out.stdout);
      assert.ok(!(out.stdout + out.stderr).includes(TEST_KEY_B64), "the audit key was printed");
    } finally {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
