/**
 * The rules for names and values, checked before any I/O, and the encoding
 * of field secrets.
 *
 * @module
 */

import {
  ConfigError,
  InvalidSecretNameError,
  InvalidSecretValueError,
  quoteName,
  SecretNotFoundError,
} from "./errors.ts";
import type { Stage } from "./types.ts";
import { MAX_NAME_LENGTH, nameProblem } from "./_name_rules.ts";

export { MAX_NAME_LENGTH, nameProblem, RESERVED_PREFIX } from "./_name_rules.ts";

/**
 * The largest value in UTF-8 bytes (AWS's limit, enforced on every backend).
 *
 * @example Every backend refuses a larger value before any I/O
 * ```ts
 * import { InvalidSecretValueError, MAX_VALUE_BYTES, MemorySecretManager } from "@keyward/secrets";
 *
 * const secrets = new MemorySecretManager();
 * await secrets.setSecret("blob/ok", "x".repeat(MAX_VALUE_BYTES));
 * const error = await secrets.setSecret("blob/big", "x".repeat(MAX_VALUE_BYTES + 1)).catch((e) => e);
 * if (!(error instanceof InvalidSecretValueError)) throw new Error();
 * ```
 */
export const MAX_VALUE_BYTES = 65_536;
/**
 * The field a plain string value is stored under.
 *
 * @example A plain string is stored as one field of this name
 * ```ts
 * import { MemorySecretManager, VALUE_FIELD } from "@keyward/secrets";
 * import { normalizeValue } from "@keyward/secrets/backend-kit";
 *
 * if (normalizeValue("a/b", "value-0001")[VALUE_FIELD] !== "value-0001") throw new Error();
 * const secrets = new MemorySecretManager({ initial: { "a/b": "value-0001" } });
 * if (await secrets.getSecret("a/b", { field: VALUE_FIELD }) !== "value-0001") throw new Error();
 * ```
 */
export const VALUE_FIELD = "value";

const FIELD = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Throws {@linkcode InvalidSecretNameError} unless `name` follows the naming
 * rules: 1 to 512 characters, `/`-separated segments of `[A-Za-z0-9_.-]`, no
 * empty, `.` or `..` segment, no segment ending in `.`, no leading or trailing
 * `/`, and no first segment starting with `.keyward` (reserved).
 *
 * @example
 * ```ts
 * import { validateName } from "@keyward/secrets/backend-kit";
 * validateName("alpaca/api_key_id");
 * try { validateName("../etc/passwd"); throw new Error("accepted"); } catch (e) {
 *   if ((e as Error).message === "accepted") throw e;
 * }
 * ```
 */
export function validateName(name: unknown): asserts name is string {
  const problem = nameProblem(name);
  if (problem !== undefined) {
    throw new InvalidSecretNameError(name, problem);
  }
}

/**
 * Throws {@linkcode InvalidSecretNameError} unless `prefix` could begin a
 * valid name (empty is allowed and means "everything").
 *
 * @example
 * ```ts
 * import { validatePrefix } from "@keyward/secrets/backend-kit";
 * validatePrefix("alpaca/");
 * validatePrefix("");
 * ```
 */
export function validatePrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== "string") {
    throw new InvalidSecretNameError(prefix, "a prefix must be a string");
  }
  if (prefix === "") return;
  if (prefix.length > MAX_NAME_LENGTH) {
    throw new InvalidSecretNameError(
      prefix,
      `a prefix must be at most ${MAX_NAME_LENGTH} characters`,
    );
  }
  if (prefix.startsWith("/")) {
    throw new InvalidSecretNameError(prefix, "a prefix must not start with '/'");
  }
  if (!/^[A-Za-z0-9_./-]*$/.test(prefix)) {
    throw new InvalidSecretNameError(
      prefix,
      "a prefix holds only letters, digits, '_', '.', '-' and '/'",
    );
  }
  if (prefix.includes("//")) {
    throw new InvalidSecretNameError(prefix, "a prefix must not contain '//'");
  }
}

const encoder = new TextEncoder();

/**
 * The UTF-8 length of a string in bytes (what `MAX_VALUE_BYTES` limits), not
 * its length in UTF-16 code units.
 *
 * @example
 * ```ts
 * import { utf8Length } from "@keyward/secrets/backend-kit";
 *
 * if (utf8Length("abc") !== 3) throw new Error();
 * if (utf8Length("é") !== 2 || "é".length !== 1) throw new Error();
 * if (utf8Length("🔑") !== 4 || "🔑".length !== 2) throw new Error();
 * ```
 */
export function utf8Length(text: string): number {
  return encoder.encode(text).byteLength;
}

/**
 * Checks a value and returns it as a record of fields (a string becomes
 * `{ value }`). Throws {@linkcode InvalidSecretValueError} naming the secret
 * and the rule broken, never the value.
 *
 * @example
 * ```ts
 * import { normalizeValue } from "@keyward/secrets/backend-kit";
 * const fields = normalizeValue("db/login", { user: "app", password: "pw-1234567" });
 * if (fields.user !== "app") throw new Error();
 * ```
 */
export function normalizeValue(name: string, value: unknown): Record<string, string> {
  if (typeof value === "string") {
    checkString(name, value, undefined);
    return { [VALUE_FIELD]: value };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidSecretValueError(
      { secret: name },
      `a value must be a string or a record of strings, got ${
        value === null ? "null" : Array.isArray(value) ? "an array" : typeof value
      }`,
    );
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new InvalidSecretValueError({ secret: name }, "a field record must be a plain object");
  }
  const keys = Object.keys(value);
  if (keys.length === 0) {
    throw new InvalidSecretValueError(
      { secret: name },
      "a field record must have at least one field",
    );
  }
  const fields: Record<string, string> = {};
  for (const key of keys.sort()) {
    if (!FIELD.test(key)) {
      // The key is not echoed: a value pasted as a field name must not reach the message.
      throw new InvalidSecretValueError(
        { secret: name },
        `field names must be 1 to 128 letters, digits, '_', '.' or '-' (one has ${key.length} characters)`,
      );
    }
    const fieldValue = (value as Record<string, unknown>)[key];
    if (typeof fieldValue !== "string") {
      throw new InvalidSecretValueError(
        { secret: name, field: key },
        `field values must be strings, got ${fieldValue === null ? "null" : typeof fieldValue}`,
      );
    }
    checkString(name, fieldValue, key);
    fields[key] = fieldValue;
  }
  const size = utf8Length(JSON.stringify(fields));
  if (size > MAX_VALUE_BYTES) {
    throw new InvalidSecretValueError(
      { secret: name },
      `the JSON form of the fields is ${size} bytes; the limit is ${MAX_VALUE_BYTES}`,
    );
  }
  return fields;
}

function checkString(name: string, value: string, field: string | undefined): void {
  const ctx = field === undefined ? { secret: name } : { secret: name, field };
  if (value.length === 0) throw new InvalidSecretValueError(ctx, "a value must not be empty");
  if (!value.isWellFormed()) {
    throw new InvalidSecretValueError(
      ctx,
      "a value must be valid UTF-8 (lone surrogate)",
    );
  }
  const size = utf8Length(value);
  if (size > MAX_VALUE_BYTES) {
    throw new InvalidSecretValueError(
      ctx,
      `a value must be at most ${MAX_VALUE_BYTES} bytes of UTF-8, got ${size}`,
    );
  }
}

/**
 * Picks what `getSecret` returns from a version's fields: the named field, or
 * the single `value` field, or the JSON text of all fields.
 *
 * @example
 * ```ts
 * import { selectValue } from "@keyward/secrets/backend-kit";
 * if (selectValue({ value: "x" }, undefined, { secret: "a" }) !== "x") throw new Error();
 * if (selectValue({ a: "1", b: "2" }, "b", { secret: "a" }) !== "2") throw new Error();
 * ```
 */
export function selectValue(
  fields: Record<string, string>,
  field: string | undefined,
  context: { secret: string; stage?: Stage; version?: string; backend?: string },
): string {
  if (field !== undefined) {
    if (!Object.hasOwn(fields, field)) {
      throw new SecretNotFoundError({ ...context, field }, "the secret has no such field");
    }
    return fields[field];
  }
  const keys = Object.keys(fields);
  if (keys.length === 1 && keys[0] === VALUE_FIELD) return fields[VALUE_FIELD];
  return JSON.stringify(sortFields(fields));
}

/**
 * Returns the fields with their keys in sorted order (stable JSON text).
 *
 * @example The same fields give the same JSON whatever their order
 * ```ts
 * import { sortFields } from "@keyward/secrets/backend-kit";
 *
 * const a = JSON.stringify(sortFields({ user: "app", host: "db.internal" }));
 * const b = JSON.stringify(sortFields({ host: "db.internal", user: "app" }));
 * if (a !== b || a !== '{"host":"db.internal","user":"app"}') throw new Error();
 * ```
 */
export function sortFields(fields: Record<string, string>): Record<string, string> {
  const sorted: Record<string, string> = {};
  for (const key of Object.keys(fields).sort()) sorted[key] = fields[key];
  return sorted;
}

/**
 * Checks read options: a known stage, a non-empty version, a valid field.
 *
 * @example
 * ```ts
 * import { validateReadOptions } from "@keyward/secrets/backend-kit";
 * validateReadOptions("a", { stage: "pending" });
 * ```
 */
export function validateReadOptions(
  name: string,
  opts: { stage?: unknown; version?: unknown; field?: unknown } | undefined,
): void {
  if (!opts) return;
  if (
    opts.stage !== undefined && !["current", "pending", "previous"].includes(opts.stage as string)
  ) {
    throw new ConfigError(
      `option stage of secret ${quoteName(name)} must be one of current, pending, previous`,
      { secret: name },
    );
  }
  if (
    opts.version !== undefined &&
    (typeof opts.version !== "string" || opts.version.length === 0 || opts.version.length > 128)
  ) {
    throw new ConfigError(
      `option version of secret ${
        quoteName(name)
      } must be a non-empty string of at most 128 characters`,
      { secret: name },
    );
  }
  if (opts.field !== undefined && (typeof opts.field !== "string" || !FIELD.test(opts.field))) {
    throw new ConfigError(
      `option field of secret ${quoteName(name)} must be 1 to 128 letters, digits, '_', '.' or '-'`,
      { secret: name },
    );
  }
}

/**
 * Checks write options: a writable stage and a well-formed `ifVersion`.
 *
 * @example
 * ```ts
 * import { validateWriteOptions } from "@keyward/secrets/backend-kit";
 * validateWriteOptions("a", { stage: "pending" });
 * ```
 */
export function validateWriteOptions(
  name: string,
  opts: { stage?: unknown; ifVersion?: unknown } | undefined,
): void {
  if (!opts) return;
  if (opts.stage !== undefined && opts.stage !== "current" && opts.stage !== "pending") {
    throw new ConfigError(
      `option stage of a write to secret ${quoteName(name)} must be current or pending`,
      { secret: name },
    );
  }
  if (
    opts.ifVersion !== undefined &&
    (typeof opts.ifVersion !== "string" || opts.ifVersion.length === 0 ||
      opts.ifVersion.length > 128)
  ) {
    throw new ConfigError(
      `option ifVersion of secret ${
        quoteName(name)
      } must be a non-empty string of at most 128 characters`,
      { secret: name },
    );
  }
}

/**
 * Every stage, in the order they are usually shown. (Here, not in `./types.ts`,
 * which holds types only so that importing it costs nothing at run time.)
 *
 * @example Showing which stages a secret has
 * ```ts
 * import { MemorySecretManager, STAGES } from "@keyward/secrets";
 *
 * const secrets = new MemorySecretManager({ initial: { "db/password": "pw-0123456789" } });
 * await secrets.setSecret("db/password", "pw-9876543210", { stage: "pending" });
 * const meta = await secrets.describeSecret("db/password");
 * const held = STAGES.filter((stage) => meta.versions.some((v) => v.stages.includes(stage)));
 * if (held.join(",") !== "current,pending") throw new Error(held.join(","));
 * ```
 */
export const STAGES: readonly Stage[] = ["current", "pending", "previous"];
