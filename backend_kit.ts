/**
 * Helpers for authors of backends and wrappers: the checks every backend
 * runs before any I/O (names, prefixes, values, options), how a stored
 * version's fields become what `getSecret` returns, the retry loop with its
 * back-off, and the scrubbing of foreign errors. An application needs none
 * of this: it uses `@keyward/secrets`. Web standards only, like `.`.
 *
 * @example A tiny map-backed store with keyward's rules
 * ```ts
 * import { SecretNotFoundError } from "@keyward/secrets";
 * import { normalizeValue, selectValue, validateName } from "@keyward/secrets/backend-kit";
 *
 * const store = new Map<string, Record<string, string>>();
 * function put(name: string, value: unknown): void {
 *   validateName(name); // InvalidSecretNameError before any I/O, never echoing the name
 *   store.set(name, normalizeValue(name, value)); // InvalidSecretValueError, never the value
 * }
 * function get(name: string, field?: string): string {
 *   validateName(name);
 *   const fields = store.get(name);
 *   if (fields === undefined) throw new SecretNotFoundError({ secret: name, backend: "map" });
 *   return selectValue(fields, field, { secret: name, backend: "map" });
 * }
 *
 * put("db/login", { user: "app", password: "pw-0123456789" });
 * if (get("db/login", "user") !== "app") throw new Error();
 * put("api/token", "tok-0123456789");
 * if (get("api/token") !== "tok-0123456789") throw new Error();
 * ```
 *
 * @module
 */

export { quoteName, scrubCause } from "./core/errors.ts";
export {
  nameProblem,
  normalizeValue,
  RESERVED_PREFIX,
  selectValue,
  sortFields,
  utf8Length,
  validateName,
  validatePrefix,
  validateReadOptions,
  validateWriteOptions,
} from "./core/names.ts";
export {
  backoffDelayMs,
  retry,
  type RetryAttempt,
  type RetryOptions,
  validateRetryPolicy,
} from "./core/retry.ts";
