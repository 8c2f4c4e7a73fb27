/**
 * `secrets audit ...`: follow, query, verify, prune and summarise the audit
 * trail in Postgres (`secret_access_log`). The database URL comes from
 * `DATABASE_URL`; the audit key (for `verify` and `prune`) from
 * `KEYWARD_AUDIT_KEY` (base64). `query`, `stats` and `verify` also read the
 * JSON-lines trail: the file given by `--file`, or `SECRET_AUDIT_FILE` when
 * `SECRET_AUDIT=jsonl`. `verify` records each run's result beside the trail
 * (`<file>.verify.json`, or the `audit_verify_runs` table) for the console.
 *
 * @module
 */

import type { Sql } from "postgres";
import { AuditKey } from "../audit/chain.ts";
import { readCheckpointFile } from "../audit/checkpoint_file.ts";
import { toJsonLine } from "../audit/jsonl_sink.ts";
import { pruneAuditLog, queryAuditLog, verifyPostgresAudit } from "../audit/pg_store.ts";
import type { AuditCheckpoint, AuditRow } from "../audit/types.ts";
import { type AuditTrail, jsonLinesTrail, verifyRunOf } from "../audit/trail.ts";
import { postgresTrail } from "../audit/trail_pg.ts";
import { rawSetting } from "../settings/parse.ts";
import { DEFAULT_AUDIT_FILE } from "../settings/table.ts";
import { ConfigError, KeywardError } from "../core/errors.ts";
import {
  CliFailure,
  type CommandContext,
  type CommandDef,
  defineCommand,
  runCommand,
  UsageError,
} from "./_command.ts";
import type { CliCommand, CliIo } from "./_io.ts";

/** The one-line summary for the dispatcher's help. */
export const AUDIT_SUMMARY = "follow, query, verify, prune and summarise the audit trail";

type Values = Record<string, string | boolean | undefined>;
type Ctx = CommandContext<Values>;

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
  if (!m) throw new UsageError(`not a duration: ${JSON.stringify(text)} (use e.g. 90d, 24h, 30m)`);
  return Number(m[1]) * UNITS[m[2]];
}

function parseSince(text: string | undefined, nowMs: number): Date | undefined {
  if (text === undefined) return undefined;
  if (/^\d+[smhdw]$/.test(text)) return new Date(nowMs - parseDuration(text));
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`--since takes a duration (24h) or an ISO time`);
  return new Date(t);
}

function positiveInt(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} takes a whole number`);
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
  const text = io.env.KEYWARD_AUDIT_KEY?.trim();
  if (!text) throw new ConfigError("KEYWARD_AUDIT_KEY is not set (the audit key, base64)");
  return AuditKey.fromBase64(text);
}

/** Opens the audit database of `DATABASE_URL`, runs `fn`, closes it; database errors mapped. */
async function withDatabase(ctx: Ctx, fn: (sql: Sql) => Promise<number>): Promise<number> {
  const url = ctx.io.env.DATABASE_URL?.trim();
  if (!url) {
    throw new ConfigError("DATABASE_URL is not set (postgres://user:password@host:5432/db)");
  }
  const sql = await ctx.deps.connectAuditDatabase(url);
  try {
    return await fn(sql);
  } catch (err) {
    throw databaseFailure(err);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * The trail `query`, `stats` and `verify` read: the JSON-lines file of
 * `--file`, or of `SECRET_AUDIT_FILE` when `SECRET_AUDIT=jsonl`; otherwise
 * Postgres (`DATABASE_URL`).
 */
async function withTrail(ctx: Ctx, fn: (trail: AuditTrail) => Promise<number>): Promise<number> {
  const env = ctx.io.env;
  const given = ctx.values.file;
  const file = typeof given === "string"
    ? given
    : rawSetting(env, "SECRET_AUDIT") === "jsonl"
    ? rawSetting(env, "SECRET_AUDIT_FILE") ?? DEFAULT_AUDIT_FILE
    : undefined;
  if (file === undefined) return await withDatabase(ctx, (sql) => fn(postgresTrail(sql)));
  if (!(await pathExists(file)) && !(await pathExists(`${file}.1`))) {
    throw new ConfigError(
      `no audit trail at ${file} (${
        typeof given === "string" ? "--file" : "SECRET_AUDIT_FILE"
      }); check the path`,
    );
  }
  return await fn(jsonLinesTrail(file));
}

/** A database error as the CLI reports it: unreachable is exit 4, a refused query exit 1. */
function databaseFailure(err: unknown): unknown {
  if (err instanceof KeywardError || err instanceof UsageError || err instanceof CliFailure) {
    return err;
  }
  const code = (err as { code?: unknown })?.code;
  if (typeof code === "string" && /^(ECONN|ENOTFOUND|CONNECT_TIMEOUT|CONNECTION_)/.test(code)) {
    return new CliFailure("access", `the audit database is unreachable (${code})`);
  }
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
    return new CliFailure(
      "unexpected",
      `the audit database refused the query (SQLSTATE ${code}); run deno task db:migrate?`,
    );
  }
  return err;
}

async function tail(sql: Sql, ctx: Ctx): Promise<number> {
  const { io, values: v } = ctx;
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
    await ctx.deps.sleep(intervalMs);
    const rows = await queryAuditLog(sql, { ...filter, afterId: lastId, limit: 10_000 });
    print(rows);
    lastId = rows.at(-1)?.id ?? lastId;
  }
  return 0;
}

async function query(trail: AuditTrail, ctx: Ctx): Promise<number> {
  const { io, values: v } = ctx;
  const since = parseSince(v.since as string | undefined, ctx.deps.now());
  const rows = await trail.query({
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

async function verify(trail: AuditTrail, ctx: Ctx): Promise<number> {
  const { io, values: v } = ctx;
  const checkpoint = await loadCheckpoint(v.checkpoint);
  const report = await trail.verify(key(io), checkpoint);
  try {
    await trail.recordVerify(verifyRunOf(report, new Date(ctx.deps.now()), "cli"));
  } catch {
    io.stderr(
      trail.where === "postgres"
        ? "note: the result was not recorded for the console (run deno task db:migrate)\n"
        : "note: the result was not recorded for the console (the state file cannot be written)\n",
    );
  }
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

interface PrunePlan {
  before: Date;
  auditKey: AuditKey;
  /** The archive to create, or `null` with --no-archive. */
  archivePath: string | null;
}

/**
 * Checks prune's command line and settings before anything is touched: the
 * archive must be a new file (prune never overwrites one), so an existing
 * one is a usage error and nothing is read, written or deleted.
 */
async function planPrune(ctx: Ctx): Promise<PrunePlan> {
  const v = ctx.values;
  const before = new Date(ctx.deps.now() - parseDuration(v["older-than"] as string));
  if (v["no-archive"] && v.archive !== undefined) {
    throw new UsageError("give either --archive or --no-archive");
  }
  const auditKey = key(ctx.io);
  let archivePath: string | null = null;
  if (!v["no-archive"]) {
    archivePath = typeof v.archive === "string"
      ? v.archive
      : `secret_access_log-${
        new Date(ctx.deps.now()).toISOString().replace(/[:.]/g, "-")
      }.jsonl.gz`;
    if (await pathExists(archivePath)) throw archiveExists(archivePath);
  }
  return { before, auditKey, archivePath };
}

function archiveExists(path: string): UsageError {
  return new UsageError(
    `the archive ${path} already exists; prune never overwrites an archive: ` +
      "give --archive a new file name (nothing was pruned)",
  );
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

async function openArchive(path: string): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) throw archiveExists(path);
    const why = err instanceof Error && /^[A-Za-z]{1,40}$/.test(err.name) ? ` (${err.name})` : "";
    throw new CliFailure(
      "write",
      `the archive ${path} cannot be created${why}; nothing was pruned`,
    );
  }
}

async function prune(sql: Sql, ctx: Ctx, plan: PrunePlan): Promise<number> {
  const { io, values: v } = ctx;
  const { before, auditKey, archivePath } = plan;
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
  let archive: WritableStream<Uint8Array> | null = null;
  let piping: Promise<void> = Promise.resolve();
  if (archivePath !== null) {
    const file = await openArchive(archivePath);
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

async function stats(trail: AuditTrail, ctx: Ctx): Promise<number> {
  const { io, values: v } = ctx;
  const since = parseSince((v.since as string | undefined) ?? "24h", ctx.deps.now())!;
  const s = await trail.stats(since);
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

const FILE = {
  type: "string",
  arg: "FILE",
  help:
    "read this JSON-lines trail instead of Postgres\n(default with SECRET_AUDIT=jsonl: SECRET_AUDIT_FILE)",
} as const;

const FILTERS = {
  secret: { type: "string", arg: "NAME", help: "only events of this secret" },
  service: { type: "string", arg: "NAME", help: "only events of this service" },
} as const;

/** `secrets audit tail|query|verify|prune|stats`: one definition per subcommand. */
export const auditDefinition: CommandDef = defineCommand({
  name: "audit",
  summary: AUDIT_SUMMARY,
  description: `Follows, queries, verifies, prunes and summarises the audit trail in Postgres
(secret_access_log). query, stats and verify also read a JSON-lines trail
(--file, or SECRET_AUDIT_FILE with SECRET_AUDIT=jsonl); verify records each
run's result for the operator console.

settings: DATABASE_URL (postgres://...), KEYWARD_AUDIT_KEY (base64; verify and prune),
SECRET_AUDIT and SECRET_AUDIT_FILE (the JSON-lines trail)`,
  exits: {
    0: "ok",
    1: "verification failed (verify, prune)",
    2: "usage or settings",
    4: "database unreachable",
  },
  subcommands: [
    defineCommand<Values>({
      name: "tail",
      summary: "print the newest events, then follow new ones (Ctrl-C stops)",
      description:
        "Prints the newest events, then follows new ones (Ctrl-C stops; --max-polls\nstops after N polls).",
      options: {
        ...FILTERS,
        lines: {
          type: "string",
          arg: "N",
          help: "how many of the newest events first (default 20)",
        },
        "interval-ms": { type: "string", arg: "MS", help: "how often to poll (default 1000)" },
        "max-polls": { type: "string", arg: "N", help: "stop after N polls (default: never)" },
      },
      jsonHelp: "print JSON lines",
      run: (ctx) => withDatabase(ctx, (sql) => tail(sql, ctx)),
    }),
    defineCommand<Values>({
      name: "query",
      summary: "print matching events, oldest first",
      options: {
        ...FILTERS,
        since: { type: "string", arg: "24h|2026-11-01T00:00:00Z", help: "only events since then" },
        limit: { type: "string", arg: "N", help: "at most N events (default 100)" },
        file: FILE,
      },
      jsonHelp: "print JSON lines",
      run: (ctx) => withTrail(ctx, (trail) => query(trail, ctx)),
    }),
    defineCommand<Values>({
      name: "verify",
      summary: "check every hash chain; with the last checkpoint, also a truncated tail",
      options: {
        checkpoint: { type: "string", arg: "FILE", help: "the last exported checkpoint" },
        file: FILE,
      },
      exits: { 0: "the log verifies", 1: "verification failed" },
      run: (ctx) => withTrail(ctx, (trail) => verify(trail, ctx)),
    }),
    defineCommand<Values>({
      name: "prune",
      summary: "verify, archive the old rows (gzip JSON lines), delete them, anchor the chains",
      description: `Verifies the log, archives the rows older than --older-than to a new gzip
JSON-lines file, deletes them and anchors the chains. An existing archive file
is refused before anything is touched.`,
      options: {
        "older-than": {
          type: "string",
          arg: "90d",
          required: true,
          help: "prune rows older than this",
        },
        archive: {
          type: "string",
          arg: "FILE.jsonl.gz",
          help: "a new file for the pruned rows\n(default: secret_access_log-<time>.jsonl.gz)",
        },
        "no-archive": { type: "boolean", help: "delete without archiving" },
        checkpoint: { type: "string", arg: "FILE", help: "verify against this checkpoint first" },
        force: { type: "boolean", help: "prune even when verification fails" },
      },
      exits: { 0: "pruned", 1: "verification failed (nothing pruned)" },
      async run(ctx) {
        const plan = await planPrune(ctx);
        return await withDatabase(ctx, (sql) => prune(sql, ctx, plan));
      },
    }),
    defineCommand<Values>({
      name: "stats",
      summary: "reads per secret and service, cache hits, stale serves, errors",
      options: {
        since: { type: "string", arg: "24h", help: "count events since then (default 24h)" },
        file: FILE,
      },
      run: (ctx) => withTrail(ctx, (trail) => stats(trail, ctx)),
    }),
  ],
});

/**
 * The `audit` command as a function of its own arguments (without the word
 * `audit`): `secrets audit tail|query|verify|prune|stats`.
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
export const auditCommand: CliCommand = (args: string[], io: CliIo): Promise<number> =>
  runCommand(auditDefinition, args, io);
