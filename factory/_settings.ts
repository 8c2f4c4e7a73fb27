/**
 * Reading settings: the factory parses the environment once against the
 * settings table (`settings/table.ts`); a step reads the parsed object
 * through {@linkcode settingsOf}.
 *
 * @module
 */

import { parseSettings, rawSetting, type Settings } from "../settings/parse.ts";
import type { BackendSettings } from "./_types.ts";

/** A setting's trimmed value, or `undefined` when it is unset or blank. */
export const setting = rawSetting;

const PARSED = new WeakMap<BackendSettings, Settings>();

/**
 * The parsed settings of `input`: those the factory parsed once (see
 * {@linkcode withParsed}), or, for a builder called directly (tests, a
 * custom factory), parsed from `input.env` and kept for the next step.
 */
export function settingsOf(input: BackendSettings): Settings {
  let parsed = PARSED.get(input);
  if (parsed === undefined) {
    parsed = parseSettings(input.env);
    PARSED.set(input, parsed);
  }
  return parsed;
}

/** Attaches settings parsed once to `input`, for every step that receives it. */
export function withParsed(input: BackendSettings, parsed: Settings): BackendSettings {
  PARSED.set(input, parsed);
  return input;
}
