/**
 * Base64 (RFC 4648) with web standards only (`btoa`/`atob`), for bytes of any
 * length: the one implementation every part of keyward uses.
 *
 * @module
 */

const encoder = /* @__PURE__ */ new TextEncoder();
/** Bytes per `String.fromCharCode` call: below every engine's argument limit. */
const CHUNK = 0x8000;

/**
 * The base64 text of `data` (a string is encoded as UTF-8 first), padded with `=`.
 *
 * @example
 * ```ts
 * import { encodeBase64 } from "./base64.ts";
 *
 * if (encodeBase64(new Uint8Array([0xfb, 0xff])) !== "+/8=") throw new Error();
 * if (encodeBase64("é") !== "w6k=") throw new Error();
 * ```
 */
export function encodeBase64(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/**
 * The URL-safe base64 text of `data` (`-` and `_` for `+` and `/`), without padding.
 *
 * @example
 * ```ts
 * import { encodeBase64Url } from "./base64.ts";
 *
 * if (encodeBase64Url(new Uint8Array([0xfb, 0xff])) !== "-_8") throw new Error();
 * ```
 */
export function encodeBase64Url(data: Uint8Array | string): string {
  return encodeBase64(data).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * The bytes of base64 text, read as `atob` reads it (ASCII whitespace is
 * skipped, the `=` padding may be left out). Throws a `TypeError` for text
 * that is not base64; the message does not quote the text.
 *
 * @example
 * ```ts
 * import { decodeBase64 } from "./base64.ts";
 *
 * const bytes = decodeBase64("+/8=");
 * if (bytes.length !== 2 || bytes[0] !== 0xfb || bytes[1] !== 0xff) throw new Error();
 * ```
 */
export function decodeBase64(text: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new TypeError("the text is not valid base64");
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}
