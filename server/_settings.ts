/**
 * The endpoint's settings, read in one place (the lead moves them into the
 * settings table): `KEYWARD_SERVER_HOST`, `KEYWARD_SERVER_PORT`,
 * `KEYWARD_SERVER_TLS_CERT_FILE`, `KEYWARD_SERVER_TLS_KEY_FILE`,
 * `KEYWARD_TOKENS_FILE`, `KEYWARD_SERVER_AUDIT_FILE`,
 * `KEYWARD_SERVER_RATE_PER_SECOND`; and, already in the table, `SECRET_BACKEND`,
 * `KEYWARD_FILE_PATH` and `KEYWARD_AUDIT_KEY`.
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";

/** The token file's path when `KEYWARD_TOKENS_FILE` is not set. */
export const DEFAULT_TOKENS_FILE = ".keyward/tokens.json";

/** The endpoint's settings. */
export interface ServerSettings {
  /** `KEYWARD_SERVER_HOST` (default `127.0.0.1`). */
  host: string;
  /** `KEYWARD_SERVER_PORT` (default 8787; 0 picks a free port). */
  port: number;
  /** `KEYWARD_SERVER_TLS_CERT_FILE` and `KEYWARD_SERVER_TLS_KEY_FILE`, both or neither. */
  tls?: { certFile: string; keyFile: string };
  /** `KEYWARD_TOKENS_FILE` (default `.keyward/tokens.json`). */
  tokensFile: string;
  /** `KEYWARD_SERVER_AUDIT_FILE` (default `.keyward/server-audit.jsonl`): one JSON line per request. */
  auditFile: string;
  /** `KEYWARD_SERVER_RATE_PER_SECOND` (default 50): requests per second per token. */
  ratePerSecond: number;
  /** `SECRET_BACKEND`, when set (else the embedded file store is served). */
  backend?: string;
  /** `KEYWARD_FILE_PATH` (default `.keyward/secrets.json`), for the start-up message. */
  filePath: string;
  /** `KEYWARD_AUDIT_KEY` (base64), when set: the audit lines are HMAC-chained. */
  auditKey?: string;
}

type Env = Record<string, string | undefined>;

function get(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === "" ? undefined : v;
}

/** The token file's path (`KEYWARD_TOKENS_FILE`). */
export function tokensFilePath(env: Env): string {
  return get(env, "KEYWARD_TOKENS_FILE") ?? DEFAULT_TOKENS_FILE;
}

/** Whether `host` is a loopback address or `localhost`. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Reads and checks the settings. A non-loopback host without both TLS files
 * is refused: the endpoint serves secrets, never in clear over a network.
 */
export function readServerSettings(env: Env): ServerSettings {
  const host = get(env, "KEYWARD_SERVER_HOST") ?? "127.0.0.1";
  const portText = get(env, "KEYWARD_SERVER_PORT") ?? "8787";
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65_535) {
    throw new ConfigError("KEYWARD_SERVER_PORT must be a port number (0 to 65535)");
  }
  const rateText = get(env, "KEYWARD_SERVER_RATE_PER_SECOND") ?? "50";
  const ratePerSecond = Number(rateText);
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
    throw new ConfigError("KEYWARD_SERVER_RATE_PER_SECOND must be a positive number");
  }
  const certFile = get(env, "KEYWARD_SERVER_TLS_CERT_FILE");
  const keyFile = get(env, "KEYWARD_SERVER_TLS_KEY_FILE");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConfigError(
      "set both KEYWARD_SERVER_TLS_CERT_FILE and KEYWARD_SERVER_TLS_KEY_FILE, or neither",
    );
  }
  if (!isLoopback(host) && certFile === undefined) {
    throw new ConfigError(
      "KEYWARD_SERVER_HOST is not a loopback address: set KEYWARD_SERVER_TLS_CERT_FILE and " +
        "KEYWARD_SERVER_TLS_KEY_FILE, or bind to 127.0.0.1",
    );
  }
  const settings: ServerSettings = {
    host,
    port,
    tokensFile: tokensFilePath(env),
    auditFile: get(env, "KEYWARD_SERVER_AUDIT_FILE") ?? ".keyward/server-audit.jsonl",
    ratePerSecond,
    filePath: get(env, "KEYWARD_FILE_PATH") ?? ".keyward/secrets.json",
  };
  const backend = get(env, "SECRET_BACKEND");
  if (backend !== undefined) settings.backend = backend;
  const auditKey = get(env, "KEYWARD_AUDIT_KEY");
  if (auditKey !== undefined) settings.auditKey = auditKey;
  if (certFile !== undefined && keyFile !== undefined) settings.tls = { certFile, keyFile };
  return settings;
}
