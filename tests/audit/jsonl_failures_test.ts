/**
 * The JSON-lines file sink when the disk fails (issue 12 item 6) and its
 * chain across processes (issue 12 item 7).
 */

import assert from "node:assert/strict";
import {
  type AuditFile,
  type AuditFileSystem,
  jsonLinesFileSink,
  nodeAuditFileSystem,
} from "../../audit/jsonl_file_sink.ts";
import { fromJsonLine } from "../../audit/jsonl_sink.ts";
import { withAudit } from "../../audit/audited_manager.ts";
import { readCheckpointFile } from "../../audit/checkpoint_file.ts";
import { verifyAuditRows } from "../../audit/verify.ts";
import { MemorySecretManager } from "../../backends/memory.ts";
import { recordText, withLogs } from "../cache/_helpers.ts";
import { event, testKey } from "./_fixtures.ts";

/** A file system whose disk holds `room` more bytes: a write past it writes what fits, then fails. */
function smallDisk(room: { bytes: number }): AuditFileSystem {
  return {
    ...nodeAuditFileSystem,
    async open(path) {
      const file = await nodeAuditFileSystem.open(path);
      const limited: AuditFile = {
        ...file,
        async write(bytes) {
          if (room.bytes <= 0) {
            throw Object.assign(new Error("no space left on device"), { code: "ENOSPC" });
          }
          const n = await file.write(bytes.subarray(0, Math.min(bytes.length, room.bytes)));
          room.bytes -= n;
          return n; // a short write: the next call fails
        },
      };
      return limited;
    },
  };
}

async function rowsOf(path: string) {
  const text = await Deno.readTextFile(path);
  assert.ok(text === "" || text.endsWith("\n"), "the file ends with a whole line");
  return text.trim() === "" ? [] : text.trim().split("\n").map((l, i) => ({
    ...fromJsonLine(l),
    id: i + 1,
  }));
}

Deno.test("issue 12 item 6: a full disk leaves no cut line, keeps the events, and writes them once there is room", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-audit-" });
  try {
    const path = `${dir}/audit.jsonl`;
    const room = { bytes: 2_000 };
    await withLogs(async (logs) => {
      const sink = jsonLinesFileSink(path, {
        key: testKey(),
        fs: smallDisk(room),
        retryMinMs: 60_000, // retried by flush() in this test, not by the timer
      });
      for (let i = 0; i < 3; i++) sink.record(event({ secretName: `before/s${i}` }));
      await sink.flush();
      assert.equal((await rowsOf(path)).length, 3);
      // The reproduction: the disk fills in the middle of the next batch.
      for (let i = 0; i < 20; i++) sink.record(event({ secretName: `full/s${i}` }));
      await sink.flush();
      assert.equal((await rowsOf(path)).length, 3, "the cut batch was taken back whole");
      assert.deepEqual(sink.health(), { failing: true, lastError: "ENOSPC" });
      assert.equal(sink.stats().failedWrites, 1);
      assert.equal(sink.stats().buffered, 20, "the events are kept");
      await assert.rejects(sink.confirm(), /cannot be written \(ENOSPC\)/);
      assert.ok(
        logs.some((r) => r.level === "error" && recordText(r).includes("ENOSPC")),
        "the failure is logged",
      );
      // Room again: the next attempt writes every kept event, sealed in order.
      room.bytes = 1_000_000;
      await sink.flush();
      assert.deepEqual(sink.health(), { failing: false, lastError: null });
      await sink.confirm();
      const cp = sink.checkpoint()!;
      await sink.close();
      const rows = await rowsOf(path);
      assert.equal(rows.length, 23);
      assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: 23 }, (_, i) => i + 1));
      assert.equal(sink.stats().dropped, 0);
      const report = await verifyAuditRows(rows, { key: testKey(), checkpoint: cp });
      assert.equal(report.ok, true, JSON.stringify(report.first));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("issue 12 item 6: a line cut by a crash is removed on open, logged, and recorded in the trail", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-audit-" });
  try {
    const path = `${dir}/audit.jsonl`;
    const first = jsonLinesFileSink(path, { key: testKey(), chainId: "a" });
    first.record(event({ secretName: "app/one" }));
    first.record(event({ secretName: "app/two" }));
    await first.close();
    const whole = await Deno.readTextFile(path);
    // The reproduction: the last line is cut in the middle of its JSON.
    const cut = whole.slice(0, whole.length - 40);
    await Deno.writeTextFile(path, cut);
    await withLogs(async (logs) => {
      const sink = jsonLinesFileSink(path, { key: testKey(), chainId: "b" });
      sink.record(event({ secretName: "app/three" }));
      await sink.close();
      assert.ok(
        logs.some((r) => r.level === "warning" && recordText(r).includes("cut line")),
        "the repair is logged",
      );
    });
    const rows = await rowsOf(path);
    assert.deepEqual(
      rows.map((r) => `${r.chainId}:${r.secretName || r.action}:${r.errorCode ?? ""}`),
      ["a:app/one:", "b:app/three:", "b:dropped:torn_line"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("issue 12 item 6: a write cut short whose cut-back also fails is repaired before the next write", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-audit-" });
  try {
    const path = `${dir}/audit.jsonl`;
    const state = { room: 200, truncateFails: true };
    const fs: AuditFileSystem = {
      ...nodeAuditFileSystem,
      async open(p) {
        const file = await nodeAuditFileSystem.open(p);
        return {
          ...file,
          async write(bytes) {
            if (state.room <= 0) throw Object.assign(new Error("full"), { code: "ENOSPC" });
            const n = await file.write(bytes.subarray(0, Math.min(bytes.length, state.room)));
            state.room -= n;
            return n;
          },
          truncate: (len) =>
            state.truncateFails
              ? Promise.reject(Object.assign(new Error("io"), { code: "EIO" }))
              : file.truncate(len),
        };
      },
    };
    const sink = jsonLinesFileSink(path, { key: testKey(), fs, retryMinMs: 60_000 });
    for (let i = 0; i < 5; i++) sink.record(event({ secretName: `s/${i}` }));
    await sink.flush();
    assert.equal(sink.health().failing, true);
    state.room = 1_000_000;
    state.truncateFails = false;
    await sink.flush();
    await sink.close();
    const rows = await rowsOf(path);
    assert.equal(rows.length, 5);
    assert.equal((await verifyAuditRows(rows, { key: testKey() })).ok, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("issue 12 item 7: three CLI-like runs continue one chain; deleting the middle row is found", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-audit-" });
  try {
    const path = `${dir}/audit.jsonl`;
    const backend = new MemorySecretManager({ initial: { "db/password": "pw-0123456789" } });
    for (const run of [1, 2, 3]) {
      // One process each: a new sink and a new withAudit, the same writer identity.
      const sink = jsonLinesFileSink(path, { key: testKey(), chainId: "cli:ops", resume: true });
      const audited = withAudit(backend, sink, { service: "ops", closeSink: true });
      await audited.describeSecret("db/password");
      await sink.close();
      assert.equal(run > 0, true);
    }
    const rows = await rowsOf(path);
    assert.deepEqual(rows.map((r) => `${r.chainId}:${r.seq}`), [
      "cli:ops:1",
      "cli:ops:2",
      "cli:ops:3",
    ]);
    const heads = await readCheckpointFile(`${path}.heads.json`);
    assert.equal(heads.chains["cli:ops"].seq, 3);
    assert.equal((await verifyAuditRows(rows, { key: testKey(), checkpoint: heads })).ok, true);
    // The reproduction: an operator's row is deleted; no checkpoint setting needed to see it.
    const withoutMiddle = [rows[0], rows[2]];
    const report = await verifyAuditRows(withoutMiddle, { key: testKey() });
    assert.equal(report.first?.kind, "deleted");
    assert.equal(report.first?.seq, 2);
    // And the newest row deleted: the heads file beside the trail sees it.
    const tail = await verifyAuditRows(rows.slice(0, 2), { key: testKey(), checkpoint: heads });
    assert.equal(tail.first?.kind, "truncated");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("issue 12 item 7: a JSON-lines trail without a key says so in the log", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-audit-" });
  try {
    await withLogs(async (logs) => {
      const sink = jsonLinesFileSink(`${dir}/audit.jsonl`);
      await sink.close();
      assert.ok(
        logs.some((r) => r.level === "warning" && recordText(r).includes("no MAC")),
        "the missing key is logged",
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
