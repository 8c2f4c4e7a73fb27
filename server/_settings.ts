/**
 * The endpoint's settings, parsed from the one settings table
 * (`settings/table.ts`, feature `server`): `KEYWARD_SERVER_HOST`,
 * `KEYWARD_SERVER_PORT`, `KEYWARD_SERVER_TLS_CERT_FILE`,
 * `KEYWARD_SERVER_TLS_KEY_FILE`, `KEYWARD_TOKENS_FILE`,
 * `KEYWARD_SERVER_AUDIT_FILE`, `KEYWARD_SERVER_RATE_PER_SECOND`, `KEYWARD_CONSOLE`; and
 * `SECRET_BACKEND`, `KEYWARD_FILE_PATH` and `KEYWARD_AUDIT_KEY`.
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";
import { parseSettings } from "../settings/parse.ts";

export { DEFAULT_TOKENS_FILE } from "../settings/table.ts";

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
  /** `KEYWARD_CONSOLE=on`: serve the operator console at `/console`. */
  console: boolean;
}

type Env = Record<string, string | undefined>;

/** The token file's path (`KEYWARD_TOKENS_FILE`). */
export function tokensFilePath(env: Env): string {
  return parseSettings(env).KEYWARD_TOKENS_FILE;
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
  const s = parseSettings(env);
  const host = s.KEYWARD_SERVER_HOST;
  const certFile = s.KEYWARD_SERVER_TLS_CERT_FILE;
  const keyFile = s.KEYWARD_SERVER_TLS_KEY_FILE;
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
    port: s.KEYWARD_SERVER_PORT,
    tokensFile: s.KEYWARD_TOKENS_FILE,
    auditFile: s.KEYWARD_SERVER_AUDIT_FILE,
    ratePerSecond: s.KEYWARD_SERVER_RATE_PER_SECOND,
    filePath: s.KEYWARD_FILE_PATH,
    console: s.KEYWARD_CONSOLE === "on",
  };
  const backend = s.SECRET_BACKEND;
  if (backend !== undefined) settings.backend = backend;
  const auditKey = s.KEYWARD_AUDIT_KEY;
  if (auditKey !== undefined) settings.auditKey = auditKey;
  if (certFile !== undefined && keyFile !== undefined) settings.tls = { certFile, keyFile };
  return settings;
}
