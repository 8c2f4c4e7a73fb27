/**
 * Reading standard input: strictly as UTF-8 where a value is read, leniently
 * where text is only searched.
 *
 * @module
 */

import type { CliIo } from "./_io.ts";

/**
 * The offset of the first byte that does not belong to a well-formed UTF-8
 * sequence (a stray byte, an overlong or surrogate encoding, a sequence cut
 * short), or -1 when every byte does.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || c < lo || c > hi) return i;
      lo = 0x80;
      hi = 0xbf;
    }
    i += need + 1;
  }
  return -1;
}

/** Standard input could not be decoded; `offset` is the first bad byte (from 0). */
export class InvalidUtf8Error extends Error {
  /** The offset of the first byte that is not UTF-8. */
  readonly offset: number;
  /** Builds the error; the message names the offset only, never the bytes. */
  constructor(offset: number) {
    super(`standard input is not valid UTF-8 at byte ${offset}`);
    this.name = "InvalidUtf8Error";
    this.offset = offset;
  }
}

/** All of standard input as text; throws {@linkcode InvalidUtf8Error} on bytes that are not UTF-8. */
export async function readStdinStrict(io: CliIo): Promise<string> {
  const raw = await io.readStdin();
  if (typeof raw === "string") return raw;
  const offset = invalidUtf8Offset(raw);
  if (offset >= 0) throw new InvalidUtf8Error(offset);
  return new TextDecoder("utf-8", { fatal: true }).decode(raw);
}

/** All of standard input as text, bytes that are not UTF-8 read as U+FFFD (for searching). */
export async function readStdinLenient(io: CliIo): Promise<string> {
  const raw = await io.readStdin();
  return typeof raw === "string" ? raw : new TextDecoder().decode(raw);
}
