/**
 * The version-aware calls the engine needs, over any manager: the
 * interface's `readSecret`, `deprecateVersion` and `destroyVersion` when the
 * manager has them, else the closest equivalent built from `describeSecret`
 * and `getSecret`.
 *
 * @module
 */

import { SecretNotFoundError, UnsupportedOperationError } from "../core/errors.ts";
import type { ReadOptions, SecretManager, SecretValue, Stage } from "../core/types.ts";

/** A read with its version id. */
export interface VersionedRead {
  /** The value (JSON text for a field secret). */
  value: string;
  /** The id of the version read. */
  version: string;
  /** The stage read, if any. */
  stage?: Stage;
}

type Lifecycle = {
  readSecret?: (name: string, opts?: ReadOptions) => Promise<VersionedRead>;
  deprecateVersion?: (name: string, version: string) => Promise<void>;
  destroyVersion?: (name: string, version: string) => Promise<void>;
};

/** Reads a stage or version with its id, bypassing caches. */
export async function readVersioned(
  manager: SecretManager,
  name: string,
  opts: { stage?: Stage; version?: string },
): Promise<VersionedRead> {
  const m = manager as SecretManager & Lifecycle;
  if (typeof m.readSecret === "function") {
    try {
      return await m.readSecret(name, { ...opts, forceFetch: true });
    } catch (err) {
      // A backend or wrapper that does not read versions yet: the fallback below.
      if (!(err instanceof UnsupportedOperationError)) throw err;
    }
  }
  let version = opts.version;
  if (version === undefined) {
    const stage = opts.stage ?? "current";
    const meta = await manager.describeSecret(name);
    version = meta.versions.find((v) => v.stages.includes(stage))?.version;
    if (version === undefined) throw new SecretNotFoundError({ secret: name, stage });
  }
  const value = await manager.getSecret(name, { version, forceFetch: true });
  return opts.stage ? { value, version, stage: opts.stage } : { value, version };
}

/** Marks a version deprecated; `false` when the manager cannot. */
export async function deprecateVersion(
  manager: SecretManager,
  name: string,
  version: string,
): Promise<boolean> {
  const m = manager as SecretManager & Lifecycle;
  if (typeof m.deprecateVersion !== "function") return false;
  try {
    await m.deprecateVersion(name, version);
    return true;
  } catch (err) {
    if (err instanceof UnsupportedOperationError) return false;
    throw err;
  }
}

/** Destroys a version; `false` when the manager cannot; an unknown version counts as done. */
export async function destroyVersion(
  manager: SecretManager,
  name: string,
  version: string,
): Promise<boolean> {
  const m = manager as SecretManager & Lifecycle;
  if (typeof m.destroyVersion !== "function") return false;
  try {
    await m.destroyVersion(name, version);
    return true;
  } catch (err) {
    if (err instanceof UnsupportedOperationError) return false;
    if (err instanceof SecretNotFoundError) return true;
    throw err;
  }
}

/** Parses a read value into what rotators work with: fields when it is a JSON record of strings. */
export function parseValue(text: string): SecretValue {
  if (!text.startsWith("{")) return text;
  try {
    const v = JSON.parse(text);
    if (
      typeof v === "object" && v !== null && !Array.isArray(v) &&
      Object.values(v).every((x) => typeof x === "string")
    ) return v as Record<string, string>;
  } catch {
    // a string that starts with "{"
  }
  return text;
}

/** Every string a value holds (for redaction). */
export function valueStrings(value: SecretValue): string[] {
  return typeof value === "string" ? [value] : Object.values(value);
}
