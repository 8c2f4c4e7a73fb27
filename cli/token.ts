/**
 * `secrets token create|list|revoke`: the endpoint's token file
 * (`KEYWARD_TOKENS_FILE`, default `.keyward/tokens.json`). `create` prints
 * the new token once and stores only its SHA-256; `list` never shows a
 * token; `revoke <id>` removes the entry (the endpoint notices within a
 * second).
 *
 * @module
 */

import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Stage } from "../core/types.ts";
import { tokensFilePath } from "../server/_settings.ts";
import {
  generateToken,
  generateTokenId,
  hashToken,
  parseTokenFile,
  TOKEN_ROLES,
  type TokenEntry,
  type TokenFile,
  type TokenRole,
} from "../server/tokens.ts";
import { type CommandDef, defineCommand, stringOption, toJson, UsageError } from "./_command.ts";
import { parseDuration } from "./audit.ts";

async function load(path: string): Promise<TokenFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return { version: 1, tokens: [] };
    throw err;
  }
  return parseTokenFile(text);
}

async function save(path: string, file: TokenFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${crypto.randomUUID()}.tmp`;
  await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}

const list = (v: unknown): string[] => Array.isArray(v) ? v as string[] : [];

const create = defineCommand<Record<string, unknown>>({
  name: "create",
  summary: "make a token: printed once, its SHA-256 appended to the token file",
  description: `Prints a new random token ONCE and appends its SHA-256, service, prefixes,
stages and roles to the token file (KEYWARD_TOKENS_FILE, default .keyward/tokens.json).
'current' is always an allowed stage; --role defaults to read.`,
  options: {
    service: { type: "string", arg: "NAME", required: true, help: "the service the token is for" },
    prefix: {
      type: "string",
      multiple: true,
      arg: "P",
      help: "a name prefix the token may read (repeat for more; '*' allows every name)",
    },
    stage: {
      type: "string",
      multiple: true,
      arg: "S",
      help: "another stage it may read: previous or pending (repeatable)",
    },
    role: {
      type: "string",
      multiple: true,
      arg: "R",
      help: "read, metrics, operator, events or audit-write (repeatable; default read)",
    },
    expires: { type: "string", arg: "D", help: "expires after this duration (90d, 12h)" },
    "rate-per-second": { type: "string", arg: "N", help: "its own rate limit (requests/s)" },
  },
  jsonHelp: "print {token, entry, tokensFile}",
  positionals: { min: 0, max: 0 },
  async run({ values, json, io }) {
    const service = stringOption(values, "service");
    if (service === undefined) throw new UsageError("token create: --service is required");
    const prefixes = list(values.prefix);
    if (prefixes.length === 0) throw new UsageError("token create: at least one --prefix");
    const stages = list(values.stage);
    for (const s of stages) {
      if (!["current", "previous", "pending"].includes(s)) {
        throw new UsageError("token create: --stage is current, previous or pending");
      }
    }
    const roles = list(values.role);
    for (const r of roles) {
      if (!TOKEN_ROLES.includes(r as TokenRole)) {
        throw new UsageError(`token create: --role is one of ${TOKEN_ROLES.join(", ")}`);
      }
    }
    const now = Date.now();
    const token = generateToken();
    const entry: TokenEntry = {
      id: generateTokenId(),
      sha256: await hashToken(token),
      service,
      prefixes,
      stages: [...new Set(["current", ...stages])] as Stage[],
      roles: roles.length === 0 ? ["read"] : [...new Set(roles)] as TokenRole[],
      created: new Date(now).toISOString(),
    };
    const expires = stringOption(values, "expires");
    if (expires !== undefined) {
      let ms: number;
      try {
        ms = parseDuration(expires);
      } catch {
        throw new UsageError("token create: --expires takes a duration such as 90d or 12h");
      }
      entry.expires = new Date(now + ms).toISOString();
    }
    const rate = stringOption(values, "rate-per-second");
    if (rate !== undefined) {
      const n = Number(rate);
      if (!(n > 0)) throw new UsageError("token create: --rate-per-second takes a positive number");
      entry.ratePerSecond = n;
    }
    const path = tokensFilePath(io.env);
    const file = await load(path);
    // Checked as the endpoint will read it.
    const next = parseTokenFile(JSON.stringify({ version: 1, tokens: [...file.tokens, entry] }));
    await save(path, next);
    const { sha256: _hash, ...shown } = entry;
    if (json) {
      io.stdout(toJson({ token, entry: shown, tokensFile: path }));
    } else {
      io.stdout(`${token}\n`);
      io.stderr(
        `token ${entry.id} for service ${service} added to ${path}; ` +
          `this is the only time it is shown.\n`,
      );
    }
    return 0;
  },
});

const listTokens = defineCommand<Record<string, unknown>>({
  name: "list",
  summary: "list the token file's entries (never a token)",
  positionals: { min: 0, max: 0 },
  async run({ json, io }) {
    const file = await load(tokensFilePath(io.env));
    const shown = file.tokens.map(({ sha256: _hash, ...rest }) => rest);
    if (json) {
      io.stdout(toJson({ tokens: shown }));
      return 0;
    }
    for (const t of shown) {
      io.stdout(
        `${t.id}  ${t.service}  prefixes=${t.prefixes.join(",")}  stages=${t.stages.join(",")}` +
          `  roles=${t.roles.join(",")}  created=${t.created}` +
          `${t.expires ? `  expires=${t.expires}` : ""}\n`,
      );
    }
    if (shown.length === 0) io.stdout("no tokens\n");
    return 0;
  },
});

const revoke = defineCommand<Record<string, unknown>>({
  name: "revoke",
  summary: "remove a token's entry; the endpoint refuses it within a second",
  args: "<id>",
  positionals: { min: 1, max: 1 },
  async run({ positionals, json, io }) {
    const id = positionals[0];
    const path = tokensFilePath(io.env);
    const file = await load(path);
    const kept = file.tokens.filter((t) => t.id !== id);
    if (kept.length === file.tokens.length) {
      throw new UsageError("token revoke: no token with that id (see `token list`)");
    }
    await save(path, { version: 1, tokens: kept });
    io.stdout(json ? toJson({ revoked: id }) : `revoked ${id}\n`);
    return 0;
  },
});

/** `token create|list|revoke`. */
export const tokenCommand: CommandDef = defineCommand({
  name: "token",
  summary: "create, list and revoke the endpoint's tokens (the token file)",
  description: "The token file: KEYWARD_TOKENS_FILE (default .keyward/tokens.json).",
  subcommands: [create, listTokens, revoke],
});
