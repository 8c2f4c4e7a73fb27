/**
 * The `alpaca` rotator: the broker has no API to mint keys, so the operator
 * creates the pair in the dashboard and gives it on standard input (never
 * as an argument; read with echo off on a terminal). The secret (e.g.
 * `alpaca/api_key`) holds fields `{ key_id, secret_key }`.
 *
 * - test: `GET {baseUrl}/v2/account` with the new pair answers 200 and the
 *   same account `id` as the current pair (a key of another account is refused);
 * - disable old: the broker cannot revoke by API either: the step prints and
 *   records the instruction to revoke the old key in the dashboard.
 *
 * Options: `baseUrl` (required: `https://paper-api.alpaca.markets` or
 * `https://api.alpaca.markets`; tests use a local fake).
 *
 * @module
 */

import { ConfigError, InvalidSecretValueError } from "../../core/errors.ts";
import type { SecretValue } from "../../core/types.ts";
import type { CliIo } from "../../cli/_io.ts";
import { InvalidUtf8Error, readStdinStrict } from "../../cli/_stdin.ts";
import { type Rotator, type RotatorContext, RotatorError } from "../types.ts";

const KEY_ID = /^[A-Z0-9]{16,40}$/;
const SECRET_KEY = /^[A-Za-z0-9/+=._-]{20,100}$/;

function pairOf(name: string, value: SecretValue): { key_id: string; secret_key: string } {
  if (
    typeof value === "string" || typeof value.key_id !== "string" ||
    typeof value.secret_key !== "string"
  ) {
    throw new ConfigError(
      `secret ${
        JSON.stringify(name)
      } must hold fields key_id and secret_key for the alpaca rotator`,
      { secret: name },
    );
  }
  return { key_id: value.key_id, secret_key: value.secret_key };
}

/** Parses the pair given on standard input: two lines, or `key_id=` / `secret_key=` lines. */
export function parsePair(text: string): { key_id: string; secret_key: string } | undefined {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  let keyId: string | undefined;
  let secretKey: string | undefined;
  if (lines.every((l) => /^(key_id|secret_key)=/.test(l))) {
    for (const l of lines) {
      const [k, ...rest] = l.split("=");
      if (k === "key_id") keyId = rest.join("=");
      else secretKey = rest.join("=");
    }
  } else if (lines.length === 2) {
    [keyId, secretKey] = lines;
  }
  if (!keyId || !secretKey || !KEY_ID.test(keyId) || !SECRET_KEY.test(secretKey)) return undefined;
  return { key_id: keyId, secret_key: secretKey };
}

async function accountId(
  ctx: RotatorContext,
  pair: { key_id: string; secret_key: string },
  which: string,
): Promise<string> {
  const base = String(ctx.options.baseUrl).replace(/\/+$/, "");
  let res: Response;
  try {
    res = await fetch(`${base}/v2/account`, {
      headers: { "APCA-API-KEY-ID": pair.key_id, "APCA-API-SECRET-KEY": pair.secret_key },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    throw new RotatorError(
      "broker_unreachable",
      `the broker at ${base} did not answer (${(err as Error).name})`,
      ctx.name,
    );
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new RotatorError(
      "broker_refused",
      `the broker refused the ${which} key pair (HTTP ${res.status})`,
      ctx.name,
    );
  }
  if (res.status !== 200) {
    // Not a verdict on the key: a broker outage or rate limit; try again later.
    await res.body?.cancel();
    throw new RotatorError(
      "broker_error",
      `the broker answered HTTP ${res.status} to the ${which} key pair's account request; ` +
        "it did not judge the key, try again later",
      ctx.name,
    );
  }
  const body = await res.json().catch(() => undefined) as { id?: unknown } | undefined;
  if (typeof body?.id !== "string") {
    throw new RotatorError("broker_answer", "the broker's account answer has no id", ctx.name);
  }
  return body.id;
}

/** The `alpaca` rotator; `io` is where the operator gives the new pair. */
export function alpacaRotator(io: CliIo): Rotator {
  let given: { key_id: string; secret_key: string } | undefined;
  return {
    name: "alpaca",
    validateOptions(options) {
      const problems: [string, string][] = [];
      for (const key of Object.keys(options)) {
        if (key !== "baseUrl") problems.push([key, "unknown option"]);
      }
      if (typeof options.baseUrl !== "string" || !/^https?:\/\/[^/]+/.test(options.baseUrl)) {
        problems.push([
          "baseUrl",
          "required: https://paper-api.alpaca.markets or https://api.alpaca.markets",
        ]);
      }
      return problems;
    },
    async prepare(ctx) {
      const cur = pairOf(ctx.name, ctx.current);
      let text: string;
      if (io.stdinIsTerminal) {
        if (io.promptHidden === undefined) {
          throw new ConfigError("no terminal prompt is available; pipe the pair on standard input");
        }
        const keyId = await io.promptHidden("new key id (from the Alpaca dashboard): ");
        const secretKey = await io.promptHidden("new secret key: ");
        text = `${keyId}\n${secretKey}\n`;
      } else {
        try {
          text = await readStdinStrict(io);
        } catch (err) {
          if (err instanceof InvalidUtf8Error) {
            throw new InvalidSecretValueError({ secret: ctx.name }, err.message);
          }
          throw err;
        }
      }
      const pair = parsePair(text);
      if (pair === undefined) {
        throw new InvalidSecretValueError(
          { secret: ctx.name },
          "standard input must hold the new key id and secret key, one a line",
        );
      }
      if (pair.key_id === cur.key_id) {
        throw new InvalidSecretValueError(
          { secret: ctx.name },
          "the new key id is the current one; create a new key in the dashboard",
        );
      }
      given = pair;
    },
    generate(ctx) {
      if (given === undefined) {
        return Promise.reject(
          new ConfigError("the alpaca rotator needs the new pair on standard input", {
            secret: ctx.name,
          }),
        );
      }
      const base = typeof ctx.current === "string" ? {} : ctx.current;
      return Promise.resolve({ ...base, ...given });
    },
    setAtProvider: () => Promise.resolve(), // created in the dashboard by the operator
    async test(ctx, pending) {
      const next = pairOf(ctx.name, pending);
      const cur = pairOf(ctx.name, ctx.current);
      const [nextId, curId] = await Promise.all([
        accountId(ctx, next, "new"),
        accountId(ctx, cur, "current"),
      ]);
      if (nextId !== curId) {
        throw new RotatorError(
          "account_mismatch",
          "the new key pair belongs to another account than the current one; nothing was promoted",
          ctx.name,
        );
      }
    },
    disableOld(ctx) {
      return Promise.resolve(
        `revoke the previous key in the Alpaca dashboard now (its key id: ` +
          `deno task secrets get ${ctx.name} --stage previous --field key_id)`,
      );
    },
  };
}
