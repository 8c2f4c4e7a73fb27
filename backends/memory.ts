/**
 * The memory backend: the reference implementation of the stage table, for
 * tests, demos and short-lived tools. Nothing leaves the process.
 *
 * @module
 */

import {
  applyDeprecate,
  applyDestroy,
  applyPromote,
  applyWrite,
  DEFAULT_MAX_VERSIONS,
  describeStored,
  resolveRead,
  type StoredSecret,
} from "../core/_versioned_store.ts";
import { SecretManagerBase } from "../core/_backend_base.ts";
import { SecretNotFoundError, UnsupportedOperationError } from "../core/errors.ts";
import { normalizeValue, selectValue, validateName } from "../core/names.ts";
import type {
  DeleteOptions,
  ReadOptions,
  SecretMetadata,
  SecretRead,
  SecretValue,
  SecretVersion,
  WriteOptions,
} from "../core/types.ts";

/**
 * Options of {@linkcode MemorySecretManager}.
 *
 * @example A fixed clock, a version limit and initial secrets
 * ```ts
 * import { MemorySecretManager } from "@keyward/secrets";
 *
 * const secrets = new MemorySecretManager({
 *   now: () => Date.UTC(2026, 10, 29),
 *   maxVersions: 2,
 *   initial: { "db/password": "pw-0001" },
 * });
 * await secrets.setSecret("db/password", "pw-0002");
 * await secrets.setSecret("db/password", "pw-0003");
 * const meta = await secrets.describeSecret("db/password");
 * if (meta.versions.length !== 2) throw new Error("the oldest unstaged version is dropped");
 * if (meta.versions[0].createdAt.toISOString() !== "2026-11-29T00:00:00.000Z") throw new Error();
 * ```
 */
export interface MemoryOptions {
  /**
   * The clock, in epoch milliseconds.
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * Versions kept per secret; older versions without a stage are dropped.
   * @default {100}
   */
  maxVersions?: number;
  /** Secrets to start with (name -> value), written as version 1. */
  initial?: Record<string, SecretValue>;
  /**
   * The overall limit of one read, in milliseconds (reads answer from memory at once).
   * @default {0 (none)}
   */
  readDeadlineMs?: number;
}

const BACKEND = "memory";

/**
 * A {@linkcode SecretManager} that keeps everything in memory.
 *
 * @example
 * ```ts
 * import { MemorySecretManager } from "@keyward/secrets";
 *
 * const secrets = new MemorySecretManager();
 * await secrets.setSecret("db/login", { user: "app", password: "correct-horse-battery" });
 * const v2 = await secrets.setSecret("db/login", { user: "app", password: "staple-2" }, { stage: "pending" });
 * await secrets.promote("db/login", v2.version);
 * if (await secrets.getSecret("db/login", { field: "password" }) !== "staple-2") throw new Error();
 * ```
 */
export class MemorySecretManager extends SecretManagerBase {
  readonly #store = new Map<string, StoredSecret<Record<string, string>>>();
  readonly #now: () => number;
  readonly #maxVersions: number;

  /** Creates an empty store (or one holding `options.initial`). */
  constructor(options: MemoryOptions = {}) {
    super(BACKEND, options.readDeadlineMs);
    this.#now = options.now ?? Date.now;
    this.#maxVersions = options.maxVersions ?? DEFAULT_MAX_VERSIONS;
    if (!Number.isInteger(this.#maxVersions) || this.#maxVersions < 1) {
      throw new RangeError("option maxVersions must be a positive integer");
    }
    for (const [name, value] of Object.entries(options.initial ?? {})) {
      validateName(name);
      const fields = normalizeValue(name, value);
      const { rec } = applyWrite(undefined, fields, {}, this.#now(), this.#ctx(name));
      this.#store.set(name, rec);
    }
  }

  /** Reads from the stage table. */
  protected doRead(name: string, opts: ReadOptions): Promise<SecretRead> {
    const found = resolveRead(this.#store.get(name), opts, this.#ctx(name));
    const value = selectValue(found.entry.data, opts.field, {
      ...this.#ctx(name),
      ...(found.stage ? { stage: found.stage } : {}),
      version: found.id,
    });
    return Promise.resolve({
      value,
      version: found.id,
      ...(found.stage ? { stage: found.stage } : {}),
    });
  }

  /** Lists the names held. */
  protected doList(prefix: string): Promise<string[]> {
    return Promise.resolve([...this.#store.keys()].filter((n) => n.startsWith(prefix)).sort());
  }

  /** Writes a version (on a copy, so a refused write changes nothing). */
  protected doSet(
    name: string,
    fields: Record<string, string>,
    opts: WriteOptions,
  ): Promise<SecretVersion> {
    const existing = this.#store.get(name);
    const { rec, version } = applyWrite(
      existing ? structuredClone(existing) : undefined,
      fields,
      opts,
      this.#now(),
      this.#ctx(name),
      this.#maxVersions,
    );
    this.#store.set(name, rec);
    return Promise.resolve(version);
  }

  /** Describes a stored secret. */
  protected doDescribe(name: string): Promise<SecretMetadata> {
    const rec = this.#store.get(name);
    if (!rec) throw new SecretNotFoundError(this.#ctx(name));
    return Promise.resolve(describeStored(rec, name, BACKEND));
  }

  /** Promotes in the stage table. */
  protected doPromote(name: string, version: string): Promise<SecretVersion> {
    const rec = this.#store.get(name);
    return Promise.resolve(applyPromote(rec, version, this.#now(), this.#ctx(name)).version);
  }

  /** Deletes at once; `recoveryDays` is refused. */
  protected doDelete(name: string, opts: DeleteOptions): Promise<void> {
    if (opts.recoveryDays !== undefined) {
      throw new UnsupportedOperationError(
        "deleteSecret with recoveryDays",
        this.#ctx(name),
        "deletion is immediate and complete",
      );
    }
    if (!this.#store.delete(name)) throw new SecretNotFoundError(this.#ctx(name));
    return Promise.resolve();
  }

  /** Marks the version deprecated in the stage table. */
  protected doDeprecate(name: string, version: string): Promise<void> {
    applyDeprecate(this.#store.get(name), version, this.#now(), this.#ctx(name));
    return Promise.resolve();
  }

  /** Deletes the version's value from the stage table. */
  protected doDestroy(name: string, version: string): Promise<void> {
    applyDestroy(this.#store.get(name), version, this.#now(), this.#ctx(name));
    return Promise.resolve();
  }

  /** Forgets every secret. */
  protected override doClose(): Promise<void> {
    this.#store.clear();
    return Promise.resolve();
  }

  #ctx(secret: string): { secret: string; backend: string } {
    return { secret, backend: BACKEND };
  }
}
