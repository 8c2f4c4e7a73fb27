/**
 * The endpoint's token file (`KEYWARD_TOKENS_FILE`, default
 * `.keyward/tokens.json`): one entry per bearer token, holding only the
 * token's SHA-256 hash, the service it belongs to, the name prefixes and
 * stages it may read, its roles, when it was made and when it expires.
 * Not to be confused with the rotation policy, which is another file.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { ConfigError } from "../core/errors.ts";
import { nameProblem } from "../core/names.ts";
import type { Stage } from "../core/types.ts";

/**
 * What a token may do: `read` secrets within its prefixes, see `metrics`
 * with secret names, `operator` (the console), `events` and `audit-write`
 * (the fleet-scale work).
 *
 * @example
 * ```ts
 * import type { TokenRole } from "@keyward/secrets/server";
 * const roles: TokenRole[] = ["read", "metrics"];
 * if (!roles.includes("read")) throw new Error();
 * ```
 */
export type TokenRole = "read" | "metrics" | "operator" | "events" | "audit-write";

/**
 * Every role, in the order they are shown.
 *
 * @example
 * ```ts
 * import { TOKEN_ROLES } from "@keyward/secrets/server";
 * if (TOKEN_ROLES.join() !== "read,metrics,operator,events,audit-write") throw new Error();
 * ```
 */
export const TOKEN_ROLES: readonly TokenRole[] = [
  "read",
  "metrics",
  "operator",
  "events",
  "audit-write",
];

/**
 * One entry of the token file. Never holds the token itself.
 *
 * @example An entry for a service reading `database/...` and the previous stage
 * ```ts
 * import { generateToken, hashToken, type TokenEntry } from "@keyward/secrets/server";
 *
 * const token = generateToken(); // given to the service once
 * const entry: TokenEntry = {
 *   id: "tok_0123456789ab",
 *   sha256: await hashToken(token),
 *   service: "signal",
 *   prefixes: ["database/"],
 *   stages: ["current", "previous"],
 *   roles: ["read"],
 *   created: new Date().toISOString(),
 *   expires: new Date(Date.now() + 90 * 86_400_000).toISOString(),
 * };
 * if (JSON.stringify(entry).includes(token)) throw new Error("never the token");
 * ```
 */
export interface TokenEntry {
  /** A short public id (`tok_` and 12 hex digits), used by `token revoke` and in logs. */
  id: string;
  /** The token's SHA-256, lower-case hex. */
  sha256: string;
  /** The service the token belongs to; audit rows carry it. */
  service: string;
  /** Name prefixes the token may read (`database/`), an exact name, or `*` for every name. */
  prefixes: string[];
  /** Stages the token may read; `current` is always among them. */
  stages: Stage[];
  /** The token's roles. */
  roles: TokenRole[];
  /** When the token was made (ISO 8601). */
  created: string;
  /** When the token stops working (ISO 8601), if ever. */
  expires?: string;
  /** Requests per second this token may make (its own rate limit), if not the server's default. */
  ratePerSecond?: number;
}

/** The token file's content. */
export interface TokenFile {
  /** The format version. */
  version: 1;
  /** The entries. */
  tokens: TokenEntry[];
}

const ID = /^tok_[0-9a-f]{12}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const SERVICE = /^[A-Za-z0-9_.:-]{1,128}$/;
const STAGE_SET = new Set(["current", "previous", "pending"]);

/**
 * A new random bearer token: `kw_` and 43 characters of base64url (256 bits).
 *
 * @example
 * ```ts
 * import { generateToken } from "@keyward/secrets/server";
 * if (!/^kw_[A-Za-z0-9_-]{43}$/.test(generateToken())) throw new Error();
 * ```
 */
export function generateToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `kw_${base64url(bytes)}`;
}

/** A new random token id. */
export function generateTokenId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return `tok_${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * The SHA-256 of a token, lower-case hex: what the token file stores.
 *
 * @example
 * ```ts
 * import { hashToken } from "@keyward/secrets/server";
 * const hash = await hashToken("kw_example");
 * if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error();
 * ```
 */
export function hashToken(token: string): Promise<string> {
  return Promise.resolve(hashTokenSync(token));
}

/** The SHA-256 of a token, lower-case hex, computed synchronously (the hot path). */
export function hashTokenSync(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Compares two strings in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < n; i++) {
    diff |= (a.charCodeAt(i) | 0) ^ (b.charCodeAt(i) | 0);
  }
  return diff === 0;
}

/**
 * Parses and checks a token file's text; a problem is a `ConfigError` that
 * names the entry (by position and id) and the rule, never a hash.
 */
export function parseTokenFile(text: string): TokenFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ConfigError("the token file is not valid JSON");
  }
  const d = doc as { version?: unknown; tokens?: unknown };
  if (typeof d !== "object" || d === null || d.version !== 1 || !Array.isArray(d.tokens)) {
    throw new ConfigError('the token file must be {"version": 1, "tokens": [...]}');
  }
  const ids = new Set<string>();
  const tokens = d.tokens.map((raw, i) => {
    const entry = checkEntry(raw, i);
    if (ids.has(entry.id)) throw new ConfigError(`token file entry ${i}: duplicate id ${entry.id}`);
    ids.add(entry.id);
    return entry;
  });
  return { version: 1, tokens };
}

function checkEntry(raw: unknown, i: number): TokenEntry {
  const bad = (rule: string) => new ConfigError(`token file entry ${i}: ${rule}`);
  if (typeof raw !== "object" || raw === null) throw bad("not an object");
  const e = raw as Record<string, unknown>;
  if (typeof e.id !== "string" || !ID.test(e.id)) throw bad("id must be tok_ and 12 hex digits");
  if (typeof e.sha256 !== "string" || !HEX64.test(e.sha256)) {
    throw bad("sha256 must be 64 lower-case hex digits");
  }
  if (typeof e.service !== "string" || !SERVICE.test(e.service)) {
    throw bad("service must be 1 to 128 letters, digits, '_', '.', ':', '-'");
  }
  const strings = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === "string");
  if (!strings(e.prefixes)) throw bad("prefixes must be a list of strings");
  const prefixes = e.prefixes as string[];
  for (const p of prefixes) {
    if (p !== "*" && nameProblem(p.endsWith("/") ? p.slice(0, -1) : p) !== undefined) {
      throw bad("a prefix is a name, a name followed by '/', or '*'");
    }
  }
  if (!strings(e.stages) || !(e.stages as string[]).every((s) => STAGE_SET.has(s))) {
    throw bad("stages must be a list of current, previous, pending");
  }
  const stages = [...new Set<Stage>(["current", ...(e.stages as Stage[])])];
  if (
    !strings(e.roles) || !(e.roles as string[]).every((r) => TOKEN_ROLES.includes(r as TokenRole))
  ) {
    throw bad(`roles must be a list of ${TOKEN_ROLES.join(", ")}`);
  }
  if (typeof e.created !== "string" || Number.isNaN(Date.parse(e.created))) {
    throw bad("created must be an ISO 8601 time");
  }
  if (
    e.expires !== undefined &&
    (typeof e.expires !== "string" || Number.isNaN(Date.parse(e.expires)))
  ) {
    throw bad("expires must be an ISO 8601 time");
  }
  if (
    e.ratePerSecond !== undefined &&
    (typeof e.ratePerSecond !== "number" || !(e.ratePerSecond > 0))
  ) {
    throw bad("ratePerSecond must be a positive number");
  }
  const entry: TokenEntry = {
    id: e.id,
    sha256: e.sha256,
    service: e.service,
    prefixes,
    stages,
    roles: [...new Set(e.roles as TokenRole[])],
    created: e.created,
  };
  if (e.expires !== undefined) entry.expires = e.expires as string;
  if (e.ratePerSecond !== undefined) entry.ratePerSecond = e.ratePerSecond as number;
  return entry;
}

/** Whether `name` is within one of the token's prefixes. */
export function allowsName(entry: TokenEntry, name: string): boolean {
  // A loop, not `some` with a callback: this runs on every secret request.
  for (const p of entry.prefixes) {
    if (p === "*" || p === name || (p.endsWith("/") && name.startsWith(p))) return true;
  }
  return false;
}

/** Whether a `list` under `prefix` may be answered (names are then filtered by {@linkcode allowsName}). */
export function allowsStage(entry: TokenEntry, stage: Stage): boolean {
  return entry.stages.includes(stage);
}

/**
 * Where the token entries come from; `entries()` is called on every
 * authenticated request, so it may answer synchronously.
 *
 * @example A source of your own (entries kept elsewhere)
 * ```ts
 * import type { TokenEntry, TokenSource } from "@keyward/secrets/server";
 * const mine: TokenEntry[] = [];
 * const source: TokenSource = { entries: () => mine };
 * if ((await source.entries()).length !== 0) throw new Error();
 * ```
 */
export interface TokenSource {
  /** The entries in force now; throws `ConfigError` when the source is unusable. */
  entries(): readonly TokenEntry[] | Promise<readonly TokenEntry[]>;
}

/**
 * Finds the entry whose hash matches `token`, comparing every entry in
 * constant time; expired entries never match.
 */
export function findToken(
  entries: readonly TokenEntry[],
  token: string,
  nowMs: number,
): TokenEntry | undefined {
  const hash = hashTokenSync(token);
  let found: TokenEntry | undefined;
  for (const entry of entries) {
    if (constantTimeEqual(entry.sha256, hash) && found === undefined) found = entry;
  }
  if (found?.expires !== undefined && Date.parse(found.expires) <= nowMs) return undefined;
  return found;
}

/**
 * A fixed list of entries (tests, embedding).
 *
 * @example
 * ```ts
 * import { staticTokens } from "@keyward/secrets/server";
 * const source = staticTokens([]);
 * if ((await source.entries()).length !== 0) throw new Error();
 * ```
 */
export function staticTokens(entries: readonly TokenEntry[]): TokenSource {
  const frozen = [...entries];
  return { entries: () => frozen };
}

/**
 * Options of {@linkcode tokenFileSource}.
 *
 * @example Checking the file at most every 100 ms
 * ```ts
 * import { tokenFileSource, type TokenFileSourceOptions } from "@keyward/secrets/server";
 * const options: TokenFileSourceOptions = { checkEveryMs: 100, now: Date.now };
 * const source = tokenFileSource("/nonexistent/tokens.json", options);
 * const failed = await Promise.resolve().then(() => source.entries()).then(() => false, () => true);
 * if (!failed) throw new Error("a missing token file fails closed");
 * ```
 */
export interface TokenFileSourceOptions {
  /**
   * How often the file's size and modification time are checked, in
   * milliseconds; a change re-reads it.
   * @default {250}
   */
  checkEveryMs?: number;
  /**
   * The clock, in epoch milliseconds.
   * @default {Date.now}
   */
  now?: () => number;
}

/**
 * The token file at `path`, re-read when it changes (checked at most every
 * `checkEveryMs`, so a revocation takes effect within a second). A file that
 * is missing or invalid makes every token fail (fail closed) until it is
 * fixed; `entries()` then throws the `ConfigError`.
 *
 * @example A token file written by `token create`, then revoked
 * ```ts
 * import { hashToken, tokenFileSource } from "@keyward/secrets/server";
 *
 * const dir = await Deno.makeTempDir();
 * const path = `${dir}/tokens.json`;
 * const entry = {
 *   id: "tok_0123456789ab", sha256: await hashToken("kw_example"), service: "signal",
 *   prefixes: ["database/"], stages: ["current"], roles: ["read"],
 *   created: "2026-12-07T00:00:00Z",
 * };
 * await Deno.writeTextFile(path, JSON.stringify({ version: 1, tokens: [entry] }));
 * const source = tokenFileSource(path, { checkEveryMs: 0 });
 * if ((await source.entries()).length !== 1) throw new Error();
 * await Deno.writeTextFile(path, JSON.stringify({ version: 1, tokens: [] }));
 * if ((await source.entries()).length !== 0) throw new Error("the revocation is seen");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function tokenFileSource(path: string, options: TokenFileSourceOptions = {}): TokenSource {
  const every = options.checkEveryMs ?? 250;
  const now = options.now ?? Date.now;
  let checkedAt = -Infinity;
  let stamp = "";
  let state: { entries: readonly TokenEntry[] } | { error: ConfigError } = {
    error: new ConfigError("the token file has not been read yet"),
  };
  let pending: Promise<void> | undefined;
  const refresh = async () => {
    try {
      const s = await stat(path);
      const next = `${s.mtimeMs}:${s.size}:${s.ino ?? ""}`;
      if (next === stamp) return;
      const text = await readFile(path, "utf8");
      state = { entries: parseTokenFile(text).tokens };
      stamp = next;
    } catch (err) {
      stamp = "";
      state = {
        error: err instanceof ConfigError
          ? err
          : new ConfigError("the token file cannot be read", { cause: err }),
      };
    }
  };
  const settled = async (): Promise<readonly TokenEntry[]> => {
    await pending;
    if ("error" in state) throw state.error;
    return state.entries;
  };
  return {
    entries() {
      const t = now();
      if (t - checkedAt >= every) {
        checkedAt = t;
        pending ??= refresh().finally(() => (pending = undefined));
      }
      // A request waits for a check in progress, so a revocation applies to
      // every request after the file changed and was checked.
      if (pending) return settled();
      if ("error" in state) throw state.error;
      return state.entries;
    },
  };
}

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
