/**
 * Finding secrets where they must not be: the leak scanner (the values a
 * manager holds, and well-known credential patterns, in files and text, with
 * an allow-list of `path:line:kind` entries) and the credential patterns
 * themselves. `deno task secrets scan` runs it; CI runs it on its own logs.
 * Its own entry, not part of `mod.ts`: a service does not scan at start-up,
 * and every module `mod.ts` loads costs every user start-up time.
 *
 * @example A secret value found in a log, the finding never holding it
 * ```ts
 * import { scanText } from "@keyward/secrets/scan";
 *
 * const values = new Map([["db/password", ["pw-0123456789"]]]);
 * const { findings } = await scanText("ok\nlogin with pw-0123456789\n", "app.log", { values });
 * if (findings.length !== 1 || findings[0].line !== 2) throw new Error();
 * if (JSON.stringify(findings).includes("pw-0123456789")) throw new Error();
 * ```
 *
 * @module
 */

export {
  type CredentialKind,
  type CredentialMatch,
  type CredentialOptions,
  findCredentials,
  isPlaceholder,
  redactCredentials,
  shannonEntropy,
} from "./redact/patterns.ts";
export {
  type AllowList,
  type BackendValues,
  FINDING_KINDS,
  type FindingKind,
  isAllowed,
  normalizePath,
  parseAllowList,
  redactorFor,
  type ScanDirEntry,
  type ScanFinding,
  type ScanFs,
  type ScanOptions,
  scanPaths,
  type ScanPathsOptions,
  type ScanReport,
  scanText,
  valuesFromManager,
} from "./redact/scanner.ts";
