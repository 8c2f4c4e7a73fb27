/**
 * `Secret`: the wrapper application code keeps values in.
 *
 * @module
 */

const REDACTED = "[REDACTED]";

let inspectInstalled = false;

/**
 * Gives `Secret` the inspection hooks of Deno (`console.log`, `Deno.inspect`)
 * and Node (`util.inspect`): `Secret [REDACTED]`. Installed when the first
 * `Secret` is made, not in the class body: computed `Symbol.for()` keys there
 * would keep the class in every bundle, used or not.
 */
function installInspect(): void {
  inspectInstalled = true;
  const inspect = { value: () => `Secret ${REDACTED}`, configurable: true };
  Object.defineProperty(Secret.prototype, Symbol.for("Deno.customInspect"), inspect);
  Object.defineProperty(Secret.prototype, Symbol.for("nodejs.util.inspect.custom"), inspect);
}

/**
 * Holds a secret value so that printing, logging or serialising it shows
 * `[REDACTED]`. Only {@linkcode Secret.reveal} returns the value.
 *
 * @example Keeping a credential in a settings object
 * ```ts
 * import { Secret } from "@keyward/secrets";
 *
 * const settings = { apiKey: new Secret("sk-live-canary-0001") };
 * if (JSON.stringify(settings) !== '{"apiKey":"[REDACTED]"}') throw new Error();
 * if (String(settings.apiKey) !== "[REDACTED]") throw new Error();
 * if (settings.apiKey.reveal() !== "sk-live-canary-0001") throw new Error();
 * ```
 */
export class Secret {
  readonly #value: string;

  /** Wraps a value. */
  constructor(value: string) {
    this.#value = value;
    if (!inspectInstalled) installInspect();
  }

  /** Returns the value itself: call it only where the value is used. */
  reveal(): string {
    return this.#value;
  }

  /** Always `[REDACTED]`. */
  toString(): string {
    return REDACTED;
  }

  /** Always `[REDACTED]`, so `JSON.stringify` never shows the value. */
  toJSON(): string {
    return REDACTED;
  }

  /** Template literals and `+` give `[REDACTED]` too. */
  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  /**
   * A short keyed fingerprint of the value (8 hex digits of an HMAC-SHA-256),
   * to tell two values apart in a log or a health check. See
   * {@linkcode fingerprint}: equal values compare equal within one process
   * (or under one `key`), and the fingerprint cannot be checked against
   * guessed values without that key.
   */
  fingerprint(options?: FingerprintOptions): Promise<string> {
    return fingerprint(this.#value, options);
  }
}

/**
 * Options of {@linkcode fingerprint}.
 *
 * @example Fingerprints that compare equal across processes sharing one key
 * ```ts
 * import { fingerprint, type FingerprintOptions } from "@keyward/secrets";
 *
 * // A key kept where the values are kept (never beside the fingerprints).
 * const options: FingerprintOptions = { key: crypto.getRandomValues(new Uint8Array(32)) };
 * const a = await fingerprint("example-value-123", options);
 * if (a !== await fingerprint("example-value-123", options)) throw new Error();
 * ```
 */
export interface FingerprintOptions {
  /**
   * The HMAC key: raw bytes (at least 32) or a WebCrypto HMAC-SHA-256 key.
   * @default {a random key made once per process, which never leaves it}
   */
  key?: Uint8Array | CryptoKey;
}

let processKey: Promise<CryptoKey> | undefined;

async function hmacKey(key: Uint8Array | CryptoKey | undefined): Promise<CryptoKey> {
  if (key === undefined) {
    processKey ??= crypto.subtle.generateKey(
      { name: "HMAC", hash: "SHA-256", length: 256 },
      false,
      [
        "sign",
      ],
    ) as Promise<CryptoKey>;
    return await processKey;
  }
  if (!(key instanceof Uint8Array)) return key;
  if (key.length < 32) {
    throw new RangeError(`a fingerprint key must hold at least 32 bytes (it holds ${key.length})`);
  }
  return await crypto.subtle.importKey(
    "raw",
    key.slice(),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
}

/**
 * A keyed fingerprint of a value: the first 8 hex digits of its
 * HMAC-SHA-256 under a key that never leaves the process (or the `key`
 * given). Equal values give equal fingerprints within one process (or under
 * one key), so a report can tell two credentials apart or show that two
 * places hold the same one; without the key, a fingerprint cannot be
 * checked against a dictionary of guessed values (an unkeyed hash of a weak
 * password can).
 *
 * @example
 * ```ts
 * import { fingerprint } from "@keyward/secrets";
 * const fp = await fingerprint("example-value-123");
 * if (!/^[0-9a-f]{8}$/.test(fp)) throw new Error();
 * if (fp !== await fingerprint("example-value-123")) throw new Error("stable within the process");
 * ```
 */
export async function fingerprint(
  value: string,
  options: FingerprintOptions = {},
): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(options.key),
    new TextEncoder().encode(value),
  );
  return Array.from(new Uint8Array(mac).slice(0, 4), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}
