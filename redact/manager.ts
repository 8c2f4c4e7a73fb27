/**
 * `withRedaction`: a wrapper that feeds a {@linkcode Redactor} with every
 * value a manager returns or writes.
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
} from "../core/types.ts";
import { sortFields, VALUE_FIELD } from "../core/names.ts";
import type { Redactor } from "./redactor.ts";

/**
 * A {@linkcode SecretManager} that registers every value it returns or
 * writes with a {@linkcode Redactor} and forgets the values of secrets
 * deleted through it. Built by {@linkcode withRedaction}.
 *
 * @example Writes are registered before they happen; deletes forget
 * ```ts
 * import { MemorySecretManager, RedactingSecretManager, Redactor } from "@keyward/secrets";
 *
 * const secrets = new RedactingSecretManager(new MemorySecretManager(), new Redactor());
 * await secrets.setSecret("db/login", { user: "app", password: "pw-0123456789" });
 * const line = "login app:pw-0123456789 refused";
 * if (secrets.redactor.redact(line) !== "login app:[REDACTED:db/login] refused") throw new Error();
 * await secrets.deleteSecret("db/login");
 * if (secrets.redactor.has("db/login") || secrets.redactor.redact(line) !== line) {
 *   throw new Error("a deleted secret's value is still masked");
 * }
 * ```
 */
export class RedactingSecretManager implements SecretManager {
  /** The redactor the values go to. */
  readonly redactor: Redactor;
  readonly #inner: SecretManager;

  /** Wraps `inner`. */
  constructor(inner: SecretManager, redactor: Redactor) {
    this.#inner = inner;
    this.redactor = redactor;
  }

  /**
   * Reads through the wrapped manager and registers the value; without
   * `field`, a multi-field secret's JSON text and each of its fields.
   */
  async getSecret(name: string, opts?: ReadOptions): Promise<string> {
    const value = await this.#inner.getSecret(name, opts);
    this.redactor.register(name, value);
    if (opts?.field === undefined) {
      for (const field of jsonFields(value)) this.redactor.register(name, field);
    }
    return value;
  }

  /** Reads through the wrapped manager and registers the value, as {@linkcode getSecret} does. */
  async readSecret(name: string, opts?: ReadOptions): Promise<SecretRead> {
    const read = await this.#inner.readSecret(name, opts);
    this.redactor.register(name, read.value);
    if (opts?.field === undefined) {
      for (const field of jsonFields(read.value)) this.redactor.register(name, field);
    }
    return read;
  }

  /** Passes through (the redactor keeps the version's values: they may still be in logs). */
  deprecateVersion(name: string, version: string, opts?: SignalOptions): Promise<void> {
    return this.#inner.deprecateVersion(name, version, opts);
  }

  /** Passes through (the redactor keeps the version's values: they may still be in logs). */
  destroyVersion(name: string, version: string, opts?: SignalOptions): Promise<void> {
    return this.#inner.destroyVersion(name, version, opts);
  }

  /** Passes through (names are not secret). */
  listSecrets(prefix?: string, opts?: SignalOptions): Promise<string[]> {
    return this.#inner.listSecrets(prefix, opts);
  }

  /**
   * Registers the value (each field and the JSON text of a field record)
   * before writing, so that even an error raised by the write is redacted.
   */
  setSecret(name: string, value: SecretValue, opts?: WriteOptions): Promise<SecretVersion> {
    if (typeof value === "string") {
      this.redactor.register(name, value);
    } else if (typeof value === "object" && value !== null) {
      const strings = Object.entries(value).filter((e): e is [string, string] =>
        typeof e[1] === "string"
      );
      for (const [, field] of strings) this.redactor.register(name, field);
      const record = Object.fromEntries(strings);
      this.redactor.register(name, JSON.stringify(record));
      const keys = Object.keys(record);
      if (!(keys.length === 1 && keys[0] === VALUE_FIELD)) {
        this.redactor.register(name, JSON.stringify(sortFields(record)));
      }
    }
    return this.#inner.setSecret(name, value, opts);
  }

  /** Passes through (metadata holds no value). */
  describeSecret(name: string, opts?: SignalOptions): Promise<SecretMetadata> {
    return this.#inner.describeSecret(name, opts);
  }

  /** Passes through. */
  promote(name: string, version: string, opts?: SignalOptions): Promise<SecretVersion> {
    return this.#inner.promote(name, version, opts);
  }

  /** Deletes, then forgets the secret's values. */
  async deleteSecret(name: string, opts?: DeleteOptions): Promise<void> {
    await this.#inner.deleteSecret(name, opts);
    this.redactor.forget(name);
  }

  /** Closes the wrapped manager; the redactor keeps its values. */
  close(): Promise<void> {
    return this.#inner.close();
  }
}

/** The string fields of a JSON object text, or nothing. */
function jsonFields(text: string): string[] {
  if (!text.startsWith("{")) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return [];
    return Object.values(parsed).filter((v): v is string => typeof v === "string");
  } catch {
    return [];
  }
}

/**
 * Wraps `manager` so that every value it returns or writes is registered
 * with `redactor` (current, pending, previous, each field of a field
 * secret), and a secret deleted through the wrapper is forgotten.
 *
 * @example Masking a value the service read
 * ```ts
 * import { MemorySecretManager, Redactor, withRedaction } from "@keyward/secrets";
 *
 * const redactor = new Redactor();
 * const secrets = withRedaction(
 *   new MemorySecretManager({ initial: { "db/login": { user: "app", password: "pw-0123456789" } } }),
 *   redactor,
 * );
 * await secrets.getSecret("db/login");
 * if (redactor.redact("password=pw-0123456789") !== "password=[REDACTED:db/login]") throw new Error();
 * ```
 */
export function withRedaction(manager: SecretManager, redactor: Redactor): RedactingSecretManager {
  return new RedactingSecretManager(manager, redactor);
}
