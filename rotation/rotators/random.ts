/**
 * The `random` rotator: webhook secrets and API tokens. The new value comes
 * from WebCrypto; the provider is keyward itself (set at provider and
 * disable old are no-ops): consumers accept `current` and `previous` during
 * the grace period (see `verifySignature` in `rotation/hmac.ts`).
 *
 * Options: `length` (characters, 16 to 4096, default 48), `alphabet`
 * (`base64url` (default), `hex`, `alphanumeric`, or a string of at least 16
 * distinct characters), `field` (rotate one field of a field secret).
 *
 * @module
 */

import type { SecretValue } from "../../core/types.ts";
import type { Rotator, RotatorContext } from "../types.ts";

const ALPHABETS: Record<string, string> = {
  base64url: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
  hex: "0123456789abcdef",
  alphanumeric: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
};

function alphabetOf(options: Record<string, unknown>): string {
  const a = options.alphabet;
  if (a === undefined) return ALPHABETS.base64url;
  if (typeof a === "string" && Object.hasOwn(ALPHABETS, a)) return ALPHABETS[a];
  return String(a);
}

/**
 * `length` characters drawn uniformly from `alphabet` (rejection sampling
 * over WebCrypto bytes, so no character is favoured).
 *
 * @example
 * ```ts
 * import { randomString } from "./random.ts";
 * const token = randomString(40, "0123456789abcdef");
 * if (!/^[0-9a-f]{40}$/.test(token)) throw new Error();
 * ```
 */
export function randomString(length: number, alphabet: string): string {
  const chars = Array.from(alphabet);
  const n = chars.length;
  const limit = 256 - (256 % n);
  let out = "";
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(Math.max(16, length * 2)));
    for (const b of bytes) {
      if (b >= limit) continue;
      out += chars[b % n];
      if (out.length === length) break;
    }
  }
  return out;
}

/** The `random` rotator. */
export const randomRotator: Rotator = {
  name: "random",
  validateOptions(options) {
    const problems: [string, string][] = [];
    for (const key of Object.keys(options)) {
      if (!["length", "alphabet", "field"].includes(key)) problems.push([key, "unknown option"]);
    }
    const len = options.length;
    if (
      len !== undefined &&
      (typeof len !== "number" || !Number.isInteger(len) || len < 16 || len > 4096)
    ) {
      problems.push(["length", "must be an integer from 16 to 4096"]);
    }
    const a = options.alphabet;
    if (a !== undefined) {
      if (typeof a !== "string") problems.push(["alphabet", "must be a string"]);
      else if (!Object.hasOwn(ALPHABETS, a)) {
        const distinct = new Set(Array.from(a));
        if (distinct.size < 16 || distinct.size !== Array.from(a).length || distinct.size > 256) {
          problems.push([
            "alphabet",
            "must be base64url, hex, alphanumeric, or 16 to 256 distinct characters",
          ]);
        }
      }
    }
    if (options.field !== undefined && typeof options.field !== "string") {
      problems.push(["field", "must be a string"]);
    }
    return problems;
  },
  generate(ctx: RotatorContext): Promise<SecretValue> {
    const length = typeof ctx.options.length === "number" ? ctx.options.length : 48;
    const value = randomString(length, alphabetOf(ctx.options));
    const field = ctx.options.field;
    if (typeof field === "string") {
      const base = typeof ctx.current === "string" ? {} : ctx.current;
      return Promise.resolve({ ...base, [field]: value });
    }
    return Promise.resolve(value);
  },
  setAtProvider: () => Promise.resolve(),
  test: (_ctx, pending) => {
    if (typeof pending === "string" ? pending.length === 0 : Object.keys(pending).length === 0) {
      return Promise.reject(new Error("the new value is empty"));
    }
    return Promise.resolve();
  },
  disableOld: () => Promise.resolve(undefined),
};
