/**
 * The console's sources from the settings, for `deno task serve` with
 * `KEYWARD_CONSOLE=on`: the rotation policy and log of the rotation
 * settings (`KEYWARD_ROTATION_POLICY`, `SECRET_ROTATION_LOG`, ...), and the
 * audit trail: `SECRET_AUDIT=postgres` reads `secret_access_log`,
 * `SECRET_AUDIT=jsonl` the file `SECRET_AUDIT_FILE`, otherwise the
 * endpoint's own JSON-lines audit. `KEYWARD_AUDIT_KEY` enables "verify now";
 * `KEYWARD_CONSOLE_SESSION_KEY` signs the cookies (else a key per start).
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { AuditKey } from "../../audit/chain.ts";
import { type AuditTrail, jsonLinesTrail } from "../../audit/trail.ts";
import { ConfigError } from "../../core/errors.ts";
import type { SecretManager } from "../../core/types.ts";
import { rotationSettings } from "../../rotation/_settings.ts";
import { parsePolicy, type RotationPolicy } from "../../rotation/policy.ts";
import { builtinRotators } from "../../rotation/rotators/mod.ts";
import type { CliIo } from "../../cli/_io.ts";
import type { RotationLogStore } from "../../rotation/types.ts";
import { parseSettings } from "../../settings/parse.ts";
import { consoleData } from "./data.ts";
import type { ConsoleOptions } from "./mod.ts";

type Env = Record<string, string | undefined>;

/** The console's options and what to close at shutdown. */
export interface ConsoleSetup {
  /** For `createServerApp({ console })`. */
  options: ConsoleOptions;
  /** Closes the database connections it opened. */
  close(): Promise<void>;
}

/** The built-in rotators' option checks, as `rotate` applies them (no input is read). */
function validators(): Record<string, (o: Record<string, unknown>) => [string, string][]> {
  const io: CliIo = {
    stdout: () => {},
    stderr: () => {},
    readStdin: () => Promise.resolve(""),
    stdinIsTerminal: false,
    env: {},
  };
  return Object.fromEntries(
    Object.entries(builtinRotators(io)).map(([n, r]) => [n, (o) => r.validateOptions?.(o) ?? []]),
  );
}

async function readPolicy(path: string, explicit: boolean): Promise<RotationPolicy> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT" && !explicit) return { rules: [] };
    throw new ConfigError(`the console cannot read the rotation policy ${path}`);
  }
  return parsePolicy(text, path, validators());
}

function decodeKey(text: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(text.trim()), (ch) => ch.charCodeAt(0));
  } catch {
    throw new ConfigError("KEYWARD_CONSOLE_SESSION_KEY is not base64");
  }
  if (bytes.length < 32) {
    throw new ConfigError("KEYWARD_CONSOLE_SESSION_KEY must hold 32 bytes or more (base64)");
  }
  return bytes;
}

/** Builds the console's sources from `env`; `serverAuditFile` is the endpoint's own trail. */
export async function consoleFromSettings(
  env: Env,
  manager: SecretManager,
  serverAuditFile: string,
): Promise<ConsoleSetup> {
  const s = parseSettings(env);
  const rs = rotationSettings(env);
  const closers: (() => Promise<void>)[] = [];
  const sessionKey = s.KEYWARD_CONSOLE_SESSION_KEY !== undefined
    ? decodeKey(s.KEYWARD_CONSOLE_SESSION_KEY)
    : undefined;
  const policy = await readPolicy(rs.policyPath, rs.policyExplicit);
  let rotationLog: RotationLogStore;
  let sql: import("postgres").Sql | undefined;
  const connect = async () => {
    if (sql) return sql;
    const url = s.DATABASE_URL;
    if (url === undefined) {
      throw new ConfigError("the console reads Postgres: set DATABASE_URL");
    }
    const pgc = await import("../../pg/connect.ts");
    sql = pgc.connectUrl(url, "DATABASE_URL", { max: 2 });
    const opened = sql;
    closers.push(() => opened.end({ timeout: 5 }));
    return sql;
  };
  if (rs.log === "postgres") {
    const { PostgresRotationLog } = await import("../../rotation/log_pg.ts");
    rotationLog = new PostgresRotationLog(await connect());
  } else {
    const { FileRotationLog } = await import("../../rotation/log_file.ts");
    rotationLog = new FileRotationLog(rs.logFile);
  }
  let trail: AuditTrail;
  let command: string;
  if (s.SECRET_AUDIT === "postgres") {
    const { postgresTrail } = await import("../../audit/trail_pg.ts");
    trail = postgresTrail(await connect());
    command = "deno task secrets audit verify";
  } else {
    const file = s.SECRET_AUDIT === "jsonl" ? s.SECRET_AUDIT_FILE : serverAuditFile;
    trail = jsonLinesTrail(file);
    command = `deno task secrets audit verify --file ${file}`;
  }
  const key = s.KEYWARD_AUDIT_KEY !== undefined
    ? AuditKey.fromBase64(s.KEYWARD_AUDIT_KEY)
    : undefined;
  const data = consoleData({
    manager,
    policy,
    rotationLog,
    trail,
    ...(key ? { auditKey: key } : {}),
    verifyCommand: command,
  });
  return {
    options: { data, ...(sessionKey ? { sessionKey } : {}) },
    async close() {
      for (const c of closers) await c().catch(() => {});
    },
  };
}
