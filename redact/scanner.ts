/**
 * The leak scanner: finds the values of known secrets (compared through the
 * redactor's automaton, never printed) and well-known credential shapes in
 * text, files and folders. Runtime-neutral: file access goes through a small
 * port the CLI supplies.
 *
 * @module
 */

import { ConfigError, KeywardError } from "../core/errors.ts";
import { STAGES } from "../core/names.ts";
import { fingerprint } from "../core/secret.ts";
import type { SecretManager } from "../core/types.ts";
import { withRedaction } from "./manager.ts";
import { type CredentialKind, type CredentialOptions, findCredentials } from "./patterns.ts";
import { MIN_REDACT_BYTES, type RedactionForm, Redactor } from "./redactor.ts";

/**
 * What a finding is: a known secret's value, or a credential shape.
 *
 * @example Counting findings by kind
 * ```ts
 * import { type FindingKind, scanText } from "@keyward/secrets/scan";
 *
 * const values = new Map([["db/password", ["pw-0123456789"]]]);
 * const text = "pw-0123456789\nAPI_TOKEN=" + "q8Zr2vLm0pWx7TnB4kYd";
 * const { findings } = await scanText(text, "app.log", { values });
 * const kinds: FindingKind[] = findings.map((f) => f.kind);
 * if (kinds.join() !== "secret-value,assigned-secret") throw new Error(kinds.join());
 * ```
 */
export type FindingKind = "secret-value" | CredentialKind;

/**
 * Every {@linkcode FindingKind}.
 *
 * @example Checking a kind given on the command line
 * ```ts
 * import { FINDING_KINDS, type FindingKind } from "@keyward/secrets/scan";
 *
 * const kinds: readonly string[] = FINDING_KINDS;
 * const isKind = (s: string): s is FindingKind => kinds.includes(s);
 * if (!isKind("vault-token") || isKind("password")) throw new Error();
 * ```
 */
export const FINDING_KINDS: readonly FindingKind[] = [
  "secret-value",
  "aws-access-key",
  "vault-token",
  "private-key",
  "broker-key-pair",
  "connection-string",
  "assigned-secret",
];

/**
 * One finding: where and what, never the value or the matched text.
 *
 * @example A finding names the place and the secret, never the value
 * ```ts
 * import { scanText } from "@keyward/secrets/scan";
 *
 * const values = new Map([["db/password", ["pw-0123456789"]]]);
 * const { findings: [finding] } = await scanText(`dsn: ${btoa("pw-0123456789")}`, "config.yaml", { values });
 * if (finding.path !== "config.yaml" || finding.line !== 1 || finding.form !== "base64") throw new Error();
 * if (!/^[0-9a-f]{8}$/.test(finding.fingerprint)) throw new Error();
 * if (JSON.stringify(finding).includes("pw-0123456789")) throw new Error("the value leaked");
 * ```
 */
export interface ScanFinding {
  /** The file (as given, `/`-separated) or `<stdin>`. */
  path: string;
  /** 1-based line of the start of the match. */
  line: number;
  /** What was found. */
  kind: FindingKind;
  /** For `secret-value`: the secret's name. */
  name?: string;
  /** For `secret-value`: how the value was written (`plain`, `json`, `url`, `base64`, `base64url`). */
  form?: RedactionForm;
  /**
   * First 8 hex digits of the HMAC-SHA-256 of the kind and the matched text
   * under a key made for this process (see {@linkcode fingerprint}): equal
   * matches share it within one run, so a report shows where one credential
   * recurs; it differs from run to run and cannot be checked against guessed
   * values, so it is not an allow-list entry.
   */
  fingerprint: string;
}

/**
 * A parsed allow-list.
 *
 * @example An allow-list entry of each form
 * ```ts
 * import { type AllowList, parseAllowList, scanText } from "@keyward/secrets/scan";
 *
 * const text = "TEST_TOKEN=" + "q8Zr2vLm0pWx7TnB4kYd";
 * const list: AllowList = parseAllowList([
 *   "tests/fixture.env:assigned-secret # the fixture token, not a live credential",
 *   "docs/example.env:3:assigned-secret",
 *   "docs/*.md",
 * ].join("\n"));
 * if (list.kinds.length !== 1 || list.locations.size !== 1 || list.globs.length !== 1) {
 *   throw new Error();
 * }
 * const again = await scanText(text, "tests/fixture.env", { allowList: list });
 * if (again.findings.length !== 0 || again.allowed !== 1) throw new Error();
 * ```
 */
export interface AllowList {
  /** Allowed kinds of finding in the files a glob matches (`glob:kind` entries). */
  kinds: { glob: RegExp; kind: FindingKind }[];
  /** Allowed `path:line:kind` triples. */
  locations: Set<string>;
  /** Path globs whose findings are all allowed. */
  globs: RegExp[];
}

/**
 * Parses an allow-list: one entry per line, `#` starts a comment (write
 * why each entry is there). An entry is a `path:line:kind` triple, a
 * `glob:kind` pair (that kind anywhere in the files the glob matches, so the
 * entry survives edits that move lines), or a path glob (`*`, `**`, `?`; a
 * glob without `/` also matches a file's base name anywhere). A finding's
 * fingerprint is not an entry: fingerprints are keyed per run (an unkeyed one
 * would reveal a weak value), so an 8-hex-digit entry is refused with a
 * `ConfigError` that says what to write instead.
 *
 * @example
 * ```ts
 * import { ConfigError } from "@keyward/secrets";
 * import { parseAllowList } from "@keyward/secrets/scan";
 * const list = parseAllowList("tests/**:vault-token  # fake token in a fixture\ndocs/*.md:12:vault-token\ntests/**");
 * if (list.kinds.length !== 1 || list.locations.size !== 1 || list.globs.length !== 1) throw new Error();
 * try {
 *   parseAllowList("0a1b2c3d");
 *   throw new Error("a fingerprint entry was accepted");
 * } catch (err) {
 *   if (!(err instanceof ConfigError)) throw err;
 * }
 * ```
 */
export function parseAllowList(text: string): AllowList {
  const list: AllowList = { kinds: [], locations: new Set(), globs: [] };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const entry = lines[i].replace(/(?:^|\s)#.*$/, "").trim();
    if (entry === "") continue;
    if (/^[0-9a-f]{8}$/i.test(entry)) {
      throw new ConfigError(
        `allow-list line ${i + 1}: a fingerprint is no longer an entry (fingerprints are keyed ` +
          "per run); identify the finding by path:line:kind, path-glob:kind or a path glob",
      );
    }
    const triple = /^(.+):(\d+):([a-z-]+)$/.exec(entry);
    if (triple && (FINDING_KINDS as readonly string[]).includes(triple[3])) {
      list.locations.add(`${normalizePath(triple[1])}:${Number(triple[2])}:${triple[3]}`);
      continue;
    }
    const pair = /^(.+):([a-z-]+)$/.exec(entry);
    if (pair && (FINDING_KINDS as readonly string[]).includes(pair[2])) {
      list.kinds.push({ glob: globToRegExp(normalizePath(pair[1])), kind: pair[2] as FindingKind });
      continue;
    }
    list.globs.push(globToRegExp(normalizePath(entry)));
  }
  return list;
}

/**
 * Whether the allow-list covers a finding: by its `path:line:kind`, by a
 * `glob:kind` entry, or by a glob matching its path (or base name).
 *
 * @example
 * ```ts
 * import { isAllowed, parseAllowList, type ScanFinding } from "@keyward/secrets/scan";
 *
 * const list = parseAllowList("src/config.ts:3:assigned-secret\nfixtures/**\n*.env:aws-access-key");
 * const finding: ScanFinding = {
 *   path: "./src/config.ts", line: 3, kind: "assigned-secret", fingerprint: "ffffffff",
 * };
 * if (!isAllowed(finding, list)) throw new Error(); // the path:line:kind entry
 * if (!isAllowed({ ...finding, path: "fixtures/a/b.env" }, list)) throw new Error(); // the glob
 * if (!isAllowed({ ...finding, path: "a/.env", kind: "aws-access-key" }, list)) throw new Error();
 * if (isAllowed({ ...finding, line: 4 }, list) || isAllowed(finding, undefined)) throw new Error();
 * ```
 */
export function isAllowed(finding: ScanFinding, list: AllowList | undefined): boolean {
  if (!list) return false;
  const path = normalizePath(finding.path);
  if (list.locations.has(`${path}:${finding.line}:${finding.kind}`)) return true;
  const base = path.slice(path.lastIndexOf("/") + 1);
  const matches = (g: RegExp) => g.test(path) || g.test(base);
  if (list.kinds.some((k) => k.kind === finding.kind && matches(k.glob))) return true;
  return list.globs.some(matches);
}

function globToRegExp(glob: string): RegExp {
  let source = "";
  const dirOnly = glob.endsWith("/");
  const g = dirOnly ? glob.slice(0, -1) : glob;
  for (let i = 0; i < g.length; i++) {
    const ch = g[i];
    if (ch === "*" && g[i + 1] === "*") {
      if (g[i + 2] === "/") {
        source += "(?:.*/)?";
        i += 2;
      } else {
        source += ".*";
        i += 1;
      }
    } else if (ch === "*") source += "[^/]*";
    else if (ch === "?") source += "[^/]";
    else source += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  // A folder (or a glob naming one) covers everything below it.
  return new RegExp(`^${source}(?:/.*)?$`);
}

/**
 * Strips `./`, turns `\` into `/` and collapses repeated `/`, so a path
 * compares the same however it was written.
 *
 * @example
 * ```ts
 * import { normalizePath } from "@keyward/secrets/scan";
 *
 * if (normalizePath(".\\src\\app.ts") !== "src/app.ts") throw new Error();
 * if (normalizePath("././docs//guide.md") !== "docs/guide.md") throw new Error();
 * ```
 */
export function normalizePath(path: string): string {
  let p = path.replaceAll("\\", "/");
  while (p.startsWith("./")) p = p.slice(2);
  return p.replace(/\/{2,}/g, "/");
}

/**
 * Options of {@linkcode scanText} and {@linkcode scanPaths}.
 *
 * @example Known values only, with an allow-list
 * ```ts
 * import { parseAllowList, scanText } from "@keyward/secrets/scan";
 *
 * const values = new Map([["db/password", ["pw-0123456789"]]]);
 * const text = "pw-0123456789 and API_TOKEN=" + "q8Zr2vLm0pWx7TnB4kYd";
 * const shapesOff = await scanText(text, "notes.txt", { values, patterns: false });
 * if (shapesOff.findings.map((f) => f.kind).join() !== "secret-value") throw new Error();
 * const allowed = await scanText(text, "notes.txt", { values, patterns: false, allowList: parseAllowList("notes.txt") });
 * if (allowed.findings.length !== 0 || allowed.allowed !== 1) throw new Error();
 * ```
 */
export interface ScanOptions extends CredentialOptions {
  /** Known secret values: a redactor holding them, or name -> values. */
  values?: Redactor | Map<string, string[]>;
  /** Findings it covers are counted as allowed, not reported. */
  allowList?: AllowList;
  /**
   * Whether credential shapes are looked for (besides known values).
   * @default {true}
   */
  patterns?: boolean;
}

/**
 * Builds a redactor from name -> values (values under 8 bytes are left
 * out); a {@linkcode Redactor} given is returned as it is.
 *
 * @example
 * ```ts
 * import { redactorFor } from "@keyward/secrets/scan";
 *
 * const redactor = redactorFor(new Map([["db/password", ["pw-0123456789", "short"]]]));
 * if (redactor.size !== 1) throw new Error(); // "short" is under 8 bytes
 * if (redactor.redact("pw-0123456789") !== "[REDACTED:db/password]") throw new Error();
 * if (redactorFor(redactor) !== redactor) throw new Error();
 * ```
 */
export function redactorFor(values: Redactor | Map<string, string[]> | undefined): Redactor {
  if (values instanceof Redactor) return values;
  const redactor = new Redactor();
  for (const [name, list] of values ?? []) for (const v of list) redactor.register(name, v);
  return redactor;
}

/**
 * Scans one text. Returns the findings not covered by the allow-list, in
 * order of position, and how many the allow-list covered.
 *
 * @example
 * ```ts
 * import { scanText } from "@keyward/secrets/scan";
 * const values = new Map([["db/password", ["pw-0123456789"]]]);
 * const { findings } = await scanText("a\nlogin with pw-0123456789\n", "app.log", { values });
 * if (findings[0].line !== 2 || findings[0].name !== "db/password") throw new Error();
 * ```
 */
export async function scanText(
  text: string,
  path: string,
  options: ScanOptions = {},
): Promise<{ findings: ScanFinding[]; allowed: number }> {
  return await scanWith(text, path, redactorFor(options.values), options);
}

async function scanWith(
  text: string,
  path: string,
  redactor: Redactor,
  options: ScanOptions,
): Promise<{ findings: ScanFinding[]; allowed: number }> {
  const lines = lineStarts(text);
  const raw: { start: number; finding: Omit<ScanFinding, "fingerprint">; matched: string }[] = [];
  for (const m of redactor.matches(text)) {
    raw.push({
      start: m.start,
      finding: {
        path,
        line: lineOf(lines, m.start),
        kind: "secret-value",
        name: m.name,
        form: m.form,
      },
      matched: text.slice(m.start, m.end),
    });
  }
  if (options.patterns ?? true) {
    for (const c of findCredentials(text, options)) {
      raw.push({
        start: c.start,
        finding: { path, line: lineOf(lines, c.start), kind: c.kind },
        matched: c.spans.map(([s, e]) => text.slice(s, e)).join("\0"),
      });
    }
  }
  raw.sort((a, b) => a.start - b.start);
  const findings: ScanFinding[] = [];
  const seen = new Set<string>();
  let allowed = 0;
  for (const r of raw) {
    const finding: ScanFinding = {
      ...r.finding,
      fingerprint: await fingerprint(`${r.finding.kind}\0${r.matched}`),
    };
    const key = `${finding.line}\0${finding.kind}\0${finding.name ?? ""}\0${finding.fingerprint}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (isAllowed(finding, options.allowList)) allowed++;
    else findings.push(finding);
  }
  return { findings, allowed };
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

function lineOf(starts: number[], index: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/**
 * One entry of a folder, as {@linkcode ScanFs.readDir} lists it.
 *
 * @example Symbolic links inside a folder are listed but never followed
 * ```ts
 * import { type ScanDirEntry, scanPaths } from "@keyward/secrets/scan";
 *
 * const entries: ScanDirEntry[] = [
 *   { name: "app.env", isFile: true, isDirectory: false, isSymlink: false },
 *   { name: "elsewhere", isFile: false, isDirectory: false, isSymlink: true },
 * ];
 * const report = await scanPaths(["repo"], {
 *   stat: (p) => Promise.resolve({ isFile: p !== "repo", isDirectory: p === "repo" }),
 *   readDir: () => entries,
 *   readFile: () => Promise.resolve(new TextEncoder().encode("LOG_LEVEL=info\n")),
 * });
 * if (report.files !== 1 || report.findings.length !== 0) throw new Error();
 * ```
 */
export interface ScanDirEntry {
  /** The entry's name (no folder part). */
  name: string;
  /** A regular file. */
  isFile: boolean;
  /** A folder. */
  isDirectory: boolean;
  /** A symbolic link (never followed). */
  isSymlink: boolean;
}

/**
 * The file access the scanner needs; the CLI passes Deno's.
 *
 * @example An in-memory tree
 * ```ts
 * import { type ScanFs, scanPaths } from "@keyward/secrets/scan";
 *
 * const tree: Record<string, string[] | string> = {
 *   "repo": ["src", "README.md"],
 *   "repo/src": ["config.ts"],
 *   "repo/src/config.ts": "export const url = Deno.env.get(\"DATABASE_URL\");\n",
 *   "repo/README.md": "# app\n",
 * };
 * const fs: ScanFs = {
 *   stat: (p) => Promise.resolve({ isFile: typeof tree[p] === "string", isDirectory: Array.isArray(tree[p]) }),
 *   readDir: (p) =>
 *     (tree[p] as string[]).map((name) => {
 *       const isDirectory = Array.isArray(tree[`${p}/${name}`]);
 *       return { name, isFile: !isDirectory, isDirectory, isSymlink: false };
 *     }),
 *   readFile: (p) => Promise.resolve(new TextEncoder().encode(tree[p] as string)),
 * };
 * const report = await scanPaths(["repo"], fs);
 * if (report.files !== 2 || report.findings.length !== 0) throw new Error();
 * ```
 */
export interface ScanFs {
  /** Describes a path (following a link given on the command line). */
  stat(path: string): Promise<{ isFile: boolean; isDirectory: boolean }>;
  /** Lists a folder. */
  readDir(path: string): AsyncIterable<ScanDirEntry> | Iterable<ScanDirEntry>;
  /** Reads a file's bytes. */
  readFile(path: string): Promise<Uint8Array>;
}

/**
 * Options of {@linkcode scanPaths}.
 *
 * @example Skipping a folder and large files
 * ```ts
 * import { scanPaths } from "@keyward/secrets/scan";
 *
 * const token = "API_TOKEN=" + "q8Zr2vLm0pWx7TnB4kYd";
 * const tree: Record<string, string[] | string> = {
 *   "repo": ["vendor", "big.log", "app.env"],
 *   "repo/vendor": ["lib.env"],
 *   "repo/vendor/lib.env": token,
 *   "repo/big.log": token + "\n".repeat(2_000),
 *   "repo/app.env": "LOG_LEVEL=info\n",
 * };
 * const report = await scanPaths(["repo"], {
 *   stat: (p) => Promise.resolve({ isFile: typeof tree[p] === "string", isDirectory: Array.isArray(tree[p]) }),
 *   readDir: (p) =>
 *     (tree[p] as string[]).map((name) => {
 *       const isDirectory = Array.isArray(tree[`${p}/${name}`]);
 *       return { name, isFile: !isDirectory, isDirectory, isSymlink: false };
 *     }),
 *   readFile: (p) => Promise.resolve(new TextEncoder().encode(tree[p] as string)),
 * }, { skipDirs: ["vendor"], maxFileBytes: 1_024 });
 * if (report.findings.length !== 0 || report.files !== 1 || report.large !== 1) throw new Error(JSON.stringify(report));
 * ```
 */
export interface ScanPathsOptions extends ScanOptions {
  /**
   * Folder names never entered.
   * @default {[".git", "node_modules", "coverage"]}
   */
  skipDirs?: readonly string[];
  /**
   * Files larger than this are skipped, in bytes.
   * @default {10485760}
   */
  maxFileBytes?: number;
}

/**
 * The result of {@linkcode scanPaths}.
 *
 * @example Reading a report
 * ```ts
 * import { scanPaths } from "@keyward/secrets/scan";
 *
 * const files: Record<string, Uint8Array> = {
 *   "a.env": new TextEncoder().encode("API_TOKEN=" + "q8Zr2vLm0pWx7TnB4kYd"),
 *   "b.bin": new Uint8Array([0, 1, 2]),
 * };
 * const report = await scanPaths(["a.env", "b.bin"], {
 *   stat: () => Promise.resolve({ isFile: true, isDirectory: false }),
 *   readDir: () => [],
 *   readFile: (p) => Promise.resolve(files[p]),
 * });
 * const { findings, allowed, files: scanned, binary, large } = report;
 * if (findings.length !== 1 || allowed !== 0 || scanned !== 1 || binary !== 1 || large !== 0) {
 *   throw new Error(JSON.stringify(report));
 * }
 * ```
 */
export interface ScanReport {
  /** Findings not covered by the allow-list, by path then position. */
  findings: ScanFinding[];
  /** Findings the allow-list covered. */
  allowed: number;
  /** Files scanned. */
  files: number;
  /** Files skipped as binary (a NUL byte or invalid UTF-8). */
  binary: number;
  /** Files skipped for their size. */
  large: number;
}

const decoder = /* @__PURE__ */ new TextDecoder("utf-8", { fatal: true });

/**
 * Scans files and folders (recursively, in name order, skipping `.git`,
 * `node_modules`, `coverage`, symbolic links inside folders and binary
 * files).
 *
 * @example
 * ```ts
 * import { scanPaths, type ScanFs } from "@keyward/secrets/scan";
 * const files: Record<string, string> = { "app/.env": "AWS_ACCESS_KEY_ID=" + "AKIA" + "Z7Q3M4K2P6R8T5V1" };
 * const fs: ScanFs = {
 *   stat: async (p) => ({ isFile: p in files, isDirectory: p === "app" }),
 *   readDir: () => [{ name: ".env", isFile: true, isDirectory: false, isSymlink: false }],
 *   readFile: async (p) => new TextEncoder().encode(files[p]),
 * };
 * const report = await scanPaths(["app"], fs);
 * if (report.findings[0].kind !== "aws-access-key" || report.findings[0].path !== "app/.env") throw new Error();
 * ```
 */
export async function scanPaths(
  paths: readonly string[],
  fs: ScanFs,
  options: ScanPathsOptions = {},
): Promise<ScanReport> {
  const redactor = redactorFor(options.values);
  const skip = new Set(options.skipDirs ?? [".git", "node_modules", "coverage"]);
  const maxBytes = options.maxFileBytes ?? 10 * 1024 * 1024;
  const report: ScanReport = { findings: [], allowed: 0, files: 0, binary: 0, large: 0 };

  const scanFile = async (path: string): Promise<void> => {
    const bytes = await fs.readFile(path);
    if (bytes.byteLength > maxBytes) {
      report.large++;
      return;
    }
    let text: string;
    try {
      if (bytes.subarray(0, 8192).includes(0)) throw new TypeError("binary");
      text = decoder.decode(bytes);
    } catch {
      report.binary++;
      return;
    }
    report.files++;
    const { findings, allowed } = await scanWith(text, normalizePath(path), redactor, options);
    report.findings.push(...findings);
    report.allowed += allowed;
  };

  const walk = async (dir: string): Promise<void> => {
    const entries: ScanDirEntry[] = [];
    for await (const entry of fs.readDir(dir)) entries.push(entry);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.isSymlink) continue;
      const path = dir === "." ? entry.name : `${dir.replace(/\/+$/, "")}/${entry.name}`;
      if (entry.isDirectory) {
        if (!skip.has(entry.name)) await walk(path);
      } else if (entry.isFile) {
        await scanFile(path);
      }
    }
  };

  for (const path of paths) {
    const info = await fs.stat(path);
    if (info.isDirectory) await walk(path);
    else if (info.isFile) await scanFile(path);
  }
  return report;
}

/**
 * The known values of a backend, for a scan.
 *
 * @example
 * ```ts
 * import { MemorySecretManager } from "@keyward/secrets";
 * import { scanText, valuesFromManager } from "@keyward/secrets/scan";
 *
 * const manager = new MemorySecretManager({ initial: { "db/password": "pw-0123456789", "app/pin": "1234" } });
 * const { redactor, secrets, short } = await valuesFromManager(manager);
 * if (secrets !== 2 || short.join() !== "app/pin") throw new Error();
 * const { findings } = await scanText("leaked pw-0123456789", "app.log", { values: redactor });
 * if (findings[0]?.name !== "db/password") throw new Error();
 * ```
 */
export interface BackendValues {
  /** A redactor holding every value (each stage, each field). */
  redactor: Redactor;
  /** The secrets read. */
  secrets: number;
  /** Names of secrets with a value shorter than 8 bytes (not compared). */
  short: string[];
}

/**
 * Reads every secret of a manager (each stage that exists, each field) into
 * a {@linkcode Redactor}, for {@linkcode scanText} and {@linkcode scanPaths}.
 *
 * @example
 * ```ts
 * import { MemorySecretManager } from "@keyward/secrets";
 * import { valuesFromManager } from "@keyward/secrets/scan";
 * const m = new MemorySecretManager({ initial: { "db/login": { user: "app", password: "pw-0123456789" } } });
 * const { redactor, short } = await valuesFromManager(m);
 * if (redactor.redact("pw-0123456789") !== "[REDACTED:db/login]" || short.length !== 0) throw new Error();
 * ```
 */
export async function valuesFromManager(
  manager: SecretManager,
  options: { signal?: AbortSignal } = {},
): Promise<BackendValues> {
  const redactor = new Redactor();
  const reader = withRedaction(manager, redactor);
  const names = await manager.listSecrets("", options);
  const short = new Set<string>();
  for (const name of names) {
    for (const stage of STAGES) {
      let value: string;
      try {
        value = await reader.getSecret(name, { stage, ...options });
      } catch (err) {
        if (err instanceof KeywardError && err.code === "not_found") continue;
        throw err;
      }
      if (new TextEncoder().encode(value).byteLength < MIN_REDACT_BYTES) short.add(name);
    }
  }
  return { redactor, secrets: names.length, short: [...short] };
}
