/**
 * A synchronous HMAC-SHA-256 for the audit chain, from `npm:@noble/hashes`
 * (audited, dependency-free).
 *
 * WebCrypto's `subtle.sign` is asynchronous and costs an event-loop turn per
 * call; a hash chain must sign its events one after the other, so WebCrypto
 * caps a chain at roughly 19,000 events per second on the project's machine.
 * This signs in the caller's turn. The verifier (`audit/verify.ts`) checks
 * every MAC with WebCrypto, and a property test checks both agree, so the two
 * implementations watch each other.
 *
 * @module
 */

import { hmac } from "@noble/hashes/hmac.js";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

type HmacState = ReturnType<typeof hmac.create>;

/** A keyed HMAC-SHA-256 with the key's inner and outer pad states precomputed. */
export class Hmac256 {
  readonly #keyed: HmacState;

  /** Prepares the key (any length; longer than a block is hashed first). */
  constructor(key: Uint8Array) {
    this.#keyed = hmac.create(nobleSha256, key);
  }

  /** HMAC-SHA-256 of `data` under the key. */
  sign(data: Uint8Array): Uint8Array {
    // clone() copies the precomputed pad states: no key schedule per call.
    return this.#keyed.clone().update(data).digest();
  }
}

const HEX: string[] = /* @__PURE__ */ Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}
