import assert from "node:assert/strict";
import { fromJsonLine, JsonLinesAuditSink } from "../../audit/jsonl_sink.ts";
import { jsonLinesFileSink } from "../../audit/jsonl_file_sink.ts";
import { verifyAuditRows } from "../../audit/verify.ts";
import type { AuditCheckpoint } from "../../audit/types.ts";
import { event, testKey } from "./_fixtures.ts";

function collect(): { stream: WritableStream<Uint8Array>; text: () => string } {
  let text = "";
  const dec = new TextDecoder();
  return {
    stream: new WritableStream({ write: (c) => void (text += dec.decode(c)) }),
    text: () => text,
  };
}

Deno.test("JsonLinesAuditSink writes one JSON object per event with the table's column names", async () => {
  const out = collect();
  const sink = new JsonLinesAuditSink(out.stream);
  sink.record(event({ secretName: "a/b", errorCode: "not_found", outcome: "not_found" }));
  sink.record(event({ action: "list", secretName: "a/" }));
  await sink.close();
  const lines = out.text().trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.deepEqual(Object.keys(lines[0]), [
    "accessed_at",
    "service",
    "secret_name",
    "action",
    "outcome",
    "source",
    "backend",
    "version",
    "latency_ms",
    "error_code",
    "count",
  ]);
  assert.equal(lines[0].accessed_at, "2026-11-29T12:00:00.000Z");
  assert.equal(lines[1].action, "list");
});

Deno.test("JsonLinesAuditSink with a key writes a chain that verifies, and its checkpoint matches", async () => {
  const out = collect();
  const checkpoints: AuditCheckpoint[] = [];
  const sink = new JsonLinesAuditSink(out.stream, {
    key: testKey(),
    onCheckpoint: (cp) => void checkpoints.push(cp),
  });
  for (let i = 0; i < 20; i++) sink.record(event({ secretName: `a/s${i}` }));
  await sink.close();
  const rows = out.text().trim().split("\n").map((l, i) => ({ ...fromJsonLine(l), id: i + 1 }));
  assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: 20 }, (_, i) => i + 1));
  const [cp] = checkpoints;
  assert.equal(cp.chains[sink.chainId!].seq, 20);
  assert.equal((await verifyAuditRows(rows, { key: testKey(), checkpoint: cp })).ok, true);
  const truncated = await verifyAuditRows(rows.slice(0, 18), { key: testKey(), checkpoint: cp });
  assert.equal(truncated.first?.kind, "truncated");
});

Deno.test("JsonLinesAuditSink drops the oldest events past its buffer while the stream is slow, and reports the count", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let text = "";
  const dec = new TextDecoder();
  const sink = new JsonLinesAuditSink(
    new WritableStream({
      async write(c) {
        await gate;
        text += dec.decode(c);
      },
    }),
    { maxBufferedEvents: 10 },
  );
  sink.record(event({ secretName: "first/one" })); // taken by the pump, stuck in write
  await Promise.resolve();
  await Promise.resolve();
  for (let i = 0; i < 25; i++) sink.record(event({ secretName: `a/s${i}` }));
  release();
  await sink.close();
  const lines = text.trim().split("\n").map((l) => JSON.parse(l));
  const dropped = lines.find((l) => l.action === "dropped");
  assert.equal(dropped?.count, 15);
  assert.equal(lines.filter((l) => l.action === "get").length, 11);
  assert.equal(lines.at(-1).secret_name, "a/s24", "the newest events are kept");
});

Deno.test("the JSON-lines file sink rotates by size and keeps at most maxFiles files", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-audit-" });
  try {
    const path = `${dir}/audit.jsonl`;
    const sink = jsonLinesFileSink(path, { maxBytes: 4_000, maxFiles: 3, key: testKey() });
    for (let i = 0; i < 200; i++) {
      sink.record(event({ secretName: `svc/secret_${i}` }));
      if (i % 3 === 2) await sink.flush(); // several writes, so several rotations
    }
    await sink.close();
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(files, ["audit.jsonl", "audit.jsonl.1", "audit.jsonl.2"]);
    let lastSeq = Infinity;
    for (const name of files) {
      const text = await Deno.readTextFile(`${dir}/${name}`);
      assert.ok(new TextEncoder().encode(text).length <= 4_000, `${name} stays under maxBytes`);
      const rows = text.trim().split("\n").map(fromJsonLine);
      // audit.jsonl holds the newest lines, audit.jsonl.2 the oldest kept
      assert.ok(rows.at(-1)!.seq < lastSeq);
      lastSeq = rows[0].seq;
    }
    const newest = (await Deno.readTextFile(path)).trim().split("\n").map(fromJsonLine);
    assert.equal(newest.at(-1)!.seq, 200);
    assert.equal(newest.at(-1)!.secretName, "svc/secret_199");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the JSON-lines file sink appends to an existing file and refuses bad limits", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-audit-" });
  try {
    const path = `${dir}/audit.jsonl`;
    for (const round of [1, 2]) {
      const sink = jsonLinesFileSink(path);
      sink.record(event({ secretName: `round/${round}` }));
      await sink.close();
    }
    const lines = (await Deno.readTextFile(path)).trim().split("\n");
    assert.equal(lines.length, 2);
    assert.throws(() => jsonLinesFileSink(path, { maxBytes: 0 }), /maxBytes/);
    assert.throws(() => jsonLinesFileSink(path, { maxFiles: 0 }), /maxFiles/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
