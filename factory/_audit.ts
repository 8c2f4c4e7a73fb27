/**
 * The factory's audit wiring: `SECRET_AUDIT` chooses the sink, and the
 * audited manager sits inside the cache so backend calls are one event
 * each and cache serves are counted per minute.
 *
 * Its settings (names, types, defaults) are rows of the one settings table,
 * `settings/table.ts` (what each means: `settings/meanings.ts`); the step
 * reads them parsed (`settingsOf`).
 *
 * @module
 */

import type { AuditedSecretManager } from "../audit/audited_manager.ts";
import type { AuditKey } from "../audit/chain.ts";
import type { AuditSink } from "../audit/types.ts";
import { ConfigError } from "../core/errors.ts";
import type { SecretManager, ServeListener } from "../core/types.ts";
import type { BackendSettings } from "./_types.ts";
import type { Settings } from "../settings/parse.ts";
import { settingsOf } from "./_settings.ts";

/** What {@linkcode wrapWithAudit} returns: the manager to use and the cache's serve listener. */
export interface AuditWiring {
  /** The audited manager (or the manager itself when audit is off). */
  manager: SecretManager;
  /** Pass to the cache as `onServe`, so cache serves are counted. */
  onServe?: ServeListener;
  /** The audited manager, when audit is on (the fallback records its serves there). */
  audited?: AuditedSecretManager;
}

/** Wraps `manager` in the audit trail the settings describe. */
export async function wrapWithAudit(
  manager: SecretManager,
  settings: BackendSettings,
  options: { writer?: string | undefined } = {},
): Promise<AuditWiring> {
  const s = settingsOf(settings);
  const mode = s.SECRET_AUDIT;
  if (mode === "off") return { manager };
  // Loaded here, not at import: a service with the audit off never loads it (issue 18).
  const { withAudit } = await import("../audit/audited_manager.ts");
  const onFailure = s.SECRET_AUDIT_ON_FAILURE;
  if (mode === "endpoint") {
    // The endpoint seals and stores the events under the token's service: no key, no database here.
    const { endpointOf } = await import("./_rotation.ts");
    const { url, token } = endpointOf(s, "SECRET_AUDIT=endpoint");
    const { EndpointAuditSink } = await import("../audit/endpoint_sink.ts");
    const sink = new EndpointAuditSink({ url, token });
    const audited = withAudit(manager, sink, {
      service: s.SECRET_AUDIT_SERVICE ?? "endpoint-token",
      onFailure,
    });
    return { manager: audited, onServe: audited.recordServe, audited };
  }
  const service = s.SECRET_AUDIT_SERVICE;
  if (service === undefined || !/^[A-Za-z0-9_.:-]{1,128}$/.test(service)) {
    throw new ConfigError(
      "SECRET_AUDIT_SERVICE must name this service (1 to 128 letters, digits, '_', '.', ':', '-') when SECRET_AUDIT is on",
    );
  }
  const key = await auditKey(manager, s);
  const checkpointPath = s.SECRET_AUDIT_CHECKPOINT;
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
    const { resolve } = await import("node:path"); // not at import: start-up cost (issue 18)
    const path = resolve(s.SECRET_AUDIT_FILE);
    const maxBytes = s.SECRET_AUDIT_MAX_BYTES;
    const maxFiles = s.SECRET_AUDIT_MAX_FILES;
    await mkdir(resolve(path, ".."), { recursive: true, mode: 0o700 });
    sink = jsonLinesFileSink(path, {
      ...(maxBytes !== undefined ? { maxBytes } : {}),
      ...(maxFiles !== undefined ? { maxFiles } : {}),
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
    const dbSecret = s.SECRET_AUDIT_DATABASE_SECRET;
    const url = s.DATABASE_URL;
    const options = { key, ...(onCheckpoint ? { onCheckpoint } : {}), ...chained };
    if (dbSecret !== undefined) {
      sink = await postgresSinkFromSecret(manager, dbSecret, options);
    } else if (url !== undefined) {
      const { assertConnectionUrl } = await import("../pg/connect.ts");
      assertConnectionUrl(url, "DATABASE_URL");
      sink = new PostgresAuditSink({ ...options, url });
    } else {
      throw new ConfigError(
        "SECRET_AUDIT=postgres needs SECRET_AUDIT_DATABASE_SECRET (a secret holding the connection) or DATABASE_URL",
      );
    }
  }
  const audited = withAudit(manager, sink, { service, onFailure });
  return { manager: audited, onServe: audited.recordServe, audited };
}

async function auditKey(
  manager: SecretManager,
  s: Settings,
): Promise<AuditKey | undefined> {
  const text = s.KEYWARD_AUDIT_KEY;
  const secretName = s.SECRET_AUDIT_KEY_SECRET;
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
  const { resolve } = await import("node:path");
  return checkpointFileWriter(resolve(path));
}
