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
import { assertOpen, checkSignal, warnIfNotFound } from "../core/_backend_util.ts";
import { SecretNotFoundError, UnsupportedOperationError } from "../core/errors.ts";
import { keywardLogger } from "../core/log.ts";
import {
  normalizeValue,
  selectValue,
  validateName,
  validatePrefix,
  validateReadOptions,
  validateWriteOptions,
} from "../core/names.ts";
import type {
  DeleteOptions,
  ReadOptions,
  SecretManager,
  SecretMetadata,
  SecretRead,
  SecretValue,
  SecretVersion,
  SignalOptions,
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
export class MemorySecretManager implements SecretManager {
  readonly #store = new Map<string, StoredSecret<Record<string, string>>>();
  readonly #now: () => number;
  readonly #maxVersions: number;
  readonly #log = keywardLogger("backend", BACKEND);
  #closed = false;

  /** Creates an empty store (or one holding `options.initial`). */
  constructor(options: MemoryOptions = {}) {
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

  /** {@inheritDoc SecretManager.getSecret} */
  getSecret(name: string, opts: ReadOptions = {}): Promise<string> {
    return this.readSecret(name, opts).then((read) => read.value);
  }

  /** {@inheritDoc SecretManager.readSecret} */
  readSecret(name: string, opts: ReadOptions = {}): Promise<SecretRead> {
    try {
      this.#enter(opts.signal);
      validateName(name);
      validateReadOptions(name, opts);
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
    } catch (err) {
      return Promise.reject(warnIfNotFound(this.#log, err));
    }
  }

  /** {@inheritDoc SecretManager.deprecateVersion} */
  deprecateVersion(name: string, version: string, opts: SignalOptions = {}): Promise<void> {
    try {
      this.#enter(opts.signal);
      validateName(name);
      validateReadOptions(name, { version });
      applyDeprecate(this.#store.get(name), version, this.#now(), this.#ctx(name));
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** {@inheritDoc SecretManager.destroyVersion} */
  destroyVersion(name: string, version: string, opts: SignalOptions = {}): Promise<void> {
    try {
      this.#enter(opts.signal);
      validateName(name);
      validateReadOptions(name, { version });
      applyDestroy(this.#store.get(name), version, this.#now(), this.#ctx(name));
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** {@inheritDoc SecretManager.listSecrets} */
  listSecrets(prefix = "", opts: SignalOptions = {}): Promise<string[]> {
    try {
      this.#enter(opts.signal);
      validatePrefix(prefix);
      const names = [...this.#store.keys()].filter((n) => n.startsWith(prefix)).sort();
      return Promise.resolve(names);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** {@inheritDoc SecretManager.setSecret} */
  setSecret(name: string, value: SecretValue, opts: WriteOptions = {}): Promise<SecretVersion> {
    try {
      this.#enter(opts.signal);
      validateName(name);
      validateWriteOptions(name, opts);
      const fields = normalizeValue(name, value);
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
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** {@inheritDoc SecretManager.describeSecret} */
  describeSecret(name: string, opts: SignalOptions = {}): Promise<SecretMetadata> {
    try {
      this.#enter(opts.signal);
      validateName(name);
      const rec = this.#store.get(name);
      if (!rec) throw new SecretNotFoundError(this.#ctx(name));
      return Promise.resolve(describeStored(rec, name, BACKEND));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** {@inheritDoc SecretManager.promote} */
  promote(name: string, version: string, opts: SignalOptions = {}): Promise<SecretVersion> {
    try {
      this.#enter(opts.signal);
      validateName(name);
      validateReadOptions(name, { version });
      const rec = this.#store.get(name);
      return Promise.resolve(applyPromote(rec, version, this.#now(), this.#ctx(name)).version);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** {@inheritDoc SecretManager.deleteSecret} */
  deleteSecret(name: string, opts: DeleteOptions = {}): Promise<void> {
    try {
      this.#enter(opts.signal);
      validateName(name);
      if (opts.recoveryDays !== undefined) {
        throw new UnsupportedOperationError(
          "deleteSecret with recoveryDays",
          this.#ctx(name),
          "deletion is immediate and complete",
        );
      }
      if (!this.#store.delete(name)) throw new SecretNotFoundError(this.#ctx(name));
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** {@inheritDoc SecretManager.close} */
  close(): Promise<void> {
    this.#closed = true;
    this.#store.clear();
    return Promise.resolve();
  }

  #enter(signal: AbortSignal | undefined): void {
    assertOpen(this.#closed, BACKEND);
    checkSignal(signal);
  }

  #ctx(secret: string): { secret: string; backend: string } {
    return { secret, backend: BACKEND };
  }
}
