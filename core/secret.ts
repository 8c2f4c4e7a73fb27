/**
 * `Secret`: the wrapper application code keeps values in.
 *
 * @module
 */

const REDACTED = "[REDACTED]";

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

  /** Deno's `console.log` and `Deno.inspect`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Secret ${REDACTED}`;
  }

  /** Node's `console.log` and `util.inspect`. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Secret ${REDACTED}`;
  }

  /** A short, non-reversible fingerprint (first 8 hex digits of SHA-256) for logs and health checks. */
  fingerprint(): Promise<string> {
    return fingerprint(this.#value);
  }
}

/**
 * The first 8 hex digits of the SHA-256 of a value: enough to tell two
 * credentials apart in a report, far too little to recover either.
 *
 * @example
 * ```ts
 * import { fingerprint } from "@keyward/secrets";
 * const fp = await fingerprint("example-value-123");
 * if (!/^[0-9a-f]{8}$/.test(fp)) throw new Error();
 * ```
 */
export async function fingerprint(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return Array.from(new Uint8Array(digest).slice(0, 4), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}
