/**
 * The file store's encryption: AES-256-GCM (WebCrypto) under the store key,
 * a fresh 96-bit random nonce per seal. The raw key bytes are zeroed once
 * WebCrypto holds the key, and on close. Private to the file backend.
 *
 * @module
 */

import { KeywardError } from "../core/errors.ts";
import {
  fromBase64,
  NONCE_BYTES,
  type Sealed,
  TAG_BYTES,
  toArrayBuffer,
  toBase64,
} from "./_file_format.ts";

const encoder = new TextEncoder();

/** Seals and opens blobs under one 32-byte key. */
export class FileCipher {
  readonly #backend: string;
  #keyBytes: Uint8Array | undefined;
  #key: Promise<CryptoKey> | undefined;

  /** Takes ownership of `keyBytes` (a copy the caller made). */
  constructor(keyBytes: Uint8Array, backend: string) {
    this.#keyBytes = keyBytes;
    this.#backend = backend;
  }

  #cryptoKey(): Promise<CryptoKey> {
    if (!this.#key) {
      const bytes = this.#keyBytes;
      if (!bytes) {
        throw new KeywardError("closed", `the ${this.#backend} secret manager is closed`);
      }
      this.#key = crypto.subtle.importKey("raw", toArrayBuffer(bytes), "AES-GCM", false, [
        "encrypt",
        "decrypt",
      ]);
      this.#key.then(() => {
        bytes.fill(0);
        if (this.#keyBytes === bytes) this.#keyBytes = undefined;
      }, () => {});
    }
    return this.#key;
  }

  /** Encrypts `plaintext` with `aad` as additional data. */
  async seal(plaintext: string, aad: Uint8Array): Promise<Sealed> {
    const iv = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: toArrayBuffer(aad), tagLength: TAG_BYTES * 8 },
      await this.#cryptoKey(),
      toArrayBuffer(encoder.encode(plaintext)),
    );
    return { iv: toBase64(iv), ct: toBase64(new Uint8Array(ct)) };
  }

  /** Decrypts a sealed blob; `undefined` when it does not authenticate. */
  async unseal(sealed: Sealed, aad: Uint8Array): Promise<Uint8Array | undefined> {
    try {
      const plain = await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: toArrayBuffer(fromBase64(sealed.iv)),
          additionalData: toArrayBuffer(aad),
          tagLength: TAG_BYTES * 8,
        },
        await this.#cryptoKey(),
        toArrayBuffer(fromBase64(sealed.ct)),
      );
      return new Uint8Array(plain);
    } catch (err) {
      if (err instanceof KeywardError) throw err;
      return undefined;
    }
  }

  /** Zeroes the key bytes and forgets the key; later calls fail as closed. */
  close(): void {
    this.#keyBytes?.fill(0);
    this.#keyBytes = undefined;
    this.#key = undefined;
  }
}
