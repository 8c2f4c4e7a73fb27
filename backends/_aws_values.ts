/**
 * How keyward values live in an AWS `SecretString`, so that every other AWS
 * reader (the console, the CLI, Lambda extensions, External Secrets) sees
 * them as AWS users expect:
 *
 * - a plain value is the `SecretString` itself;
 * - a record of fields is its JSON text, keys sorted (the console's
 *   "key/value" form); a record holding only `value` is stored as that plain
 *   value, since keyward treats the two alike.
 *
 * Reading without `field` returns the `SecretString` exactly as stored. Reading
 * a `field`: when the `SecretString` is a JSON object, the field is that member
 * (numbers and booleans, as in the secrets AWS manages for RDS, come back as
 * their JSON text); any other text has one field, `value`, the whole string.
 * So a plain value that happens to be JSON object text (a service-account key
 * file) reads back unchanged, its members are readable as fields, and it has
 * no `value` field unless the object has one.
 *
 * @module
 */

import { SecretNotFoundError } from "../core/errors.ts";
import { sortFields, VALUE_FIELD } from "../core/names.ts";
import type { Stage } from "../core/types.ts";

/** The `SecretString` for a validated record of fields. */
export function encodeFields(fields: Record<string, string>): string {
  const keys = Object.keys(fields);
  if (keys.length === 1 && keys[0] === VALUE_FIELD) return fields[VALUE_FIELD];
  return JSON.stringify(sortFields(fields));
}

/** The members of `text` when it is JSON object text, else `undefined`. */
export function jsonObjectOf(text: string): Record<string, unknown> | undefined {
  const first = text.trimStart()[0];
  if (first !== "{") return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // not JSON: a plain value that starts with "{"
  }
  return undefined;
}

/** What `getSecret` returns for a stored `SecretString`. */
export function readStored(
  text: string,
  field: string | undefined,
  context: { secret: string; stage?: Stage; version?: string; backend: string },
): string {
  if (field === undefined) return text;
  const object = jsonObjectOf(text);
  if (object === undefined) {
    if (field === VALUE_FIELD) return text;
    throw new SecretNotFoundError(
      { ...context, field },
      "the secret holds a plain value, whose only field is value",
    );
  }
  if (!Object.hasOwn(object, field)) {
    throw new SecretNotFoundError({ ...context, field }, "the secret has no such field");
  }
  const member = object[field];
  return typeof member === "string" ? member : JSON.stringify(member);
}
