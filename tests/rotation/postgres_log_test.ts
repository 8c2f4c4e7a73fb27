import assert from "node:assert/strict";
import postgres from "postgres";
import { MemorySecretManager } from "../../backends/memory.ts";
import { applyMigrations } from "../../migrations/apply.ts";
import { AdvisoryRotationLocks, PostgresRotationLog } from "../../rotation/log_pg.ts";
import { RotationLockedError } from "../../rotation/types.ts";
import { openTestDatabase } from "../_postgres.ts";
import { CliHarness } from "../cli/_capture.ts";
import { assertStepsClosed, testEngine } from "./_helpers.ts";

const db = await openTestDatabase("rotation_log");
if (db) await applyMigrations(db.sql);

const NAME = "webhooks/signing";
const CANARY = "canary-pg-whsec-91c4e2f7a0";

Deno.test({
  name: "postgres log: a full rotation's rows are complete, with rotated_by, and hold no value",
  ignore: db === null,
  async fn() {
    await db!.sql`DELETE FROM secret_rotation_log`;
    const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
    const log = new PostgresRotationLog(db!.sql);
    const locks = new AdvisoryRotationLocks(db!.sql, log);
    const { engine } = testEngine(manager, { log, locks });
    const r = await engine.rotate(NAME, { rotator: "random", graceMs: 0, deleteAfterMs: 0 });
    assert.equal(r.outcome, "completed");
    const current = await manager.getSecret(NAME);
    const rows = await log.entries({ rotationId: r.rotationId });
    assertStepsClosed(rows);
    assert.deepEqual(
      rows.filter((x) => x.status === "succeeded").map((x) => x.step),
      [
        "create_pending",
        "set_at_provider",
        "test_pending",
        "promote",
        "verify",
        "deprecate_previous",
        "schedule_deletion",
      ],
    );
    const dep = rows.find((x) => x.step === "deprecate_previous" && x.status === "succeeded");
    assert.ok(dep?.oldKeyDeprecatedAt instanceof Date, "old_key_deprecated_at recorded");
    const del = rows.find((x) => x.step === "schedule_deletion" && x.status === "succeeded");
    assert.ok(del?.scheduledDeletionAt instanceof Date, "scheduled_deletion_at recorded");
    const raw = await db!.sql`SELECT row_to_json(l)::text AS j FROM secret_rotation_log l`;
    const text = raw.map((x) => x.j).join("\n");
    assert.ok(!text.includes(CANARY) && !text.includes(current), "no value in any column");
    const nulls = await db!
      .sql`SELECT count(*)::int AS n FROM secret_rotation_log WHERE rotated_by IS NULL`;
    assert.equal(nulls[0].n, 0);
    // The state folds the same from Postgres as from the file.
    assert.equal((await engine.state(r.rotationId))?.phase, "completed");
  },
});

Deno.test({
  name: "rotated_by is NOT NULL after migration 0003",
  ignore: db === null,
  async fn() {
    await assert.rejects(
      db!.sql`INSERT INTO secret_rotation_log (secret_name, rotation_id, step, status)
              VALUES ('a', gen_random_uuid(), 'verify', 'started')`,
      /rotated_by/,
    );
  },
});

Deno.test({
  name: "advisory lock: a second rotation from another connection is refused with the running id",
  ignore: db === null,
  async fn() {
    await db!.sql`DELETE FROM secret_rotation_log`;
    const other = postgres(db!.url, { max: 2, onnotice: () => {} });
    try {
      const log = new PostgresRotationLog(db!.sql);
      const first = new AdvisoryRotationLocks(db!.sql, log);
      const second = new AdvisoryRotationLocks(other, new PostgresRotationLog(other));
      const manager = new MemorySecretManager({ initial: { [NAME]: CANARY } });
      const { engine } = testEngine(manager, { log, locks: first });
      // A rotation that stops after test_pending keeps no lock; one that holds it:
      const held = await first.acquire(NAME, "unused");
      await log.append({
        rotationId: "12345678-1234-1234-1234-123456789abc",
        secretName: NAME,
        step: "create_pending",
        status: "started",
        at: new Date(),
        rotatedBy: "ops",
        rotator: "random",
      });
      await assert.rejects(
        second.acquire(NAME, "x"),
        (e: unknown) =>
          e instanceof RotationLockedError &&
          e.runningId === "12345678-1234-1234-1234-123456789abc",
      );
      await held.release();
      const again = await second.acquire(NAME, "y");
      await again.release();
      await db!.sql`DELETE FROM secret_rotation_log`;
      const r = await engine.rotate(NAME, { rotator: "random" });
      assert.equal(r.outcome, "scheduled");
    } finally {
      await other.end();
    }
  },
});

Deno.test({
  name: "CLI with SECRET_ROTATION_LOG=postgres writes secret_rotation_log",
  ignore: db === null,
  async fn() {
    await db!.sql`DELETE FROM secret_rotation_log`;
    const h = await CliHarness.create({
      SECRET_ROTATION_LOG: "postgres",
      DATABASE_URL: db!.url,
      KEYWARD_ROTATION_POLICY: "",
      USER: "ops-pg",
    });
    try {
      await h.run(["set", NAME], { stdin: CANARY });
      const run = await h.run(["rotate", NAME, "--rotator", "random", "--json"]);
      assert.equal(run.code, 0, run.stderr);
      const rows = await db!.sql`SELECT DISTINCT rotated_by, secret_name FROM secret_rotation_log`;
      assert.deepEqual([...rows], [{ rotated_by: "ops-pg", secret_name: NAME }]);
      const history = await h.run(["rotation", "history", NAME, "--json"]);
      assert.equal(JSON.parse(history.stdout).rotations.length, 1);
    } finally {
      await h.dispose();
    }
  },
});

Deno.test({
  name: "postgres log: close the test database",
  ignore: db === null,
  async fn() {
    await db!.close();
  },
});
