/**
 * `withNamespace`: prefixes every name on the way in and strips it on the
 * way out, so one backend can hold `prod/...` and `staging/...` apart.
 *
 * @module
 */

import { InvalidSecretNameError } from "./errors.ts";
import { MAX_NAME_LENGTH, nameProblem, validateName, validatePrefix } from "./names.ts";
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
 * Wraps `manager` so that every name lives under `namespace/`. Listing never
 * returns a name outside the namespace. The 512-character limit counts the
 * namespace.
 *
 * @example
 * ```ts
 * import { MemorySecretManager, withNamespace } from "@keyward/secrets";
 *
 * const backend = new MemorySecretManager();
 * const prod = withNamespace(backend, "prod");
 * await prod.setSecret("db/password", "prod-password-1");
 * if ((await backend.listSecrets())[0] !== "prod/db/password") throw new Error();
 * if ((await prod.listSecrets())[0] !== "db/password") throw new Error();
 * ```
 */
export function withNamespace(manager: SecretManager, namespace: string): SecretManager {
  const problem = nameProblem(namespace);
  if (problem !== undefined) {
    throw new InvalidSecretNameError(namespace, `invalid namespace: ${problem}`);
  }
  return new NamespacedManager(manager, namespace);
}

class NamespacedManager implements SecretManager {
  readonly #inner: SecretManager;
  readonly #prefix: string;

  constructor(inner: SecretManager, namespace: string) {
    this.#inner = inner;
    this.#prefix = `${namespace}/`;
  }

  #in(name: string): string {
    validateName(name);
    const full = this.#prefix + name;
    if (full.length > MAX_NAME_LENGTH) {
      throw new InvalidSecretNameError(
        name,
        `with its namespace the name is ${full.length} characters; the limit is ${MAX_NAME_LENGTH}`,
      );
    }
    return full;
  }

  #version(v: SecretVersion): SecretVersion {
    return { ...v, name: this.#strip(v.name) };
  }

  #strip(full: string): string {
    return full.startsWith(this.#prefix) ? full.slice(this.#prefix.length) : full;
  }

  async getSecret(name: string, opts?: ReadOptions): Promise<string> {
    return await this.#inner.getSecret(this.#in(name), opts);
  }

  async readSecret(name: string, opts?: ReadOptions): Promise<SecretRead> {
    return await this.#inner.readSecret(this.#in(name), opts);
  }

  async deprecateVersion(name: string, version: string, opts?: SignalOptions): Promise<void> {
    await this.#inner.deprecateVersion(this.#in(name), version, opts);
  }

  async destroyVersion(name: string, version: string, opts?: SignalOptions): Promise<void> {
    await this.#inner.destroyVersion(this.#in(name), version, opts);
  }

  async listSecrets(prefix = "", opts?: SignalOptions): Promise<string[]> {
    validatePrefix(prefix);
    const names = await this.#inner.listSecrets(this.#prefix + prefix, opts);
    return names.filter((n) => n.startsWith(this.#prefix + prefix)).map((n) => this.#strip(n));
  }

  async setSecret(name: string, value: SecretValue, opts?: WriteOptions): Promise<SecretVersion> {
    return this.#version(await this.#inner.setSecret(this.#in(name), value, opts));
  }

  async describeSecret(name: string, opts?: SignalOptions): Promise<SecretMetadata> {
    const meta = await this.#inner.describeSecret(this.#in(name), opts);
    return { ...meta, name, versions: meta.versions.map((v) => this.#version(v)) };
  }

  async promote(name: string, version: string, opts?: SignalOptions): Promise<SecretVersion> {
    return this.#version(await this.#inner.promote(this.#in(name), version, opts));
  }

  async deleteSecret(name: string, opts?: DeleteOptions): Promise<void> {
    await this.#inner.deleteSecret(this.#in(name), opts);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
