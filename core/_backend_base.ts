/**
 * The guard every backend runs once, at its public boundary: the closed
 * check, the abort check, name and option validation, the not-found warning
 * and the overall read deadline. A backend extends {@linkcode SecretManagerBase}
 * and implements the `do*` hooks, which trust their arguments.
 *
 * The base is deliberately stateless apart from the closed flag (STYLE.md
 * prefers composition; issue 11 asks for this one shared guard so that it
 * lives in one place instead of about 20 hand-written calls per backend).
 *
 * @module
 */

import type { KeywardLogger as Logger } from "./log.ts";
import {
  ConfigError,
  ManagerClosedError,
  SecretAccessError,
  SecretNotFoundError,
} from "./errors.ts";
import { keywardLogger } from "./log.ts";
import {
  normalizeValue,
  validateName,
  validatePrefix,
  validateReadOptions,
  validateWriteOptions,
} from "./names.ts";
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
} from "./types.ts";

/**
 * The default of `readDeadlineMs` (`SECRET_READ_DEADLINE_MS`) on backends
 * that do I/O: one read, retries included, ends within 10 s.
 *
 * @example
 * ```ts
 * import { DEFAULT_READ_DEADLINE_MS } from "@keyward/secrets";
 *
 * if (DEFAULT_READ_DEADLINE_MS !== 10_000) throw new Error();
 * ```
 */
export const DEFAULT_READ_DEADLINE_MS = 10_000;

/**
 * A backend built on the shared guard: every public method checks that the
 * manager is open, that the signal has not fired and that the name and
 * options are valid, before it calls the `do*` hook, which does the I/O.
 * Reads also get the overall deadline (`readDeadlineMs`): the hook's signal
 * fires when it passes, and the read fails with a `SecretAccessError`
 * (`timeout`) naming the secret, the backend and the deadline.
 *
 * @example A minimal read-only backend
 * ```ts
 * import {
 *   type ReadOptions,
 *   type SecretMetadata,
 *   type SecretRead,
 *   SecretManagerBase,
 *   SecretNotFoundError,
 *   UnsupportedOperationError,
 * } from "@keyward/secrets";
 *
 * class FixedBackend extends SecretManagerBase {
 *   constructor(readonly values: Record<string, string>) {
 *     super("fixed");
 *   }
 *   protected doRead(name: string, _opts: ReadOptions): Promise<SecretRead> {
 *     const value = this.values[name];
 *     if (value === undefined) throw new SecretNotFoundError({ secret: name, backend: "fixed" });
 *     return Promise.resolve({ value, version: "1", stage: "current" });
 *   }
 *   protected doList(prefix: string): Promise<string[]> {
 *     return Promise.resolve(Object.keys(this.values).filter((n) => n.startsWith(prefix)).sort());
 *   }
 *   protected doDescribe(name: string): Promise<SecretMetadata> {
 *     return Promise.resolve({ name, backend: "fixed", versions: [] });
 *   }
 *   protected refuse(operation: string, name: string): Promise<never> {
 *     throw new UnsupportedOperationError(operation, { secret: name, backend: "fixed" });
 *   }
 *   protected doSet(name: string): Promise<never> { return this.refuse("setSecret", name); }
 *   protected doPromote(name: string): Promise<never> { return this.refuse("promote", name); }
 *   protected doDelete(name: string): Promise<never> { return this.refuse("deleteSecret", name); }
 *   protected doDeprecate(name: string): Promise<never> { return this.refuse("deprecateVersion", name); }
 *   protected doDestroy(name: string): Promise<never> { return this.refuse("destroyVersion", name); }
 * }
 *
 * const secrets = new FixedBackend({ "api/token": "tok-0123456789" });
 * if (await secrets.getSecret("api/token") !== "tok-0123456789") throw new Error();
 * const invalid = await secrets.getSecret("../etc").then(() => false, () => true);
 * if (!invalid) throw new Error("the guard refuses an invalid name before the hook runs");
 * await secrets.close();
 * ```
 */
export abstract class SecretManagerBase implements SecretManager {
  /** The backend's short name (`memory`, `vault`, ...), used in errors. */
  readonly #backend: string;
  readonly #deadlineMs: number;
  readonly #log: Logger;
  #closed = false;

  /**
   * `readDeadlineMs`: the overall limit of one read, retries included; `0`
   * (the default for backends that answer from memory) sets none.
   */
  constructor(backend: string, readDeadlineMs = 0) {
    if (!Number.isSafeInteger(readDeadlineMs) || readDeadlineMs < 0) {
      throw new ConfigError(
        `option readDeadlineMs of the ${backend} backend must be a whole number of milliseconds`,
        { backend },
      );
    }
    this.#backend = backend;
    this.#deadlineMs = readDeadlineMs;
    this.#log = keywardLogger("backend", backend);
  }

  /** Throws `ManagerClosedError` when closed (for hooks that check again after an await). */
  protected assertOpen(): void {
    if (this.#closed) throw new ManagerClosedError(this.#backend);
  }

  /** The guard: open, not aborted, and a valid name and version when given. */
  #enter(signal: AbortSignal | undefined, name?: string, version?: string): void {
    this.assertOpen();
    signal?.throwIfAborted();
    if (name !== undefined) validateName(name);
    if (version !== undefined) validateReadOptions(name!, { version });
  }

  /** {@inheritDoc SecretManager.getSecret} */
  async getSecret(name: string, opts: ReadOptions = {}): Promise<string> {
    return (await this.readSecret(name, opts)).value;
  }

  /** {@inheritDoc SecretManager.readSecret} */
  async readSecret(name: string, opts: ReadOptions = {}): Promise<SecretRead> {
    this.#enter(opts.signal, name);
    validateReadOptions(name, opts);
    const ms = this.#deadlineMs;
    // `any` adds no listener to the caller's signal, which thousands of reads may share.
    const deadline = ms ? AbortSignal.timeout(ms) : undefined;
    const signal = deadline && AbortSignal.any(opts.signal ? [opts.signal, deadline] : [deadline]);
    try {
      if (!signal) return await this.doRead(name, opts);
      // The race ends the read at the deadline even if the hook ignores its signal.
      return await Promise.race([
        this.doRead(name, { ...opts, signal }),
        new Promise<never>((_, reject) => {
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        }),
      ]);
    } catch (err) {
      if (deadline?.aborted && !opts.signal?.aborted) {
        throw new SecretAccessError(
          {
            secret: name,
            backend: this.#backend,
            stage: opts.stage,
            version: opts.version,
            cause: err,
          },
          `no answer within the read deadline of ${ms} ms (readDeadlineMs, SECRET_READ_DEADLINE_MS)`,
          "timeout",
        );
      }
      if (err instanceof SecretNotFoundError) {
        this.#log.warn(
          "Secret {secret} not found (stage {stage}, version {version}, field {field})",
          {
            secret: err.secret,
            stage: err.stage ?? null,
            version: err.version ?? null,
            field: err.field ?? null,
            backend: err.backend ?? null,
          },
        );
      }
      throw err;
    }
  }

  /** {@inheritDoc SecretManager.listSecrets} */
  async listSecrets(prefix = "", opts: SignalOptions = {}): Promise<string[]> {
    this.#enter(opts.signal);
    validatePrefix(prefix);
    return await this.doList(prefix, opts);
  }

  /** {@inheritDoc SecretManager.setSecret} */
  async setSecret(
    name: string,
    value: SecretValue,
    opts: WriteOptions = {},
  ): Promise<SecretVersion> {
    this.#enter(opts.signal, name);
    validateWriteOptions(name, opts);
    return await this.doSet(name, normalizeValue(name, value), opts);
  }

  /** {@inheritDoc SecretManager.describeSecret} */
  async describeSecret(name: string, opts: SignalOptions = {}): Promise<SecretMetadata> {
    this.#enter(opts.signal, name);
    return await this.doDescribe(name, opts);
  }

  /** {@inheritDoc SecretManager.promote} */
  async promote(name: string, version: string, opts: SignalOptions = {}): Promise<SecretVersion> {
    this.#enter(opts.signal, name, version);
    return await this.doPromote(name, version, opts);
  }

  /** {@inheritDoc SecretManager.deleteSecret} */
  async deleteSecret(name: string, opts: DeleteOptions = {}): Promise<void> {
    this.#enter(opts.signal, name);
    return await this.doDelete(name, opts);
  }

  /** {@inheritDoc SecretManager.deprecateVersion} */
  async deprecateVersion(name: string, version: string, opts: SignalOptions = {}): Promise<void> {
    this.#enter(opts.signal, name, version);
    return await this.doDeprecate(name, version, opts);
  }

  /** {@inheritDoc SecretManager.destroyVersion} */
  async destroyVersion(name: string, version: string, opts: SignalOptions = {}): Promise<void> {
    this.#enter(opts.signal, name, version);
    return await this.doDestroy(name, version, opts);
  }

  /** {@inheritDoc SecretManager.close} */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.doClose();
  }

  /** Reads a version; `opts` passed the guard (its signal carries the deadline). */
  protected abstract doRead(name: string, opts: ReadOptions): Promise<SecretRead>;
  /** Lists names starting with `prefix` (a valid prefix). */
  protected abstract doList(prefix: string, opts: SignalOptions): Promise<string[]>;
  /** Writes the normalized `fields`. */
  protected abstract doSet(
    name: string,
    fields: Record<string, string>,
    opts: WriteOptions,
  ): Promise<SecretVersion>;
  /** Describes a secret. */
  protected abstract doDescribe(name: string, opts: SignalOptions): Promise<SecretMetadata>;
  /** Promotes a version. */
  protected abstract doPromote(
    name: string,
    version: string,
    opts: SignalOptions,
  ): Promise<SecretVersion>;
  /** Deletes a secret. */
  protected abstract doDelete(name: string, opts: DeleteOptions): Promise<void>;
  /** Marks a version deprecated (refusing `current`). */
  protected abstract doDeprecate(name: string, version: string, opts: SignalOptions): Promise<void>;
  /** Destroys a version (refusing `current`). */
  protected abstract doDestroy(name: string, version: string, opts: SignalOptions): Promise<void>;
  /** Releases resources; runs once, after the manager was marked closed. */
  protected doClose(): Promise<void> {
    return Promise.resolve();
  }
}
