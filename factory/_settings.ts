/**
 * Reading settings: one helper so every builder treats empty values alike.
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";

/** A setting's trimmed value, or `undefined` when it is unset or blank. */
export function setting(
  env: Record<string, string | undefined>,
  name: string,
): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const value = raw.trim();
  return value === "" ? undefined : value;
}

/** A comma-separated list setting, blanks dropped; `undefined` when unset. */
export function listSetting(
  env: Record<string, string | undefined>,
  name: string,
  itemPattern: RegExp,
  itemRule: string,
): string[] | undefined {
  const value = setting(env, name);
  if (value === undefined) return undefined;
  const items = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const item of items) {
    if (!itemPattern.test(item)) {
      throw new ConfigError(`${name} holds an invalid entry: ${itemRule}`);
    }
  }
  return items;
}
