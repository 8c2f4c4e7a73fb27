/**
 * `secrets audit ...`: follow, query, verify, prune and summarise the audit
 * trail in Postgres (`secret_access_log`). The database URL comes from
 * `DATABASE_URL`; the audit key (for `verify` and `prune`) from
 * `KEYWARD_AUDIT_KEY` (base64).
 *
 * @module
 */

import { parseArgs } from "node:util";
import postgres, { type Sql } from "postgres";
import { AuditKey } from "../audit/chain.ts";
import { readCheckpointFile } from "../audit/checkpoint_file.ts";
import { toJsonLine } from "../audit/jsonl_sink.ts";
import {
  auditStats,
  pruneAuditLog,
  queryAuditLog,
  verifyPostgresAudit,
} from "../audit/pg_store.ts";
import type { AuditCheckpoint, AuditRow } from "../audit/types.ts";
import { KeywardError } from "../core/errors.ts";
import { describeParseError } from "./_command.ts";
import type { CliCommand, CliIo } from "./_io.ts";

/** The one-line summary for the dispatcher's help. */
export const AUDIT_SUMMARY = "follow, query, verify, prune and summarise the audit trail";

const USAGE = `usage: secrets audit <subcommand> [options]

subcommands:
  tail    [--secret NAME] [--service NAME] [--lines 20] [--interval-ms 1000] [--max-polls N] [--json]
          print the newest events, then follow new ones (Ctrl-C stops; --max-polls stops after N polls)
  query   [--secret NAME] [--service NAME] [--since 24h|2026-11-01T00:00:00Z] [--limit 100] [--json]
          print matching events, oldest first
  verify  [--checkpoint FILE] [--json]
          check every hash chain; with the last exported checkpoint, also a truncated tail
  prune   --older-than 90d [--archive FILE.jsonl.gz | --no-archive] [--checkpoint FILE] [--force]
          verify, archive the old rows (gzip JSON lines), then delete them and anchor the chains
  stats   [--since 24h] [--json]
          reads per secret and service, cache hits, stale serves, errors

settings: DATABASE_URL (postgres://...), KEYWARD_AUDIT_KEY (base64; verify and prune)
exit codes: 0 ok, 1 verification failed, 2 usage or settings, 4 database unreachable`;

class Usage extends Error {}

const UNITS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Parses `90d`, `24h`, `30m`, `45s`, `2w` into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhdw])$/.exec(text.trim());
  if (!m) throw new Usage(`not a duration: ${JSON.stringify(text)} (use e.g. 90d, 24h, 30m)`);
  return Number(m[1]) * UNITS[m[2]];
}

function parseSince(text: string | undefined, nowMs: number): Date | undefined {
  if (text === undefined) return undefined;
  if (/^\d+[smhdw]$/.test(text)) return new Date(nowMs - parseDuration(text));
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Usage(`--since takes a duration (24h) or an ISO time`);
  return new Date(t);
}

function positiveInt(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Usage(`--${name} takes a whole number`);
  return n;
}

function formatRow(r: AuditRow): string {
  const parts = [
    new Date(r.accessedAtMs).toISOString(),
    r.service,
    r.action,
    r.outcome,
    r.source,
    r.secretName === "" ? "-" : r.secretName,
  ];
  if (r.version !== null) parts.push(`version=${r.version}`);
  if (r.backend !== null) parts.push(`backend=${r.backend}`);
  if (r.count !== 1) parts.push(`x${r.count}`);
  if (r.errorCode !== null) parts.push(`error=${r.errorCode}`);
  parts.push(`${r.latencyMs}ms`);
  return parts.join("  ");
}

function rowJson(r: AuditRow): string {
  return `{"id":${r.id},${toJsonLine(r).slice(1)}`;
}

function key(io: CliIo): AuditKey {
  const text = io.env.KEYWARD_AUDIT_KEY;
  if (!text) throw new Usage("KEYWARD_AUDIT_KEY is not set (the audit key, base64)");
  return AuditKey.fromBase64(text);
}

function connect(io: CliIo): Sql {
  const url = io.env.DATABASE_URL;
  if (!url) throw new Usage("DATABASE_URL is not set (postgres://user:password@host:5432/db)");
  return postgres(url, { max: 2, onnotice: () => {}, connect_timeout: 10 });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function tail(sql: Sql, io: CliIo, v: Record<string, string | boolean | undefined>) {
  const filter = {
    ...(v.secret !== undefined ? { secret: v.secret as string } : {}),
    ...(v.service !== undefined ? { service: v.service as string } : {}),
  };
  const intervalMs = positiveInt(v["interval-ms"] as string | undefined, "interval-ms", 1000);
  const maxPolls = v["max-polls"] === undefined
    ? Infinity
    : positiveInt(v["max-polls"] as string, "max-polls", 0);
  const print = (rows: AuditRow[]) => {
    for (const r of rows) io.stdout((v.json ? rowJson(r) : formatRow(r)) + "\n");
  };
  const first = await queryAuditLog(sql, {
    ...filter,
    limit: positiveInt(v.lines as string | undefined, "lines", 20),
  });
  print(first);
  let lastId = first.at(-1)?.id ?? 0;
  if (first.length === 0) {
    const [{ max }] = await sql`SELECT coalesce(max(id), 0)::bigint AS max FROM secret_access_log`;
    lastId = Number(max);
  }
  for (let polls = 0; polls < maxPolls; polls++) {
    await sleep(intervalMs);
    const rows = await queryAuditLog(sql, { ...filter, afterId: lastId, limit: 10_000 });
    print(rows);
    lastId = rows.at(-1)?.id ?? lastId;
  }
  return 0;
}

async function query(sql: Sql, io: CliIo, v: Record<string, string | boolean | undefined>) {
  const since = parseSince(v.since as string | undefined, Date.now());
  const rows = await queryAuditLog(sql, {
    ...(v.secret !== undefined ? { secret: v.secret as string } : {}),
    ...(v.service !== undefined ? { service: v.service as string } : {}),
    ...(since ? { since } : {}),
    limit: positiveInt(v.limit as string | undefined, "limit", 100),
  });
  for (const r of rows) io.stdout((v.json ? rowJson(r) : formatRow(r)) + "\n");
  if (!v.json && rows.length === 0) io.stderr("no matching events\n");
  return 0;
}

async function loadCheckpoint(path: unknown): Promise<AuditCheckpoint | undefined> {
  return typeof path === "string" ? await readCheckpointFile(path) : undefined;
}

async function verify(sql: Sql, io: CliIo, v: Record<string, string | boolean | undefined>) {
  const checkpoint = await loadCheckpoint(v.checkpoint);
  const report = await verifyPostgresAudit(sql, {
    key: key(io),
    ...(checkpoint ? { checkpoint } : {}),
  });
  if (v.json) {
    io.stdout(JSON.stringify(report) + "\n");
  } else if (report.ok) {
    io.stdout(
      `OK: ${report.rows} rows in ${report.chains} chains verified${
        checkpoint ? " against the checkpoint" : " (no checkpoint: a truncated tail is not checked)"
      }\n`,
    );
  } else {
    io.stdout(`FAILED: ${report.first!.kind}: ${report.first!.detail}\n`);
    for (const p of report.problems.slice(1)) io.stdout(`  also ${p.kind}: ${p.detail}\n`);
  }
  if (!v.json) { for (const d of report.drops) io.stdout(`  dropped: ${d.detail}\n`); }
  return report.ok ? 0 : 1;
}

async function prune(sql: Sql, io: CliIo, v: Record<string, string | boolean | undefined>) {
  if (typeof v["older-than"] !== "string") throw new Usage("prune needs --older-than (e.g. 90d)");
  const before = new Date(Date.now() - parseDuration(v["older-than"]));
  if (v["no-archive"] && v.archive !== undefined) {
    throw new Usage("give either --archive or --no-archive");
  }
  const auditKey = key(io);
  const checkpoint = await loadCheckpoint(v.checkpoint);
  const check = await verifyPostgresAudit(sql, {
    key: auditKey,
    ...(checkpoint ? { checkpoint } : {}),
  });
  if (!check.ok && !v.force) {
    io.stderr(
      `refusing to prune: verify failed (${check.first!.kind}: ${check.first!.detail}); ` +
        `investigate, or prune anyway with --force\n`,
    );
    return 1;
  }
  let archivePath: string | null = null;
  let archive: WritableStream<Uint8Array> | null = null;
  let piping: Promise<void> = Promise.resolve();
  if (!v["no-archive"]) {
    archivePath = typeof v.archive === "string"
      ? v.archive
      : `secret_access_log-${new Date().toISOString().replace(/[:.]/g, "-")}.jsonl.gz`;
    const file = await Deno.open(archivePath, { write: true, createNew: true, mode: 0o600 });
    const gzip = new CompressionStream("gzip");
    piping = gzip.readable.pipeTo(file.writable);
    archive = gzip.writable as WritableStream<Uint8Array>;
  }
  try {
    const report = await pruneAuditLog(sql, { key: auditKey, before, archive });
    await piping;
    const where = archivePath ? `; archived to ${archivePath}` : "";
    io.stdout(
      v.json
        ? JSON.stringify({ ...report, before: before.toISOString(), archive: archivePath }) + "\n"
        : `pruned ${report.pruned} rows older than ${before.toISOString()} from ${report.chains} chains${where}\n`,
    );
    return 0;
  } catch (err) {
    await piping.catch(() => {});
    if (archivePath) await Deno.remove(archivePath).catch(() => {});
    throw err;
  }
}

async function stats(sql: Sql, io: CliIo, v: Record<string, string | boolean | undefined>) {
  const since = parseSince((v.since as string | undefined) ?? "24h", Date.now())!;
  const s = await auditStats(sql, { since });
  if (v.json) {
    io.stdout(JSON.stringify({ since: since.toISOString(), ...s }) + "\n");
    return 0;
  }
  const head = ["service", "secret", "reads", "cache hits", "stale", "errors", "changes"];
  const table = [
    head,
    ...s.rows.map((r) => [
      r.service,
      r.secretName === "" ? "-" : r.secretName,
      String(r.reads),
      String(r.cacheHits),
      String(r.staleServes),
      String(r.errors),
      String(r.changes),
    ]),
  ];
  const widths = head.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  io.stdout(`since ${since.toISOString()}\n`);
  for (const row of table) {
    io.stdout(
      row.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ") + "\n",
    );
  }
  if (s.dropped > 0) io.stdout(`events lost by sinks (buffer full): ${s.dropped}\n`);
  return 0;
}

const SUBCOMMANDS = {
  tail: {
    run: tail,
    options: ["secret", "service", "lines", "interval-ms", "max-polls"],
  },
  query: { run: query, options: ["secret", "service", "since", "limit"] },
  verify: { run: verify, options: ["checkpoint"] },
  prune: { run: prune, options: ["older-than", "archive", "no-archive", "checkpoint", "force"] },
  stats: { run: stats, options: ["since"] },
} as const;

const BOOLEAN = new Set(["no-archive", "force"]);

/**
 * The `audit` command: `secrets audit tail|query|verify|prune|stats`.
 *
 * @example
 * ```ts
 * import { auditCommand } from "./audit.ts";
 *
 * let out = "";
 * const io = {
 *   stdout: (t: string) => void (out += t), stderr: () => {}, readStdin: () => Promise.resolve(""),
 *   stdinIsTerminal: false, env: {},
 * };
 * if (await auditCommand(["--help"], io) !== 0 || !out.includes("verify")) throw new Error();
 * ```
 */
export const auditCommand: CliCommand = async (args: string[], io: CliIo): Promise<number> => {
  const json = args.includes("--json");
  const printHelp = (): number => {
    io.stdout(
      json ? `${JSON.stringify({ command: "audit", usage: USAGE }, null, 2)}\n` : `${USAGE}\n`,
    );
    return 0;
  };
  const [sub, ...rest] = args;
  if (sub === undefined) {
    io.stderr(`error: no audit subcommand given\n\n${USAGE}\n`);
    return 2;
  }
  if (sub === "help" || (sub.startsWith("-") && (args.includes("--help") || args.includes("-h")))) {
    return printHelp();
  }
  if (sub.startsWith("-")) {
    io.stderr(`error: unknown option ${sub}\n\n${USAGE}\n`);
    return 2;
  }
  const spec = SUBCOMMANDS[sub as keyof typeof SUBCOMMANDS];
  if (!spec) {
    io.stderr(`error: unknown audit subcommand ${JSON.stringify(sub)}\n\n${USAGE}\n`);
    return 2;
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    const options: Record<string, { type: "string" | "boolean" }> = {
      json: { type: "boolean" },
      help: { type: "boolean" },
    };
    for (const o of spec.options) options[o] = { type: BOOLEAN.has(o) ? "boolean" : "string" };
    values = parseArgs({ args: rest, options, allowPositionals: false, strict: true }).values;
  } catch (err) {
    io.stderr(`error: ${describeParseError(err)}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) return printHelp();
  let sql: Sql | undefined;
  try {
    sql = connect(io);
    return await spec.run(sql, io, values);
  } catch (err) {
    if (err instanceof Usage) {
      io.stderr(`${err.message}\n`);
      return 2;
    }
    if (err instanceof KeywardError) {
      io.stderr(`${err.message}\n`);
      return err.code === "config" ? 2 : 1;
    }
    const code = (err as { code?: unknown })?.code;
    if (typeof code === "string" && /^(ECONN|ENOTFOUND|CONNECT_TIMEOUT|CONNECTION_)/.test(code)) {
      io.stderr(`the audit database is unreachable (${code})\n`);
      return 4;
    }
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
      io.stderr(
        `the audit database refused the query (SQLSTATE ${code}); run deno task db:migrate?\n`,
      );
      return 1;
    }
    throw err;
  } finally {
    await sql?.end({ timeout: 5 });
  }
};
