/**
 * Parses the environment against the settings table ({@linkcode SETTINGS})
 * into one typed object. The factory parses once and hands the object to
 * every step; no step reads the raw environment.
 *
 * Each setting is checked the first time a step reads it (and only once),
 * so a bad value of a feature not in use never stops start-up, as before
 * the table: `VAULT_TIMEOUT_MS=soon` matters only with `SECRET_BACKEND=vault`.
 * Every problem is a `ConfigError` naming the setting, never quoting its
 * value (a value pasted into the wrong setting may be a credential).
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";
import {
  type ChoiceSpec,
  type IntegerSpec,
  type ListSpec,
  type SettingName,
  SETTINGS,
  type SettingSpec,
} from "./table.ts";

type Spec<N extends SettingName> = Extract<(typeof SETTINGS)[number], { name: N }>;

/** The parsed type of one setting, from its row in the table. */
export type SettingValue<S> = S extends { type: "integer"; default: number } ? number
  : S extends { type: "integer" } ? number | undefined
  : S extends { type: "choice"; choices: readonly (infer C)[]; default: string } ? C
  : S extends { type: "choice"; choices: readonly (infer C)[] } ? C | undefined
  : S extends { type: "list" } ? string[] | undefined
  : S extends { default: string } ? string
  : string | undefined;

/** Every setting, parsed: unset settings are their default or `undefined`. */
export type Settings = { readonly [N in SettingName]: SettingValue<Spec<N>> };

/** A setting's trimmed value, or `undefined` when it is unset or blank. */
export function rawSetting(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  const value = raw.trim();
  return value === "" ? undefined : value;
}

/**
 * The one integer parser: a whole number from `spec.min` (to `spec.max`),
 * or the default when unset; a `ConfigError` naming the setting otherwise.
 */
export function parseInteger(spec: IntegerSpec, text: string | undefined): number | undefined {
  if (text === undefined) return spec.default;
  const n = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < spec.min || (spec.max !== undefined && n > spec.max)) {
    const range = spec.max !== undefined
      ? `from ${spec.min} to ${spec.max}`
      : `of at least ${spec.min}`;
    throw new ConfigError(
      `${spec.name} must be a whole number ${range}${spec.unit ? ` (${spec.unit})` : ""}`,
    );
  }
  return n;
}

function parseChoice(spec: ChoiceSpec, text: string | undefined): string | undefined {
  if (text === undefined) return spec.default;
  if (spec.choices.includes(text)) return text;
  if (spec.noun !== undefined) {
    // Shown only when it looks like a word: a value pasted into the wrong
    // setting is not repeated.
    const shown = /^[A-Za-z0-9_-]{1,20}$/.test(text) ? `=${text}` : "";
    throw new ConfigError(
      `${spec.name}${shown} is not ${spec.noun}; choose one of: ${spec.choices.join(", ")}`,
    );
  }
  throw new ConfigError(`${spec.name} must be one of: ${spec.choices.join(", ")}`);
}

function parseList(spec: ListSpec, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const item of items) {
    if (!spec.item.test(item)) {
      throw new ConfigError(`${spec.name} holds an invalid entry: ${spec.itemRule}`);
    }
  }
  return items;
}

/** Parses one setting's text (already trimmed, `undefined` when unset). */
export function parseOne(spec: SettingSpec, text: string | undefined): unknown {
  switch (spec.type) {
    case "integer":
      return parseInteger(spec, text);
    case "choice":
      return parseChoice(spec, text);
    case "list":
      return parseList(spec, text);
    default:
      return text ?? spec.default;
  }
}

/**
 * Parses `env` against the table. The record is copied at once; each
 * setting is parsed on first read and kept, and a bad one throws its
 * `ConfigError` on every read.
 *
 * @example
 * ```ts ignore
 * const settings = parseSettings({ SECRET_BACKEND: "vault", SECRET_CACHE_TTL_MS: " 5000 " });
 * settings.SECRET_CACHE_TTL_MS; // 5000
 * settings.SECRET_CACHE_MAX_ENTRIES; // 1000 (DEFAULT_CACHE_MAX_ENTRIES)
 * ```
 */
export function parseSettings(env: Readonly<Record<string, string | undefined>>): Settings {
  const settings = {} as Record<string, unknown>;
  for (const spec of SETTINGS as readonly SettingSpec[]) {
    const text = rawSetting(env, spec.name);
    let parsed: { value: unknown } | { error: unknown } | undefined;
    Object.defineProperty(settings, spec.name, {
      enumerable: true,
      get() {
        if (parsed === undefined) {
          try {
            parsed = { value: parseOne(spec, text) };
          } catch (error) {
            parsed = { error };
          }
        }
        if ("error" in parsed) throw parsed.error;
        return parsed.value;
      },
    });
  }
  return Object.freeze(settings) as Settings;
}
