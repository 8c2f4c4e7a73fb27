import assert from "node:assert/strict";
import fc from "fast-check";
import { Hmac256, sha256, toHex } from "../../audit/_hmac.ts";
import { AuditChain, AuditKey } from "../../audit/chain.ts";
import { fromJsonLine, toJsonLine } from "../../audit/jsonl_sink.ts";
import { PostgresAuditSink } from "../../audit/pg_sink.ts";
import { pruneAuditLog, verifyPostgresAudit } from "../../audit/pg_store.ts";
import type { AuditCheckpoint } from "../../audit/types.ts";
import { verifyAuditRows } from "../../audit/verify.ts";
import { applyMigrations } from "../../migrations/apply.ts";
import { openTestDatabase } from "../_postgres.ts";
import { event, testKey } from "./_fixtures.ts";

Deno.test("the sealer's HMAC-SHA-256 agrees with WebCrypto for any key and message", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ minLength: 1, maxLength: 150 }),
      fc.uint8Array({ maxLength: 300 }),
      async (key, msg) => {
        const ck = await crypto.subtle.importKey(
          "raw",
          key,
          { name: "HMAC", hash: "SHA-256" },
          false,
          [
            "sign",
          ],
        );
        const expected = toHex(new Uint8Array(await crypto.subtle.sign("HMAC", ck, msg)));
        assert.equal(toHex(new Hmac256(key).sign(msg)), expected);
      },
    ),
    { numRuns: 300 },
  );
  assert.equal(
    toHex(sha256(new TextEncoder().encode("abc"))),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("an audit key shorter than 32 bytes or not base64 is refused, and never printed", () => {
  assert.throws(() => AuditKey.fromBase64(btoa("short")), /at least 32 bytes/);
  assert.throws(() => AuditKey.fromBase64("%%%not-base64"), /not valid base64/);
  const key = AuditKey.fromBase64(AuditKey.generateBase64());
  assert.equal(String(key), "[AuditKey]");
  assert.equal(JSON.stringify({ key }), '{"key":"[AuditKey]"}');
  assert.equal(Deno.inspect(key), "AuditKey {}");
});

Deno.test("verifyAuditRows() finds nothing wrong under the right key and everything under a wrong one", async () => {
  const chain = new AuditChain(testKey());
  const rows = Array.from({ length: 5 }, (_, i) => ({ ...chain.seal(event()), id: i + 1 }));
  assert.equal((await verifyAuditRows(rows, { key: testKey() })).ok, true);
  const other = AuditKey.fromBase64(AuditKey.generateBase64());
  const report = await verifyAuditRows(rows, { key: other });
  assert.equal(report.ok, false);
  assert.equal(report.first?.rowId, 1);
});

const db = await openTestDatabase("audit_verify");
if (db) await applyMigrations(db.sql);

/** Writes `n` events through a real sink; returns the chain id and the checkpoint. */
async function writeChain(n: number, ts?: (i: number) => number) {
  await db!.sql`TRUNCATE secret_access_log, secret_access_log_anchor RESTART IDENTITY`;
  let checkpoint!: AuditCheckpoint;
  const sink = new PostgresAuditSink({
    sql: db!.sql,
    key: testKey(),
    onCheckpoint: (cp) => void (checkpoint = cp),
  });
  for (let i = 0; i < n; i++) {
    sink.record(event({ secretName: `app/s${i}`, ...(ts ? { accessedAtMs: ts(i) } : {}) }));
  }
  await sink.close();
  return { chainId: sink.chainId, checkpoint };
}

const verify = (checkpoint?: AuditCheckpoint) =>
  verifyPostgresAudit(db!.sql, { key: testKey(), ...(checkpoint ? { checkpoint } : {}) });

Deno.test({
  name: "verify is green on an untouched log, with and without the checkpoint",
  ignore: db === null,
  async fn() {
    const { checkpoint } = await writeChain(30);
    assert.equal((await verify()).ok, true);
    const r = await verify(checkpoint);
    assert.equal(r.ok, true);
    assert.equal(r.rows, 30);
  },
});

Deno.test({
  name: "verify reports a changed row",
  ignore: db === null,
  async fn() {
    await writeChain(30);
    await db!.sql`UPDATE secret_access_log SET secret_name = 'app/innocent' WHERE seq = 12`;
    const r = await verify();
    assert.equal(r.first?.kind, "changed");
    assert.equal(r.first?.seq, 12);
    assert.equal(r.first?.rowId, 12);
  },
});

Deno.test({
  name: "verify reports a deleted row",
  ignore: db === null,
  async fn() {
    await writeChain(30);
    await db!.sql`DELETE FROM secret_access_log WHERE seq = 7`;
    const r = await verify();
    assert.equal(r.first?.kind, "deleted");
    assert.equal(r.first?.seq, 7);
  },
});

Deno.test({
  name: "verify reports an inserted row",
  ignore: db === null,
  async fn() {
    const { chainId } = await writeChain(30);
    // An intruder without the key makes room at seq 10 and forges a row there.
    await db!.sql`UPDATE secret_access_log SET seq = seq + 1000000 WHERE seq >= 10`;
    await db!.sql`UPDATE secret_access_log SET seq = seq - 1000000 + 1 WHERE seq > 1000000`;
    const [prev] = await db!.sql`SELECT mac FROM secret_access_log WHERE seq = 9`;
    await db!.sql`
      INSERT INTO secret_access_log (accessed_at, service, secret_name, action, outcome, source,
        chain_id, seq, prev_mac, mac)
      VALUES (now(), 'billing', 'db/password', 'get', 'ok', 'backend', ${chainId}, 10,
        ${prev.mac}, ${"f".repeat(64)})`;
    const r = await verify();
    assert.equal(r.first?.kind, "inserted");
    assert.equal(r.first?.seq, 10);
    assert.equal(r.first?.rowId, 31);
  },
});

Deno.test({
  name: "verify reports reordered rows",
  ignore: db === null,
  async fn() {
    await writeChain(30);
    // Swap the contents of rows 15 and 16 (ids stay): the chain is intact, the order is not.
    await db!.sql`
      UPDATE secret_access_log t SET accessed_at = s.accessed_at, secret_name = s.secret_name,
        seq = s.seq + 1000000, prev_mac = s.prev_mac, mac = s.mac
      FROM secret_access_log s WHERE (t.id, s.id) IN ((15, 16), (16, 15))`;
    await db!.sql`UPDATE secret_access_log SET seq = seq - 1000000 WHERE seq > 1000000`;
    const r = await verify();
    assert.equal(r.first?.kind, "reordered");
    assert.equal(r.first?.rowId, 15);
  },
});

Deno.test({
  name: "issue 12 item 8: swapping two rows' seq is reported as reordered, not inserted",
  ignore: db === null,
  async fn() {
    await writeChain(30);
    // The reproduction: only `seq` is swapped between rows 15 and 16 (everything else stays).
    await db!.sql`UPDATE secret_access_log SET seq = 1000016 WHERE id = 15`;
    await db!.sql`UPDATE secret_access_log SET seq = 15 WHERE id = 16`;
    await db!.sql`UPDATE secret_access_log SET seq = 16 WHERE id = 15`;
    const r = await verify();
    assert.equal(r.first?.kind, "reordered", JSON.stringify(r.first));
    assert.equal(r.problems.length, 1);
    // Two rows apart: the row moved earlier is found as reordered too.
    await writeChain(30);
    await db!.sql`UPDATE secret_access_log SET seq = 1000020 WHERE id = 18`;
    await db!.sql`UPDATE secret_access_log SET seq = 18 WHERE id = 20`;
    await db!.sql`UPDATE secret_access_log SET seq = 20 WHERE id = 18`;
    assert.equal((await verify()).first?.kind, "reordered");
  },
});

Deno.test({
  name:
    "issue 12 item 8: a timestamp moved by less than a millisecond is found (microseconds are sealed)",
  ignore: db === null,
  async fn() {
    // Sub-millisecond times are sealed and stored at microsecond precision.
    await writeChain(5, (i) => Date.UTC(2026, 0, 1) + i + 0.25);
    assert.equal((await verify()).ok, true, "fractional milliseconds round-trip");
    await db!.sql`UPDATE secret_access_log SET accessed_at = accessed_at + interval '1 microsecond'
      WHERE seq = 3`;
    const r = await verify();
    assert.equal(r.first?.kind, "changed", JSON.stringify(r.first));
    assert.equal(r.first?.seq, 3);
    await writeChain(5);
    await db!
      .sql`UPDATE secret_access_log SET accessed_at = accessed_at + interval '400 microseconds'
      WHERE seq = 2`;
    assert.equal((await verify()).first?.kind, "changed");
  },
});

Deno.test("issue 12 item 8: a JSON-lines time moved by less than a millisecond fails its MAC", async () => {
  const chain = new AuditChain(testKey());
  const rows = [1, 2, 3].map((id) => ({
    ...fromJsonLine(toJsonLine(chain.seal(event({ accessedAtMs: 1_767_225_600_000 + id })))),
    id,
  }));
  assert.equal((await verifyAuditRows(rows, { key: testKey() })).ok, true);
  const line = toJsonLine(rows[1]).replace(/\.(\d{3})Z/, ".$1400Z");
  const tampered = [rows[0], { ...fromJsonLine(line), id: 2 }, rows[2]];
  const r = await verifyAuditRows(tampered, { key: testKey() });
  assert.equal(r.first?.kind, "changed");
  assert.equal(r.first?.rowId, 2);
});

Deno.test({
  name: "verify finds a truncated tail only with the checkpoint",
  ignore: db === null,
  async fn() {
    const { checkpoint, chainId } = await writeChain(30);
    await db!.sql`DELETE FROM secret_access_log WHERE seq > 27`;
    assert.equal((await verify()).ok, true, "without a checkpoint a shorter chain looks complete");
    const r = await verify(checkpoint);
    assert.equal(r.first?.kind, "truncated");
    assert.equal(r.first?.chainId, chainId);
    assert.equal(r.first?.seq, 30);
    await db!.sql`DELETE FROM secret_access_log`;
    assert.equal((await verify(checkpoint)).first?.kind, "truncated", "a chain removed entirely");
  },
});

Deno.test({
  name: "prune keeps verify green, with the checkpoint, and a forged anchor is found",
  ignore: db === null,
  async fn() {
    const base = Date.UTC(2026, 0, 1);
    const day = 86_400_000;
    const { checkpoint } = await writeChain(40, (i) => base + i * day);
    let archived = "";
    const dec = new TextDecoder();
    const report = await pruneAuditLog(db!.sql, {
      key: testKey(),
      before: new Date(base + 25 * day),
      archive: new WritableStream({ write: (c) => void (archived += dec.decode(c)) }),
    });
    assert.deepEqual(report, { pruned: 25, chains: 1 });
    assert.equal(archived.trim().split("\n").length, 25);
    const [{ n }] = await db!.sql`SELECT count(*)::int AS n FROM secret_access_log`;
    assert.equal(n, 15);
    const r = await verify(checkpoint);
    assert.equal(r.ok, true, JSON.stringify(r.first));
    // pruning again moves nothing; pruning everything still verifies against the checkpoint
    assert.equal(
      (await pruneAuditLog(db!.sql, { key: testKey(), before: new Date(base), archive: null }))
        .pruned,
      0,
    );
    await pruneAuditLog(db!.sql, {
      key: testKey(),
      before: new Date(base + 100 * day),
      archive: null,
    });
    assert.equal((await verify(checkpoint)).ok, true);
    // an intruder cannot move the anchor forward to hide rows without the key
    await db!.sql`UPDATE secret_access_log_anchor SET seq = seq + 1`;
    assert.equal((await verify()).first?.kind, "anchor");
  },
});

Deno.test({
  name: "deleting the oldest rows without the key is found (no anchor vouches for them)",
  ignore: db === null,
  async fn() {
    await writeChain(10);
    await db!.sql`DELETE FROM secret_access_log WHERE seq <= 3`;
    const r = await verify();
    assert.equal(r.first?.kind, "deleted");
    assert.equal(r.first?.seq, 1);
  },
});

Deno.test({ name: "verify: close the test database", ignore: db === null, fn: () => db!.close() });
