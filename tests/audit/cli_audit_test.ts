import assert from "node:assert/strict";
import { auditCommand, parseDuration } from "../../cli/audit.ts";
import { writeCheckpointFile } from "../../audit/checkpoint_file.ts";
import { PostgresAuditSink } from "../../audit/pg_sink.ts";
import type { AuditCheckpoint } from "../../audit/types.ts";
import { applyMigrations } from "../../migrations/apply.ts";
import type { CliIo } from "../../cli/_io.ts";
import { captureIo } from "../../testing/canary.ts";
import { openTestDatabase } from "../_postgres.ts";
import { event, TEST_KEY_B64, testKey } from "./_fixtures.ts";

const db = await openTestDatabase("audit_cli");
if (db) await applyMigrations(db.sql);

const DAY = 86_400_000;

function io(env: Record<string, string> = {}) {
  return captureIo({ env: { DATABASE_URL: db?.url, KEYWARD_AUDIT_KEY: TEST_KEY_B64, ...env } });
}

/** A log of: 10 old reads (40 days ago), then recent traffic of two services. */
async function seed(): Promise<AuditCheckpoint> {
  await db!.sql`TRUNCATE secret_access_log, secret_access_log_anchor RESTART IDENTITY`;
  let checkpoint!: AuditCheckpoint;
  const sink = new PostgresAuditSink({
    sql: db!.sql,
    key: testKey(),
    onCheckpoint: (cp) => void (checkpoint = cp),
  });
  const now = Date.now();
  for (let i = 0; i < 10; i++) {
    sink.record(event({ accessedAtMs: now - 40 * DAY + i, secretName: "old/key" }));
  }
  const recent = (over: Parameters<typeof event>[0]) =>
    sink.record(event({ accessedAtMs: now - 60_000, ...over }));
  recent({ service: "billing", secretName: "db/password" });
  recent({ service: "billing", secretName: "db/password", source: "cache", count: 250 });
  recent({ service: "billing", secretName: "db/password", source: "stale", count: 3 });
  recent({
    service: "billing",
    secretName: "db/missing",
    outcome: "not_found",
    errorCode: "not_found",
  });
  recent({ service: "trading", secretName: "alpaca/api_key_id" });
  recent({ service: "trading", secretName: "alpaca/api_key_id", action: "set", version: "7" });
  await sink.close();
  return checkpoint;
}

Deno.test("durations read as days, hours, minutes, seconds and weeks", () => {
  assert.equal(parseDuration("90d"), 90 * DAY);
  assert.equal(parseDuration("24h"), DAY);
  assert.equal(parseDuration("2w"), 14 * DAY);
  assert.throws(() => parseDuration("soon"), /not a duration/);
});

Deno.test("audit without a database URL or with a bad subcommand is a usage error (exit 2)", async () => {
  const noDb = captureIo({ env: {} });
  assert.equal(await auditCommand(["stats"], noDb), 2);
  assert.match(noDb.stderrText, /DATABASE_URL is not set/);
  const bad = captureIo({ env: {} });
  assert.equal(await auditCommand(["explode"], bad), 2);
  assert.match(bad.stderrText, /unknown audit subcommand/);
  const help = captureIo({ env: {} });
  assert.equal(await auditCommand(["verify", "--help"], help), 0);
  assert.match(help.stdoutText, /--checkpoint FILE/);
  assert.equal(await auditCommand(["query", "--bogus"], captureIo({ env: {} })), 2);
});

Deno.test("audit reports an unreachable database with exit code 4", async () => {
  const out = captureIo({ env: { DATABASE_URL: "postgres://nobody:x@127.0.0.1:1/none" } });
  assert.equal(await auditCommand(["stats"], out), 4);
  assert.match(out.stderrText, /unreachable/);
});

Deno.test({
  name: "audit query filters by secret, service and time, as text or JSON lines",
  ignore: db === null,
  async fn() {
    await seed();
    const bySecret = io();
    assert.equal(await auditCommand(["query", "--secret", "db/password", "--json"], bySecret), 0);
    const rows = bySecret.stdoutText.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.source), ["backend", "cache", "stale"]);
    assert.equal(rows[1].count, 250);
    assert.ok(rows.every((r) => typeof r.id === "number" && r.mac.length === 64));

    const recentTrading = io();
    await auditCommand(["query", "--service", "trading", "--since", "1h"], recentTrading);
    const lines = recentTrading.stdoutText.trim().split("\n");
    assert.equal(lines.length, 2);
    assert.match(lines[1], /trading {2}set {2}ok {2}backend {2}alpaca\/api_key_id {2}version=7/);

    const old = io();
    await auditCommand(["query", "--since", "1h", "--secret", "old/key"], old);
    assert.equal(old.stdoutText, "");
    assert.match(old.stderrText, /no matching events/);
  },
});

Deno.test({
  name: "audit stats counts reads per secret and service, cache hits, stale serves and errors",
  ignore: db === null,
  async fn() {
    await seed();
    const out = io();
    assert.equal(await auditCommand(["stats", "--since", "1d", "--json"], out), 0);
    const s = JSON.parse(out.stdoutText);
    const billing = s.rows.find((r: { secretName: string }) => r.secretName === "db/password");
    assert.deepEqual(
      [billing.reads, billing.cacheHits, billing.staleServes, billing.errors],
      [254, 250, 3, 0],
    );
    const missing = s.rows.find((r: { secretName: string }) => r.secretName === "db/missing");
    assert.equal(missing.errors, 1);
    assert.ok(!s.rows.some((r: { secretName: string }) => r.secretName === "old/key"));
    const text = io();
    await auditCommand(["stats"], text);
    assert.match(text.stdoutText, /billing\s+db\/password\s+254\s+250\s+3\s+0\s+0/);
  },
});

Deno.test({
  name: "audit verify passes on an untouched log and fails (exit 1) naming the changed row",
  ignore: db === null,
  async fn() {
    await seed();
    const ok = io();
    assert.equal(await auditCommand(["verify"], ok), 0);
    assert.match(ok.stdoutText, /^OK: 16 rows in 1 chains verified/);
    await db!.sql`UPDATE secret_access_log SET count = 1 WHERE count = 250`;
    const bad = io();
    assert.equal(await auditCommand(["verify"], bad), 1);
    assert.match(bad.stdoutText, /^FAILED: changed: row 12 /);
    const noKey = io({ KEYWARD_AUDIT_KEY: "" });
    assert.equal(await auditCommand(["verify"], noKey), 2);
    assert.match(noKey.stderrText, /KEYWARD_AUDIT_KEY is not set/);
  },
});

Deno.test({
  name: "audit verify --checkpoint finds a truncated tail",
  ignore: db === null,
  async fn() {
    const cp = await seed();
    const dir = await Deno.makeTempDir({ prefix: "keyward-cli-" });
    try {
      await writeCheckpointFile(`${dir}/checkpoint.json`, cp);
      assert.equal(
        await auditCommand(["verify", "--checkpoint", `${dir}/checkpoint.json`], io()),
        0,
      );
      await db!.sql`DELETE FROM secret_access_log WHERE seq = 16`;
      const out = io();
      assert.equal(
        await auditCommand(["verify", "--checkpoint", `${dir}/checkpoint.json`, "--json"], out),
        1,
      );
      assert.equal(JSON.parse(out.stdoutText).first.kind, "truncated");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "audit prune archives old rows as gzip JSON lines, deletes them, and verify stays green",
  ignore: db === null,
  async fn() {
    const cp = await seed();
    const dir = await Deno.makeTempDir({ prefix: "keyward-cli-" });
    try {
      const archive = `${dir}/old.jsonl.gz`;
      const out = io();
      assert.equal(
        await auditCommand(["prune", "--older-than", "30d", "--archive", archive], out),
        0,
      );
      assert.match(out.stdoutText, /pruned 10 rows/);
      const text = await new Response(
        (await Deno.open(archive)).readable.pipeThrough(new DecompressionStream("gzip")),
      ).text();
      const archived = text.trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(archived.length, 10);
      assert.ok(archived.every((r) => r.secret_name === "old/key"));
      const [{ n }] = await db!.sql`SELECT count(*)::int AS n FROM secret_access_log`;
      assert.equal(n, 6);
      await writeCheckpointFile(`${dir}/cp.json`, cp);
      const verify = io();
      assert.equal(
        await auditCommand(["verify", "--checkpoint", `${dir}/cp.json`], verify),
        0,
        verify.stdoutText,
      );
      const again = io();
      assert.equal(await auditCommand(["prune", "--older-than", "30d", "--no-archive"], again), 0);
      assert.match(again.stdoutText, /pruned 0 rows/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "audit prune refuses to prune a log that fails verification",
  ignore: db === null,
  async fn() {
    await seed();
    await db!.sql`UPDATE secret_access_log SET service = 'other' WHERE seq = 2`;
    const out = io();
    assert.equal(await auditCommand(["prune", "--older-than", "30d", "--no-archive"], out), 1);
    assert.match(out.stderrText, /refusing to prune: verify failed \(changed/);
    const [{ n }] = await db!.sql`SELECT count(*)::int AS n FROM secret_access_log`;
    assert.equal(n, 16);
  },
});

/** What the tail test's standard output throws once it has four lines, as `| head -n 4` would. */
class ReaderGone extends Error {}

Deno.test({
  name: "audit tail prints the newest events and then follows new ones",
  ignore: db === null,
  async fn() {
    await seed();
    const sink = new PostgresAuditSink({ sql: db!.sql, key: testKey(), flushIntervalMs: 1 });
    const late = (version: string, over: Parameters<typeof event>[0] = {}) =>
      sink.record(event({ secretName: "db/late", accessedAtMs: Date.now(), version, ...over }));
    late("1");
    late("2");
    late("3");
    await sink.flush();

    // Standard output as a pipe into `head -n 4`: the reader goes away after the fourth line,
    // which is what stops a tail that would otherwise follow (here up to 3,000 polls: a guard).
    const inner = io();
    const out: CliIo = {
      ...inner,
      stdout(text: string) {
        inner.stdout(text);
        if (inner.stdoutText.split("\n").length > 4) throw new ReaderGone("the reader went away");
      },
    };
    const running = auditCommand(
      ["tail", "--lines", "2", "--interval-ms", "10", "--max-polls", "3000", "--secret", "db/late"],
      out,
    );
    let ended = false;
    running.then(() => (ended = true), () => (ended = true));
    // Wait for the condition itself: the newest two are printed, so tail has read the log and
    // everything written from now on is new to it. The deadline only guards against a hang.
    const deadline = Date.now() + 30_000;
    while (inner.stdoutText.split("\n").length <= 2) {
      assert.ok(!ended, `tail ended before printing the newest events: ${inner.stderrText}`);
      assert.ok(Date.now() < deadline, "tail printed nothing within 30 s");
      await new Promise((r) => setTimeout(r, 5));
    }
    late("4");
    late("5", { outcome: "denied", errorCode: "access:denied" });
    await sink.close();
    // The CLI reports every error through one reporter: the reader's departure ends tail as
    // an unexpected error (exit 1), after the four lines.
    assert.equal(await running, 1, "tail followed until its reader went away");
    assert.match(inner.stderrText, /^error: unexpected Error \[message withheld\]/);
    const lines = inner.stdoutText.trim().split("\n");
    assert.equal(lines.length, 4, inner.stdoutText);
    assert.match(lines[0], /db\/late {2}version=2 /);
    assert.match(lines[1], /db\/late {2}version=3 /);
    assert.match(lines[2], /ok {2}backend {2}db\/late {2}version=4 /);
    assert.match(lines[3], /denied {2}backend {2}db\/late {2}version=5 .*error=access:denied/);
  },
});

Deno.test({
  name: "audit cli: close the test database",
  ignore: db === null,
  fn: () => db!.close(),
});
