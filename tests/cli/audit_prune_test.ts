import assert from "node:assert/strict";
import { PostgresAuditSink } from "../../audit/pg_sink.ts";
import { applyMigrations } from "../../migrations/apply.ts";
import { openTestDatabase } from "../_postgres.ts";
import { event, TEST_KEY_B64, testKey } from "../audit/_fixtures.ts";
import { runMain } from "./_capture.ts";

const db = await openTestDatabase(`cli_prune_${crypto.randomUUID().slice(0, 8)}`);
if (db) await applyMigrations(db.sql);

const DAY = 86_400_000;
const ARCHIVE_BYTES = "an archive from last month\n";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-cli-prune-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("audit prune --archive <existing file> is refused (exit 2) before the database is touched", async () => {
  await withDir(async (dir) => {
    const archive = `${dir}/old.jsonl.gz`;
    await Deno.writeTextFile(archive, ARCHIVE_BYTES);
    const env = {
      // Unreachable: had prune gone there first, this would be exit 4.
      DATABASE_URL: "postgres://nobody:x@127.0.0.1:1/none",
      KEYWARD_AUDIT_KEY: TEST_KEY_B64,
    };
    for (const json of [[], ["--json"]]) {
      const r = await runMain(
        ["audit", "prune", "--older-than", "30d", "--archive", archive, ...json],
        env,
      );
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
      const message = json.length ? JSON.parse(r.stderr).error.message : r.stderr;
      assert.match(message, /the archive .*old\.jsonl\.gz already exists; prune never overwrites/);
      assert.ok(!/unreachable|at |stack/i.test(message.replace(/archive/g, "")), message);
      assert.equal(await Deno.readTextFile(archive), ARCHIVE_BYTES);
    }
  });
});

Deno.test({
  name:
    "audit prune keeps every row and the old archive when the archive exists, then prunes to a new one",
  ignore: db === null,
  async fn() {
    await db!.sql`TRUNCATE secret_access_log, secret_access_log_anchor RESTART IDENTITY`;
    const sink = new PostgresAuditSink({ sql: db!.sql, key: testKey() });
    for (let i = 0; i < 5; i++) {
      sink.record(event({ accessedAtMs: Date.now() - 40 * DAY + i, secretName: "old/key" }));
    }
    sink.record(event({ accessedAtMs: Date.now(), secretName: "new/key" }));
    await sink.close();
    const count = async () =>
      (await db!.sql`SELECT count(*)::int AS n FROM secret_access_log`)[0].n as number;
    const env = { DATABASE_URL: db!.url, KEYWARD_AUDIT_KEY: TEST_KEY_B64 };
    await withDir(async (dir) => {
      const existing = `${dir}/old.jsonl.gz`;
      await Deno.writeTextFile(existing, ARCHIVE_BYTES);
      const refused = await runMain(
        ["audit", "prune", "--older-than", "30d", "--archive", existing],
        env,
      );
      assert.equal(refused.code, 2, refused.stderr);
      assert.equal(await count(), 6);
      assert.equal(await Deno.readTextFile(existing), ARCHIVE_BYTES);

      const noDir = await runMain(
        ["audit", "prune", "--older-than", "30d", "--archive", `${dir}/missing/a.jsonl.gz`],
        env,
      );
      assert.equal(noDir.code, 7, noDir.stderr);
      assert.match(noDir.stderr, /^error: the archive .* cannot be created.*nothing was pruned/);
      assert.equal(await count(), 6);

      const fresh = await runMain(
        ["audit", "prune", "--older-than", "30d", "--archive", `${dir}/new.jsonl.gz`],
        env,
      );
      assert.equal(fresh.code, 0, fresh.stderr);
      assert.match(fresh.stdout, /pruned 5 rows/);
      assert.equal(await count(), 1);
    });
  },
});

Deno.test({
  name: "audit prune test: close the test database",
  ignore: db === null,
  fn: () => db!.close(),
});
