/**
 * The factory's audit wiring: `SECRET_AUDIT` chooses the sink, and the
 * audited manager sits inside the cache so backend calls are one event
 * each and cache serves are counted per minute.
 *
 * | setting | meaning |
 * |---|---|
 * | `SECRET_AUDIT` | `off` (default), `jsonl` or `postgres` |
 * | `SECRET_AUDIT_SERVICE` | the service name written on every event (required when audit is on) |
 * | `SECRET_AUDIT_FILE` | `jsonl`: the file (default `.keyward/audit.jsonl`), rotated by size |
 * | `SECRET_AUDIT_MAX_BYTES`, `SECRET_AUDIT_MAX_FILES` | `jsonl`: rotation (10 MiB, 5 files) |
 * | `KEYWARD_AUDIT_KEY` | base64 key sealing the chain (bootstrap credential) |
 * | `SECRET_AUDIT_KEY_SECRET` | or: the name of the secret holding that key |
 * | `SECRET_AUDIT_DATABASE_SECRET` | `postgres`: the secret holding the database URL or fields |
 * | `DATABASE_URL` | `postgres`: accepted for local work and CI |
 * | `SECRET_AUDIT_CHECKPOINT` | a file the chain heads are exported to on close |
 * | `SECRET_AUDIT_ON_FAILURE` | `warn` (default: serve, log, count) or `fail` (serve nothing the trail cannot record) |
 *
 * @module
 */

import { resolve } from "node:path";
import { withAudit } from "../audit/audited_manager.ts";
import type { AuditKey } from "../audit/chain.ts";
import type { AuditSink } from "../audit/types.ts";
import { ConfigError } from "../core/errors.ts";
import type { SecretManager, ServeListener } from "../core/types.ts";
import type { BackendSettings } from "./_types.ts";
import { setting } from "./_settings.ts";

/** What {@linkcode wrapWithAudit} returns: the manager to use and the cache's serve listener. */
export interface AuditWiring {
  /** The audited manager (or the manager itself when audit is off). */
  manager: SecretManager;
  /** Pass to the cache as `onServe`, so cache serves are counted. */
  onServe?: ServeListener;
}

const MODES = ["off", "jsonl", "postgres"] as const;

/** Wraps `manager` in the audit trail the settings describe. */
export async function wrapWithAudit(
  manager: SecretManager,
  settings: BackendSettings,
  options: { writer?: string | undefined } = {},
): Promise<AuditWiring> {
  const env = settings.env;
  const mode = setting(env, "SECRET_AUDIT") ?? "off";
  if (!(MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(`SECRET_AUDIT must be one of: ${MODES.join(", ")}`);
  }
  if (mode === "off") return { manager };
  const onFailure = setting(env, "SECRET_AUDIT_ON_FAILURE") ?? "warn";
  if (onFailure !== "warn" && onFailure !== "fail") {
    throw new ConfigError("SECRET_AUDIT_ON_FAILURE must be one of: warn, fail");
  }
  const service = setting(env, "SECRET_AUDIT_SERVICE");
  if (service === undefined || !/^[A-Za-z0-9_.:-]{1,128}$/.test(service)) {
    throw new ConfigError(
      "SECRET_AUDIT_SERVICE must name this service (1 to 128 letters, digits, '_', '.', ':', '-') when SECRET_AUDIT is on",
    );
  }
  const key = await auditKey(manager, env);
  const checkpointPath = setting(env, "SECRET_AUDIT_CHECKPOINT");
  const onCheckpoint = checkpointPath === undefined
    ? undefined
    : await checkpointWriter(checkpointPath);
  // A stable writer (the CLI) continues one chain across processes.
  const chained = options.writer !== undefined && key !== undefined
    ? { chainId: `${service}:${options.writer}`, resume: true }
    : {};
  let sink: AuditSink;
  if (mode === "jsonl") {
    const { jsonLinesFileSink } = await import("../audit/jsonl_file_sink.ts");
    const { mkdir } = await import("node:fs/promises");
    const path = resolve(setting(env, "SECRET_AUDIT_FILE") ?? ".keyward/audit.jsonl");
    await mkdir(resolve(path, ".."), { recursive: true, mode: 0o700 });
    sink = jsonLinesFileSink(path, {
      maxBytes: positive(env, "SECRET_AUDIT_MAX_BYTES", 10 * 1024 * 1024),
      maxFiles: positive(env, "SECRET_AUDIT_MAX_FILES", 5),
      ...(key ? { key } : {}),
      ...(onCheckpoint ? { onCheckpoint } : {}),
      ...chained,
    });
  } else {
    if (!key) {
      throw new ConfigError(
        "SECRET_AUDIT=postgres needs an audit key: set KEYWARD_AUDIT_KEY or SECRET_AUDIT_KEY_SECRET",
      );
    }
    const { PostgresAuditSink, postgresSinkFromSecret } = await import("../audit/pg_sink.ts");
    const dbSecret = setting(env, "SECRET_AUDIT_DATABASE_SECRET");
    const url = setting(env, "DATABASE_URL");
    const options = { key, ...(onCheckpoint ? { onCheckpoint } : {}), ...chained };
    if (dbSecret !== undefined) {
      sink = await postgresSinkFromSecret(manager, dbSecret, options);
    } else if (url !== undefined) {
      sink = new PostgresAuditSink({ ...options, url });
    } else {
      throw new ConfigError(
        "SECRET_AUDIT=postgres needs SECRET_AUDIT_DATABASE_SECRET (a secret holding the connection) or DATABASE_URL",
      );
    }
  }
  const audited = withAudit(manager, sink, { service, onFailure });
  return { manager: audited, onServe: audited.recordServe };
}

async function auditKey(
  manager: SecretManager,
  env: Record<string, string | undefined>,
): Promise<AuditKey | undefined> {
  const text = setting(env, "KEYWARD_AUDIT_KEY");
  const secretName = setting(env, "SECRET_AUDIT_KEY_SECRET");
  if (text !== undefined && secretName !== undefined) {
    throw new ConfigError("set either KEYWARD_AUDIT_KEY or SECRET_AUDIT_KEY_SECRET, not both");
  }
  // Loaded only when audit is on: the chain's HMAC (npm:@noble/hashes) stays out of start-up.
  const { AuditKey } = await import("../audit/chain.ts");
  try {
    if (text !== undefined) return AuditKey.fromBase64(text);
    if (secretName !== undefined) return await AuditKey.fromSecret(manager, secretName);
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new ConfigError(
        `${text !== undefined ? "KEYWARD_AUDIT_KEY" : "SECRET_AUDIT_KEY_SECRET"}: ${err.message}`,
      );
    }
    throw err;
  }
  return undefined;
}

async function checkpointWriter(path: string) {
  const { checkpointFileWriter } = await import("../audit/checkpoint_file.ts");
  return checkpointFileWriter(resolve(path));
}

function positive(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = setting(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(n) || n < 1) {
    throw new ConfigError(`${name} must be a positive whole number`);
  }
  return n;
}
