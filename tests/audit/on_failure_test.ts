/**
 * `withAudit`'s `onFailure` (issue 12 item 4, library part): `fail` serves
 * nothing it cannot record, `warn` serves and reports, for the JSON-lines
 * file sink (unwritable, full) and the Postgres sink (unreachable, wrong
 * password, no right to insert).
 */

import assert from "node:assert/strict";
import { AuditUnavailableError, withAudit } from "../../audit/audited_manager.ts";
import {
  type AuditFileSystem,
  jsonLinesFileSink,
  nodeAuditFileSystem,
} from "../../audit/jsonl_file_sink.ts";
import { PostgresAuditSink } from "../../audit/pg_sink.ts";
import type { AuditSink } from "../../audit/types.ts";
import { MemorySecretManager } from "../../backends/memory.ts";
import { SecretAccessError } from "../../core/errors.ts";
import { applyMigrations } from "../../migrations/apply.ts";
import { openTestDatabase } from "../_postgres.ts";
import { recordText, withLogs } from "../cache/_helpers.ts";
import { testKey } from "./_fixtures.ts";

const CANARY = `canary-${crypto.randomUUID()}`;

/** A backend that counts the calls that reach it. */
function backend() {
  const inner = new MemorySecretManager({ initial: { "db/password": CANARY } });
  const calls = { n: 0 };
  const counted = new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop === "getSecret") {
        return (...args: Parameters<typeof inner.getSecret>) => {
          calls.n += 1;
          return inner.getSecret(...args);
        };
      }
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { manager: counted, calls };
}

const failingWrites = (code: string): AuditFileSystem => ({
  ...nodeAuditFileSystem,
  open: async (path) => ({
    ...(await nodeAuditFileSystem.open(path)),
    write: () => Promise.reject(Object.assign(new Error("cannot write"), { code })),
  }),
});

const unopenable: AuditFileSystem = {
  ...nodeAuditFileSystem,
  open: () => Promise.reject(Object.assign(new Error("permission denied"), { code: "EACCES" })),
};

async function refused(p: Promise<unknown>, label: string): Promise<AuditUnavailableError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof AuditUnavailableError, `refused: ${caught}`);
  assert.ok(caught instanceof SecretAccessError);
  assert.equal(caught.auditError, label);
  assert.match(caught.message, /the audit trail could not record this read/);
  assert.ok(!caught.message.includes(CANARY) && !JSON.stringify(caught).includes(CANARY));
  return caught;
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-audit-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("onFailure fail: an audit file that cannot be opened refuses the read before the backend is asked", async () => {
  await withDir(async (dir) => {
    const { manager, calls } = backend();
    const sink = jsonLinesFileSink(`${dir}/audit.jsonl`, { key: testKey(), fs: unopenable });
    const audited = withAudit(manager, sink, { service: "cli", onFailure: "fail" });
    await refused(audited.getSecret("db/password"), "EACCES");
    assert.equal(calls.n, 0, "the backend was not asked");
    await audited.close();
  });
});

Deno.test("onFailure fail: a full disk refuses to serve the value it could not record", async () => {
  await withDir(async (dir) => {
    const { manager, calls } = backend();
    const sink = jsonLinesFileSink(`${dir}/audit.jsonl`, {
      key: testKey(),
      fs: failingWrites("ENOSPC"),
    });
    const audited = withAudit(manager, sink, { service: "cli", onFailure: "fail" });
    await refused(audited.getSecret("db/password"), "ENOSPC");
    assert.equal(calls.n, 1);
    assert.equal(sink.health().failing, true);
    // While failing, the next call is refused up front, and the backend is not asked.
    await refused(audited.getSecret("db/password"), "ENOSPC");
    await audited.close();
  });
});

Deno.test("onFailure fail: a healthy file sink serves, and the line is written before the value is returned", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/audit.jsonl`;
    const { manager } = backend();
    const audited = withAudit(manager, jsonLinesFileSink(path, { key: testKey() }), {
      service: "cli",
      onFailure: "fail",
    });
    assert.equal(await audited.getSecret("db/password"), CANARY);
    const text = await Deno.readTextFile(path);
    assert.match(text, /"action":"get"/);
    await audited.close();
  });
});

Deno.test("onFailure warn (the default): a full disk serves the value and reports it in the log and the stats", async () => {
  await withDir(async (dir) => {
    await withLogs(async (logs) => {
      const { manager } = backend();
      const sink = jsonLinesFileSink(`${dir}/audit.jsonl`, {
        key: testKey(),
        fs: failingWrites("ENOSPC"),
      });
      const audited = withAudit(manager, sink, { service: "api" });
      assert.equal(await audited.getSecret("db/password"), CANARY);
      await audited.flush();
      assert.deepEqual(sink.health(), { failing: true, lastError: "ENOSPC" });
      assert.equal(sink.stats().failedWrites, 1);
      const reported = logs.filter((r) =>
        r.category.slice(0, 2).join(".") === "keyward.audit" && recordText(r).includes("ENOSPC")
      );
      assert.ok(reported.length > 0, "the failure is logged under keyward.audit");
      for (const r of logs) assert.ok(!recordText(r).includes(CANARY));
      await audited.close();
    });
  });
});

Deno.test("withAudit refuses an unknown onFailure", () => {
  const sink: AuditSink = {
    record() {},
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  assert.throws(
    () =>
      withAudit(new MemorySecretManager(), sink, {
        service: "api",
        onFailure: "ignore" as "warn",
      }),
    /onFailure/,
  );
});

Deno.test("onFailure fail and warn: an unreachable Postgres", async () => {
  // A port nobody listens on: the connection is refused at once.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const target = new URL(`postgres://127.0.0.1:${port}/none`);
  target.username = "keyward";
  target.password = "unused";
  const url = target.toString();
  {
    const { manager, calls } = backend();
    const sink = new PostgresAuditSink({ url, key: testKey(), closeTimeoutMs: 50 });
    const audited = withAudit(manager, sink, { service: "cli", onFailure: "fail" });
    await refused(audited.getSecret("db/password"), "ECONNREFUSED");
    assert.equal(calls.n, 0);
    assert.equal(sink.health().failing, true);
    await audited.close();
  }
  {
    const { manager } = backend();
    const sink = new PostgresAuditSink({
      url,
      key: testKey(),
      closeTimeoutMs: 50,
      retryMinMs: 10,
      flushIntervalMs: 1,
    });
    const audited = withAudit(manager, sink, { service: "api", onFailure: "warn" });
    assert.equal(await audited.getSecret("db/password"), CANARY);
    for (let i = 0; i < 500 && sink.stats().failedInserts === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(sink.stats().failedInserts > 0);
    assert.equal(sink.health().lastError, "ECONNREFUSED");
    await audited.close();
  }
});

const db = await openTestDatabase(`audit_on_failure_${crypto.randomUUID().slice(0, 8)}`);
if (db) await applyMigrations(db.sql);

Deno.test({
  name: "onFailure fail: a wrong Postgres password refuses the read; the right one serves it",
  ignore: db === null,
  async fn() {
    const wrong = new URL(db!.url);
    wrong.password = "not-the-password";
    const { manager, calls } = backend();
    const bad = new PostgresAuditSink({
      url: wrong.toString(),
      key: testKey(),
      closeTimeoutMs: 50,
    });
    const refusedRead = withAudit(manager, bad, { service: "cli", onFailure: "fail" });
    const err = await refused(refusedRead.getSecret("db/password"), "28P01");
    assert.ok(!err.message.includes("not-the-password"));
    assert.equal(calls.n, 0);
    await refusedRead.close();

    const good = new PostgresAuditSink({ url: db!.url, key: testKey() });
    const served = withAudit(backend().manager, good, { service: "cli", onFailure: "fail" });
    assert.equal(await served.getSecret("db/password"), CANARY);
    const [{ n }] = await db!.sql`SELECT count(*)::int AS n FROM secret_access_log
      WHERE chain_id = ${good.chainId}`;
    assert.equal(n, 1, "the row was inserted before the value was returned");
    await served.close();
  },
});

Deno.test({
  name: "onFailure fail: a role without INSERT on the table is refused before the backend is asked",
  ignore: db === null,
  async fn() {
    const role = `keyward_audit_ro_${crypto.randomUUID().slice(0, 8)}`;
    const password = crypto.randomUUID();
    await db!.sql.unsafe(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    await db!.sql.unsafe(`GRANT USAGE ON SCHEMA "${db!.schema}" TO ${role}`);
    await db!.sql.unsafe(`GRANT SELECT ON "${db!.schema}".secret_access_log TO ${role}`);
    try {
      const u = new URL(db!.url);
      u.username = role;
      u.password = password;
      const { manager, calls } = backend();
      const sink = new PostgresAuditSink({ url: u.toString(), key: testKey(), closeTimeoutMs: 50 });
      const audited = withAudit(manager, sink, { service: "cli", onFailure: "fail" });
      await refused(audited.getSecret("db/password"), "42501");
      assert.equal(calls.n, 0);
      await audited.close();
    } finally {
      await db!.sql.unsafe(`DROP OWNED BY ${role}; DROP ROLE ${role}`);
    }
  },
});

Deno.test({
  name: "on failure: close the test database",
  ignore: db === null,
  async fn() {
    await db!.close();
  },
});
