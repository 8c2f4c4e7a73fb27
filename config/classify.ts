/**
 * Tells a secret from a setting by a variable's name and value: the rule
 * `loadConfig` uses to refuse a secret among a service's settings, and the
 * migration from `.env` uses to decide what goes to the backend.
 *
 * @module
 */

import { findCredentials, isPlaceholder, shannonEntropy } from "../redact/patterns.ts";

/**
 * Name endings that mark a variable as a secret whatever its value.
 *
 * @example
 * ```ts
 * import { SECRET_NAME_SUFFIXES } from "@keyward/secrets/config";
 * if (!SECRET_NAME_SUFFIXES.includes("_PASSWORD")) throw new Error();
 * ```
 */
export const SECRET_NAME_SUFFIXES: readonly string[] = [
  "_PASSWORD",
  "_PASS",
  "_PWD",
  "_SECRET",
  "_SECRET_KEY",
  "_SECRET_ID",
  "_ACCESS_KEY",
  "_TOKEN",
  "_API_KEY",
  "_KEY_ID",
  "_DSN",
];

/**
 * The bootstrap credentials: the secrets that reach the secret manager
 * itself, so they come from the environment (or a mounted file) by design.
 *
 * @example
 * ```ts
 * import { BOOTSTRAP_CREDENTIALS } from "@keyward/secrets/config";
 * if (!BOOTSTRAP_CREDENTIALS.includes("VAULT_TOKEN")) throw new Error();
 * ```
 */
export const BOOTSTRAP_CREDENTIALS: readonly string[] = [
  "VAULT_TOKEN",
  "VAULT_SECRET_ID",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "KEYWARD_FILE_KEY",
  "KEYWARD_SNAPSHOT_KEY",
  "KEYWARD_AUDIT_KEY",
  "KEYWARD_ENDPOINT_TOKEN",
  "KEYWARD_CONSOLE_SESSION_KEY",
];

/**
 * What {@linkcode classifyVariable} decided, and why (the reason names the
 * rule, never the value).
 *
 * @example
 * ```ts
 * import { classifyVariable, type VariableClass } from "@keyward/secrets/config";
 * const c: VariableClass = classifyVariable("PORT", "8080");
 * if (c.kind !== "setting") throw new Error(c.reason);
 * ```
 */
export interface VariableClass {
  /** `secret`: belongs in a secret manager; `bootstrap`: a credential that reaches the manager; `setting`: plain configuration. */
  kind: "secret" | "bootstrap" | "setting";
  /** Why, in words that never quote the value. */
  reason: string;
}

/** True when `value` is a URL (or URL-like text) that carries a password. */
export function urlHasPassword(value: string): boolean {
  const text = value.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return false;
  try {
    const url = new URL(text);
    if (url.password !== "") return true;
  } catch {
    // a password holding '/', '#' or '?' makes the URL unparsable: fall through
  }
  // scheme://user:password@host, tolerant of unencoded characters in the password
  return /^[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:[^\s]+@[^\s@]+$/i.test(text);
}

/** True when a value looks like a credential: a known shape, or long and random. */
export function looksLikeCredential(value: string): boolean {
  const v = value.trim();
  if (v === "" || isPlaceholder(v)) return false;
  if (findCredentials(v).length > 0) return true;
  if (findCredentials(`X_SECRET=${v}`).some((m) => m.kind === "assigned-secret")) return true;
  return v.length >= 20 && !/\s/.test(v) && shannonEntropy(v) >= 3.5 && /[0-9]/.test(v) &&
    /[A-Za-z]/.test(v);
}

/**
 * Classifies one environment variable. Secret-looking: a name ending in one
 * of {@linkcode SECRET_NAME_SUFFIXES} (or equal to `PASSWORD`, `SECRET`,
 * `TOKEN`), a URL value with a password in it, or a name ending in `_KEY`
 * whose value looks like a credential (so `SORT_KEY=created_at` is a
 * setting). Bootstrap credentials are reported as such.
 *
 * @example
 * ```ts
 * import { classifyVariable } from "@keyward/secrets/config";
 *
 * if (classifyVariable("DB_PASSWORD", "x").kind !== "secret") throw new Error();
 * if (classifyVariable("SORT_KEY", "created_at").kind !== "setting") throw new Error();
 * if (classifyVariable("VAULT_TOKEN", "hvs.x").kind !== "bootstrap") throw new Error();
 * if (classifyVariable("DATABASE_URL", "postgres://app:pw@db/app").kind !== "secret") throw new Error();
 * if (classifyVariable("DATABASE_URL", "postgres://db/app").kind !== "setting") throw new Error();
 * ```
 */
export function classifyVariable(name: string, value: string): VariableClass {
  const upper = name.toUpperCase();
  if (BOOTSTRAP_CREDENTIALS.includes(upper)) {
    return { kind: "bootstrap", reason: "a bootstrap credential of the secret manager" };
  }
  if (["PASSWORD", "PASS", "PWD", "SECRET", "TOKEN", "DSN", "API_KEY"].includes(upper)) {
    return { kind: "secret", reason: `the name is ${upper}` };
  }
  const suffix = SECRET_NAME_SUFFIXES.find((s) => upper.endsWith(s));
  if (suffix) return { kind: "secret", reason: `the name ends in ${suffix}` };
  if (urlHasPassword(value)) {
    return { kind: "secret", reason: "the value is a URL with a password" };
  }
  if (upper.endsWith("_KEY") && looksLikeCredential(value)) {
    return {
      kind: "secret",
      reason: "the name ends in _KEY and the value looks like a credential",
    };
  }
  return { kind: "setting", reason: "no secret-looking name or value" };
}
