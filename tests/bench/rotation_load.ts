/**
 * Zero-downtime rotation, measured: runs the end-to-end scenario of
 * `tests/e2e/rotation_load_test.ts` (both example services on the Vault test
 * server with the cache and Postgres rotation events, the real Postgres, the
 * fake broker; `deno task rotate database/app` and `deno task rotate
 * alpaca/api_key` under a steady client load) `runs` times, prints requests
 * sent, failed and the latency during the rotations, and with `--write`
 * rewrites docs/PERFORMANCE.md's section "Zero-downtime rotation, measured"
 * and its summary row.
 *
 *   DATABASE_URL=postgres://... deno run --allow-net=127.0.0.1,localhost --allow-env \
 *     --allow-read --allow-write --allow-run --allow-sys tests/bench/rotation_load.ts [runs] [rate] [--write]
 *
 * @module
 */

import { openTestDatabase } from "../_postgres.ts";
import { figures, lastPrinted, runRotationLoad } from "../e2e/_rotation_load.ts";
import { ROOT } from "../examples/_services.ts";

const BEGIN = "<!-- rotation-load:begin (written by tests/bench/rotation_load.ts --write) -->";
const END = "<!-- rotation-load:end -->";
const ROW = "| zero-downtime rotation:";

type Figures = ReturnType<typeof figures>;

/** The markdown section for `rows` (one per run). */
export function section(rows: Figures[], rate: number, date: string, command: string): string {
  const total = (k: keyof Figures) => rows.reduce((a, r) => a + r[k], 0);
  const maxP99 = Math.max(...rows.map((r) => r.duringP99));
  const lines = [
    BEGIN,
    "",
    "## Zero-downtime rotation, measured",
    "",
    `Command: \`${command}\` (measured ${date} on the project's 2-core machine shared with other`,
    "agents' test runs). Each run starts both example services as subprocesses on the Vault test",
    "server (a remote backend: the cache, Postgres rotation events on `keyward_rotation`, secrets",
    "under `test/`) with the real Postgres and the fake broker, sends a steady stream of requests",
    `(${rate}/s in total, alternating \`GET /signals\` on signal-service and \`POST /orders\` with`,
    "`DRY_RUN=false` on execution-gateway, which reaches the broker), and meanwhile runs",
    "`deno task rotate database/app` (postgres-password: alternating roles created for the run, the",
    "admin credential from the manager) then `deno task rotate alpaca/api_key` (alpaca: the new pair",
    "on stdin, both pairs valid for one account at the broker). Each rotation's verify step polls the",
    "service's `/health` until it reports the new version. A request fails when it errors, times out",
    '(10 s) or answers other than 2xx. "During the rotations" counts the requests sent from the',
    "start of the first `deno task rotate` until the second one exited (CLI start-up included).",
    "",
    "| run | requests sent | failed | rate | rotations (both) | sent during | failed during | p50 during | p99 during | max during |",
    "| --- | ------------- | ------ | ---- | ---------------- | ----------- | ------------- | ---------- | ---------- | ---------- |",
    ...rows.map((r, i) =>
      `| ${i + 1} | ${r.sent} | ${r.failed} | ${r.ratePerSecond.toFixed(0)}/s | ${
        r.rotationSeconds.toFixed(2)
      } s | ${r.duringSent} | ${r.duringFailed} | ${r.duringP50.toFixed(1)} ms | ${
        r.duringP99.toFixed(1)
      } ms | ${r.duringMax.toFixed(1)} ms |`
    ),
    "",
    `In total: ${total("sent")} requests, ${total("failed")} failed; ${
      total("duringSent")
    } sent during the rotations, ${total("duringFailed")} failed, p99 at most ${
      maxP99.toFixed(1)
    } ms. The pool swap (signal-service opens a pool with the new login, checks it with`,
    "`select 1`, then drains the old one) and the broker client swap (execution-gateway) happen",
    "between requests, so no request sees a closed pool or a revoked key. The test",
    "(`tests/e2e/rotation_load_test.ts`) asserts zero failures and at least 50 requests/s; it",
    "reports the latency and never asserts it.",
    "",
    END,
  ];
  return lines.join("\n");
}

function summaryRow(rows: Figures[], date: string): string {
  const sent = rows.reduce((a, r) => a + r.sent, 0);
  const failed = rows.reduce((a, r) => a + r.failed, 0);
  const maxP99 = Math.max(...rows.map((r) => r.duringP99));
  return `${ROW} \`deno task rotate\` database/app + alpaca/api_key, both example services under load ` +
    `| — (requests failed of sent) | ${failed} failed of ${sent} over ${rows.length} runs; ` +
    `p99 during the rotations <= ${maxP99.toFixed(1)} ms ` +
    `| \`tests/bench/rotation_load.ts\` (command in its section) | ${date} |`;
}

if (import.meta.main) {
  const write = Deno.args.includes("--write");
  const args = Deno.args.filter((a) => a !== "--write");
  const runs = Math.min(10, Math.max(1, Number(args[0] ?? 3)));
  const rate = Math.min(500, Math.max(50, Number(args[1] ?? 100)));
  const command =
    `deno run --allow-net=127.0.0.1,localhost --allow-env --allow-read --allow-write --allow-run --allow-sys tests/bench/rotation_load.ts ${runs} ${rate} --write`;
  const rows: Figures[] = [];
  for (let i = 0; i < runs; i++) {
    const db = await openTestDatabase(`bench_rotation_load_${i}`);
    if (!db) Deno.exit(1);
    try {
      const result = await runRotationLoad(db, { rate, settleMs: 3_000 });
      const bad = result.rotations.filter((r) => r.code !== 0);
      if (bad.length > 0) {
        console.error(bad.map((r) => `deno task rotate ${r.name}: exit ${r.code}\n${r.output}`));
        Deno.exit(1);
      }
      if (result.values.some((v) => lastPrinted.printed.includes(v))) {
        console.error("a service or the CLI printed a secret value");
        Deno.exit(1);
      }
      const f = figures(result);
      rows.push(f);
      console.log(
        `run ${i + 1}: ${f.sent} sent, ${f.failed} failed (${f.ratePerSecond.toFixed(0)}/s); ` +
          `during the rotations (${f.rotationSeconds.toFixed(2)} s): ${f.duringSent} sent, ` +
          `${f.duringFailed} failed, p50 ${f.duringP50.toFixed(1)} ms, p99 ${
            f.duringP99.toFixed(1)
          } ms, max ${f.duringMax.toFixed(1)} ms`,
      );
    } finally {
      await db.close();
    }
  }
  if (write) {
    const date = new Date().toISOString().slice(0, 10);
    const path = `${ROOT}docs/PERFORMANCE.md`;
    let doc = await Deno.readTextFile(path);
    const text = section(rows, rate, date, command);
    const b = doc.indexOf(BEGIN);
    const e = doc.indexOf(END);
    doc = b >= 0 && e > b
      ? doc.slice(0, b) + text + doc.slice(e + END.length)
      : doc.trimEnd() + "\n\n" + text + "\n";
    const row = summaryRow(rows, date);
    const lines = doc.split("\n");
    const at = lines.findIndex((l) => l.startsWith(ROW));
    if (at >= 0) lines[at] = row;
    else {
      const marker = lines.findIndex((l) => l.startsWith("<!-- Each area adds its section"));
      lines.splice(marker - 1, 0, row);
    }
    await Deno.writeTextFile(path, lines.join("\n"));
    const fmt = await new Deno.Command(Deno.execPath(), { args: ["fmt", path], cwd: ROOT })
      .output();
    if (!fmt.success) throw new Error("deno fmt docs/PERFORMANCE.md failed");
    console.log(`wrote ${path}`);
  }
}
