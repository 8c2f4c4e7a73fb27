/**
 * `audit query|stats|verify` on the JSON-lines trail of the embedded default
 * (`--file`, or `SECRET_AUDIT=jsonl` with `SECRET_AUDIT_FILE`), reading the
 * rotated siblings too; `verify` records its result beside the trail
 * (`<file>.verify.json`) and, on Postgres, in `audit_verify_runs`.
 */

import assert from "node:assert/strict";
import { auditCommand } from "../../cli/audit.ts";
import { jsonLinesFileSink } from "../../audit/jsonl_file_sink.ts";
import { PostgresAuditSink } from "../../audit/pg_sink.ts";
import { applyMigrations } from "../../migrations/apply.ts";
import { captureIo } from "../../testing/canary.ts";
import { openTestDatabase } from "../_postgres.ts";
import { event, TEST_KEY_B64, testKey } from "./_fixtures.ts";

const db = await openTestDatabase("audit_cli_jsonl");
if (db) await applyMigrations(db.sql);

async function trail(): Promise<{ dir: string; path: string }> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-jsonl-cli-" });
  const path = `${dir}/audit.jsonl`;
  // A small maxBytes, so the trail spans audit.jsonl.1 and audit.jsonl.
  const sink = jsonLinesFileSink(path, { key: testKey(), maxBytes: 2_000, maxFiles: 5 });
  const now = Date.now();
  for (let i = 0; i < 6; i++) {
    sink.record(event({ accessedAtMs: now - 60_000 + i, service: "billing" }));
    await sink.flush();
  }
  sink.record(event({ accessedAtMs: now - 30_000, service: "billing", source: "stale", count: 2 }));
  sink.record(event({
    accessedAtMs: now - 20_000,
    service: "signal",
    secretName: "webhooks/signing",
    outcome: "not_found",
    errorCode: "not_found",
  }));
  sink.record(event({ accessedAtMs: now - 40 * 86_400_000, secretName: "old/key" }));
  await sink.close();
  return { dir, path };
}

const io = (env: Record<string, string> = {}) =>
  captureIo({ env: { KEYWARD_AUDIT_KEY: TEST_KEY_B64, ...env } });

Deno.test("audit query --file reads the JSON-lines trail and its rotated files, with filters", async () => {
  const { dir, path } = await trail();
  try {
    assert.ok((await Deno.stat(`${path}.1`)).isFile, "the trail was rotated");
    const all = io();
    assert.equal(await auditCommand(["query", "--file", path, "--json"], all), 0, all.stderrText);
    const rows = all.stdoutText.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(rows.length, 9);
    const signal = io();
    assert.equal(await auditCommand(["query", "--file", path, "--service", "signal"], signal), 0);
    assert.match(signal.stdoutText, /signal {2}get {2}not_found .* webhooks\/signing/);
    assert.equal(signal.stdoutText.trim().split("\n").length, 1);
    const recent = io();
    assert.equal(
      await auditCommand(["query", "--file", path, "--since", "1d", "--json"], recent),
      0,
    );
    assert.equal(recent.stdoutText.trim().split("\n").length, 8, "the 40-day-old read is left out");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("audit stats with SECRET_AUDIT=jsonl counts reads, stale serves and errors", async () => {
  const { dir, path } = await trail();
  try {
    const out = io({ SECRET_AUDIT: "jsonl", SECRET_AUDIT_FILE: path });
    assert.equal(await auditCommand(["stats", "--json"], out), 0, out.stderrText);
    const s = JSON.parse(out.stdoutText);
    const billing = s.rows.find((r: { service: string }) => r.service === "billing");
    assert.deepEqual(
      { reads: billing.reads, stale: billing.staleServes, errors: billing.errors },
      { reads: 8, stale: 2, errors: 0 },
    );
    const signal = s.rows.find((r: { service: string }) => r.service === "signal");
    assert.equal(signal.errors, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("audit verify --file passes, finds a changed line, and records each run beside the trail", async () => {
  const { dir, path } = await trail();
  try {
    const ok = io();
    assert.equal(await auditCommand(["verify", "--file", path], ok), 0, ok.stdoutText);
    assert.match(ok.stdoutText, /OK: 9 rows in 1 chains verified/);
    let state = JSON.parse(await Deno.readTextFile(`${path}.verify.json`));
    assert.deepEqual([state.ok, state.rows, state.chains, state.by], [true, 9, 1, "cli"]);
    const text = await Deno.readTextFile(path);
    await Deno.writeTextFile(path, text.replace('"count":2', '"count":3'));
    const bad = io();
    assert.equal(await auditCommand(["verify", "--file", path], bad), 1);
    assert.match(bad.stdoutText, /FAILED: changed/);
    state = JSON.parse(await Deno.readTextFile(`${path}.verify.json`));
    assert.equal(state.ok, false);
    assert.equal(state.first.kind, "changed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("audit --file on a missing trail is a settings error naming the path (exit 2)", async () => {
  const out = io();
  assert.equal(await auditCommand(["stats", "--file", "/nonexistent/audit.jsonl"], out), 2);
  assert.match(out.stderrText, /no audit trail at \/nonexistent\/audit\.jsonl/);
});

Deno.test({
  name: "audit verify on Postgres records the run in audit_verify_runs",
  ignore: db === null,
  async fn() {
    await db!.sql`TRUNCATE secret_access_log, secret_access_log_anchor, audit_verify_runs
      RESTART IDENTITY`;
    const sink = new PostgresAuditSink({ sql: db!.sql, key: testKey() });
    sink.record(event({ accessedAtMs: Date.now() - 1000 }));
    sink.record(event({ accessedAtMs: Date.now() - 500 }));
    await sink.close();
    const out = io({ DATABASE_URL: db!.url });
    assert.equal(await auditCommand(["verify"], out), 0, out.stdoutText + out.stderrText);
    const rows = await db!.sql`SELECT ok, chains, rows_checked, ran_by FROM audit_verify_runs`;
    assert.equal(rows.length, 1);
    assert.deepEqual(
      [rows[0].ok, rows[0].chains, Number(rows[0].rows_checked), rows[0].ran_by],
      [true, 1, 2, "cli"],
    );
  },
});
