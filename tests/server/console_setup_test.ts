/**
 * The console's sources from the settings (`KEYWARD_CONSOLE=on` in
 * `deno task serve`): Postgres as well as JSON lines, for the audit trail
 * (reads, the last verify run, verify now) and the rotation log; and the
 * session key setting's checks.
 */

import assert from "node:assert/strict";
import { PostgresAuditSink } from "../../audit/pg_sink.ts";
import { postgresTrail } from "../../audit/trail_pg.ts";
import { verifyRunOf } from "../../audit/trail.ts";
import { applyMigrations } from "../../migrations/apply.ts";
import { PostgresRotationLog } from "../../rotation/log_pg.ts";
import { consoleFromSettings } from "../../server/console/setup.ts";
import { MemorySecretManager } from "../../testing.ts";
import { openTestDatabase } from "../_postgres.ts";
import { event, TEST_KEY_B64, testKey } from "../audit/_fixtures.ts";

const db = await openTestDatabase("console_setup");
if (db) await applyMigrations(db.sql);

Deno.test("console settings: a session key shorter than 32 bytes or not base64 is refused", async () => {
  const manager = new MemorySecretManager();
  await assert.rejects(
    consoleFromSettings({ KEYWARD_CONSOLE_SESSION_KEY: btoa("short") }, manager, "a.jsonl"),
    /32 bytes or more/,
  );
  await assert.rejects(
    consoleFromSettings({ KEYWARD_CONSOLE_SESSION_KEY: "***" }, manager, "a.jsonl"),
    /not base64/,
  );
});

Deno.test("console settings: an explicit rotation policy that does not exist is refused", async () => {
  await assert.rejects(
    consoleFromSettings(
      { KEYWARD_ROTATION_POLICY: "/nonexistent/policy.json" },
      new MemorySecretManager(),
      "a.jsonl",
    ),
    /cannot read the rotation policy/,
  );
});

Deno.test({
  name: "console on Postgres: reads, the last verify run, verify now and rotations",
  ignore: db === null,
  async fn() {
    await db!.sql`TRUNCATE secret_access_log, secret_access_log_anchor, audit_verify_runs,
      secret_rotation_log RESTART IDENTITY`;
    const now = Date.now();
    const sink = new PostgresAuditSink({ sql: db!.sql, key: testKey() });
    for (let i = 0; i < 5; i++) sink.record(event({ accessedAtMs: now - i * 3_600_000 - 1000 }));
    sink.record(event({ accessedAtMs: now - 5 * 86_400_000, count: 7 }));
    sink.record(event({ accessedAtMs: now - 2000, source: "stale" }));
    await sink.close();
    const trail = postgresTrail(db!.sql);
    await trail.recordVerify(verifyRunOf(await trail.verify(testKey()), new Date(now), "cli"));
    await new PostgresRotationLog(db!.sql).append({
      rotationId: crypto.randomUUID(),
      secretName: "db/password",
      step: "create_pending",
      status: "failed",
      at: new Date(now - 60_000),
      rotatedBy: "bob",
      rotator: "random",
      errorCode: "unreachable",
    });
    const dir = await Deno.makeTempDir({ prefix: "kw-console-setup-" });
    await Deno.writeTextFile(`${dir}/policy.json`, JSON.stringify({ rules: [] }));
    const setup = await consoleFromSettings(
      {
        SECRET_AUDIT: "postgres",
        SECRET_ROTATION_LOG: "postgres",
        DATABASE_URL: db!.url,
        KEYWARD_AUDIT_KEY: TEST_KEY_B64,
        KEYWARD_ROTATION_POLICY: `${dir}/policy.json`,
        SECRET_ROTATION_LOG_FILE: `${dir}/rotation.jsonl`,
      },
      new MemorySecretManager(),
      `${dir}/server-audit.jsonl`,
    );
    try {
      const data = setup.options.data;
      const reads = await data.reads();
      assert.equal(reads.available, true);
      assert.equal(reads.rows.length, 1);
      assert.deepEqual(
        [reads.rows[0].reads24h, reads.rows[0].reads30d, reads.rows[0].stale],
        [6, 13, 1],
      );
      const audit = await data.audit();
      assert.equal(audit.where, "postgres");
      assert.equal(audit.canVerify, true);
      assert.deepEqual([audit.last?.ok, audit.last?.rows, audit.last?.by], [true, 7, "cli"]);
      const run = await data.verifyNow!();
      assert.equal(run.by, "console");
      assert.equal((await data.audit()).last?.by, "console");
      const rotations = await data.rotations();
      assert.equal(rotations.length, 1);
      assert.equal(rotations[0].phase, "failed");
      assert.match(rotations[0].resume!, /^deno task secrets rotation resume [0-9a-f-]{36}$/);
    } finally {
      await setup.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
