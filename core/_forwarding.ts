/**
 * The pass-through every wrapper starts from: each method forwards to the
 * wrapped manager unchanged. A wrapper (namespace, redaction, cache, fault
 * injection) overrides only what it changes; the guard runs once, in the
 * backend at the bottom (see `_backend_base.ts`).
 *
 * @module
 */

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
 * A {@linkcode SecretManager} that forwards every call to `inner`; extend it
 * and override what the wrapper changes. It holds no state of its own.
 *
 * @example A wrapper that counts reads and forwards everything else
 * ```ts
 * import {
 *   ForwardingSecretManager,
 *   MemorySecretManager,
 *   type ReadOptions,
 *   type SecretRead,
 * } from "@keyward/secrets";
 *
 * class CountingManager extends ForwardingSecretManager {
 *   reads = 0;
 *   override readSecret(name: string, opts?: ReadOptions): Promise<SecretRead> {
 *     this.reads += 1;
 *     return super.readSecret(name, opts);
 *   }
 *   override async getSecret(name: string, opts?: ReadOptions): Promise<string> {
 *     return (await this.readSecret(name, opts)).value;
 *   }
 * }
 *
 * const counted = new CountingManager(new MemorySecretManager({ initial: { "a/b": "value-0001" } }));
 * await counted.getSecret("a/b");
 * if (counted.reads !== 1 || (await counted.listSecrets()).join() !== "a/b") throw new Error();
 * await counted.close();
 * ```
 */
export class ForwardingSecretManager implements SecretManager {
  /** The wrapped manager. */
  protected readonly inner: SecretManager;

  /** Wraps `inner`. */
  constructor(inner: SecretManager) {
    this.inner = inner;
  }

  /** {@inheritDoc SecretManager.getSecret} */
  getSecret(name: string, opts?: ReadOptions): Promise<string> {
    return this.inner.getSecret(name, opts);
  }

  /** {@inheritDoc SecretManager.readSecret} */
  readSecret(name: string, opts?: ReadOptions): Promise<SecretRead> {
    return this.inner.readSecret(name, opts);
  }

  /** {@inheritDoc SecretManager.listSecrets} */
  listSecrets(prefix?: string, opts?: SignalOptions): Promise<string[]> {
    return this.inner.listSecrets(prefix, opts);
  }

  /** {@inheritDoc SecretManager.setSecret} */
  setSecret(name: string, value: SecretValue, opts?: WriteOptions): Promise<SecretVersion> {
    return this.inner.setSecret(name, value, opts);
  }

  /** {@inheritDoc SecretManager.describeSecret} */
  describeSecret(name: string, opts?: SignalOptions): Promise<SecretMetadata> {
    return this.inner.describeSecret(name, opts);
  }

  /** {@inheritDoc SecretManager.promote} */
  promote(name: string, version: string, opts?: SignalOptions): Promise<SecretVersion> {
    return this.inner.promote(name, version, opts);
  }

  /** {@inheritDoc SecretManager.deleteSecret} */
  deleteSecret(name: string, opts?: DeleteOptions): Promise<void> {
    return this.inner.deleteSecret(name, opts);
  }

  /** {@inheritDoc SecretManager.deprecateVersion} */
  deprecateVersion(name: string, version: string, opts?: SignalOptions): Promise<void> {
    return this.inner.deprecateVersion(name, version, opts);
  }

  /** {@inheritDoc SecretManager.destroyVersion} */
  destroyVersion(name: string, version: string, opts?: SignalOptions): Promise<void> {
    return this.inner.destroyVersion(name, version, opts);
  }

  /** {@inheritDoc SecretManager.close} */
  close(): Promise<void> {
    return this.inner.close();
  }
}
