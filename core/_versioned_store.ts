/**
 * The stage table of DESIGN.md as pure functions over a plain, JSON-safe
 * record, shared by the memory and file backends so both follow it exactly.
 *
 * @module
 */

import { SecretConflictError, SecretNotFoundError } from "./errors.ts";
import type { SecretMetadata, SecretVersion, Stage } from "./types.ts";

/** One stored version; `data` is whatever the backend keeps (fields, ciphertext). */
export interface StoredVersion<D> {
  createdAt: number;
  data: D;
  /** Set by {@linkcode applyDeprecate}. */
  deprecatedAt?: number;
}

/** One stored secret. Times are epoch milliseconds. */
export interface StoredSecret<D> {
  createdAt: number;
  updatedAt: number;
  nextVersion: number;
  stages: Partial<Record<Stage, string>>;
  versions: Record<string, StoredVersion<D>>;
  deprecatedAt?: number;
}

/** How many versions are kept; older versions without a stage are dropped. */
export const DEFAULT_MAX_VERSIONS = 100;

interface Ctx {
  secret: string;
  backend: string;
}

/**
 * Applies a write to `rec` (which it mutates or creates) and returns the
 * record and the new version id. The caller stores `data` under that id.
 */
export function applyWrite<D>(
  rec: StoredSecret<D> | undefined,
  data: D,
  opts: { stage?: "current" | "pending"; ifVersion?: string },
  now: number,
  ctx: Ctx,
  maxVersions: number = DEFAULT_MAX_VERSIONS,
): { rec: StoredSecret<D>; version: SecretVersion } {
  const stage = opts.stage ?? "current";
  if (opts.ifVersion !== undefined && rec?.stages.current !== opts.ifVersion) {
    throw new SecretConflictError(
      { ...ctx, version: opts.ifVersion },
      rec ? "the current version is another one" : "the secret does not exist",
    );
  }
  if (stage === "pending" && !rec) {
    throw new SecretNotFoundError(
      { ...ctx, stage: "pending" },
      "a pending version needs an existing secret; create it first",
    );
  }
  const target: StoredSecret<D> = rec ?? {
    createdAt: now,
    updatedAt: now,
    nextVersion: 1,
    stages: {},
    versions: {},
  };
  const id = String(target.nextVersion);
  target.nextVersion += 1;
  target.versions[id] = { createdAt: now, data };
  target.updatedAt = now;
  if (stage === "current") {
    if (target.stages.current !== undefined) target.stages.previous = target.stages.current;
    target.stages.current = id;
  } else {
    target.stages.pending = id;
  }
  prune(target, maxVersions);
  return {
    rec: target,
    version: {
      name: ctx.secret,
      version: id,
      stages: stagesOf(target, id),
      createdAt: new Date(now),
    },
  };
}

/**
 * Finds the version a read asks for: `version` if given (and, with `stage`,
 * only if it holds that stage), else the version holding `stage` (default
 * `current`).
 */
export function resolveRead<D>(
  rec: StoredSecret<D> | undefined,
  opts: { stage?: Stage; version?: string },
  ctx: Ctx,
): { id: string; entry: StoredVersion<D>; stage?: Stage } {
  const stage = opts.stage ?? (opts.version === undefined ? "current" : undefined);
  if (!rec) {
    throw new SecretNotFoundError({ ...ctx, stage, version: opts.version });
  }
  if (opts.version !== undefined) {
    const entry = Object.hasOwn(rec.versions, opts.version)
      ? rec.versions[opts.version]
      : undefined;
    if (!entry || (stage !== undefined && rec.stages[stage] !== opts.version)) {
      throw new SecretNotFoundError(
        { ...ctx, stage, version: opts.version },
        entry ? "that version does not hold that stage" : "no such version",
      );
    }
    return { id: opts.version, entry, stage: stage ?? stagesOf(rec, opts.version)[0] };
  }
  const id = rec.stages[stage!];
  const entry = id === undefined || !Object.hasOwn(rec.versions, id) ? undefined : rec.versions[id];
  if (id === undefined || !entry) {
    throw new SecretNotFoundError({ ...ctx, stage }, "no version holds this stage");
  }
  return { id, entry, stage };
}

/**
 * Promotes `version` to current (the old current becomes previous; pending
 * is cleared if it was `version`). Promoting the current version changes
 * nothing. Returns whether anything changed.
 */
export function applyPromote<D>(
  rec: StoredSecret<D> | undefined,
  version: string,
  now: number,
  ctx: Ctx,
): { changed: boolean; version: SecretVersion } {
  if (!rec || !Object.hasOwn(rec.versions, version)) {
    throw new SecretNotFoundError({ ...ctx, version }, rec ? "no such version" : undefined);
  }
  let changed = false;
  if (rec.stages.current !== version) {
    if (rec.stages.current !== undefined) rec.stages.previous = rec.stages.current;
    rec.stages.current = version;
    if (rec.stages.pending === version) delete rec.stages.pending;
    rec.updatedAt = now;
    changed = true;
  } else if (rec.stages.pending === version) {
    delete rec.stages.pending;
    changed = true;
  }
  return {
    changed,
    version: {
      name: ctx.secret,
      version,
      stages: stagesOf(rec, version),
      createdAt: new Date(rec.versions[version].createdAt),
    },
  };
}

/**
 * Finds the version a lifecycle call names and refuses the current one
 * (shared by deprecate and destroy).
 */
export function lifecycleTarget<D>(
  rec: StoredSecret<D> | undefined,
  version: string,
  ctx: Ctx,
  action: "deprecated" | "destroyed",
): StoredVersion<D> {
  if (!rec || !Object.hasOwn(rec.versions, version)) {
    throw new SecretNotFoundError({ ...ctx, version }, rec ? "no such version" : undefined);
  }
  if (rec.stages.current === version) {
    throw new SecretConflictError(
      { ...ctx, version },
      `the current version cannot be ${action}; promote another version first`,
    );
  }
  return rec.versions[version];
}

/** Marks `version` deprecated at `now` (the first date is kept). Refuses `current`. */
export function applyDeprecate<D>(
  rec: StoredSecret<D> | undefined,
  version: string,
  now: number,
  ctx: Ctx,
): void {
  const entry = lifecycleTarget(rec, version, ctx, "deprecated");
  entry.deprecatedAt ??= now;
  rec!.deprecatedAt = now;
}

/**
 * Destroys `version`: its value and entry go, and any stage it held
 * (`pending`, `previous`) is cleared. Refuses `current`.
 */
export function applyDestroy<D>(
  rec: StoredSecret<D> | undefined,
  version: string,
  now: number,
  ctx: Ctx,
): void {
  lifecycleTarget(rec, version, ctx, "destroyed");
  delete rec!.versions[version];
  for (const stage of ["pending", "previous"] as const) {
    if (rec!.stages[stage] === version) delete rec!.stages[stage];
  }
  rec!.updatedAt = now;
}

/** The stages a version holds, in table order. */
export function stagesOf<D>(rec: StoredSecret<D>, id: string): Stage[] {
  const out: Stage[] = [];
  for (const stage of ["current", "pending", "previous"] as const) {
    if (rec.stages[stage] === id) out.push(stage);
  }
  return out;
}

/** Metadata of a stored secret; never touches `data`. */
export function describeStored<D>(
  rec: StoredSecret<D>,
  name: string,
  backend: string,
): SecretMetadata {
  const ids = Object.keys(rec.versions).sort((a, b) => Number(a) - Number(b));
  const meta: SecretMetadata = {
    name,
    backend,
    versions: ids.map((id) => {
      const v: SecretVersion = {
        name,
        version: id,
        stages: stagesOf(rec, id),
        createdAt: new Date(rec.versions[id].createdAt),
      };
      const deprecatedAt = rec.versions[id].deprecatedAt;
      if (deprecatedAt !== undefined) v.deprecatedAt = new Date(deprecatedAt);
      return v;
    }),
    createdAt: new Date(rec.createdAt),
    updatedAt: new Date(rec.updatedAt),
  };
  if (rec.deprecatedAt !== undefined) meta.deprecatedAt = new Date(rec.deprecatedAt);
  return meta;
}

function prune<D>(rec: StoredSecret<D>, maxVersions: number): void {
  const ids = Object.keys(rec.versions);
  if (ids.length <= maxVersions) return;
  const labelled = new Set(Object.values(rec.stages));
  const removable = ids.filter((id) => !labelled.has(id)).sort((a, b) => Number(a) - Number(b));
  let excess = ids.length - maxVersions;
  for (const id of removable) {
    if (excess <= 0) break;
    delete rec.versions[id];
    excess -= 1;
  }
}
