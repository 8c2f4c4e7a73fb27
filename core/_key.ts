/**
 * The one decoder of 32-byte keys given as base64 text: the file store's key
 * (`KEYWARD_FILE_KEY`, key files), the snapshot key (`KEYWARD_SNAPSHOT_KEY`)
 * and the audit key (`KEYWARD_AUDIT_KEY`, which may be longer).
 *
 * One rule for every key: surrounding whitespace is ignored; the rest must
 * be standard base64 (`A-Z a-z 0-9 + /`, no inner whitespace), with its `=`
 * padding optional but correct when present; it must decode to exactly 32
 * bytes (at least 32 where `atLeast` is set). A refusal is a `ConfigError`
 * naming the source and the rule, never the text. Web-standard (no I/O).
 *
 * @module
 */

import { decodeBase64 } from "./base64.ts";
import { ConfigError, type ErrorContext } from "./errors.ts";

/** The length of every key keyward makes, in bytes. */
export const KEY_BYTES = 32;

/** How to name a key in a refusal, and how long it may be. */
export interface KeyDecodeOptions {
  /** Names the key in the message, e.g. `KEYWARD_FILE_KEY` or `the key file /run/k`. */
  source: string;
  /** Accept keys longer than 32 bytes (the audit key). @default {false} */
  atLeast?: boolean;
  /** Appended to the message: how to make a good key. */
  hint?: string;
  /** The error's context (for example `{ backend: "file" }`). */
  context?: ErrorContext;
}

const SHAPE = /^([A-Za-z0-9+/]*)(={0,2})$/;

/**
 * Decodes a key's base64 text under the one rule above.
 *
 * @example
 * ```ts ignore
 * const key = decodeKey(btoa("k".repeat(32)), { source: "KEYWARD_SNAPSHOT_KEY" });
 * ```
 */
export function decodeKey(text: unknown, opts: KeyDecodeOptions): Uint8Array {
  const size = opts.atLeast ? `at least ${KEY_BYTES}` : `exactly ${KEY_BYTES}`;
  const hint = opts.hint ? ` (${opts.hint})` : "";
  const refuse = (why: string) =>
    new ConfigError(
      `${opts.source} ${why}: it must be the base64 text of ${size} bytes${hint}`,
      opts.context ?? {},
    );
  if (typeof text !== "string") throw refuse("is not text");
  const shape = SHAPE.exec(text.trim());
  if (shape === null) throw refuse("is not valid base64");
  const [, body, pad] = shape;
  const rest = body.length % 4;
  if (body.length === 0 || rest === 1 || (pad !== "" && (rest + pad.length) % 4 !== 0)) {
    throw refuse("is not valid base64");
  }
  const bytes = decodeBase64(body + "=".repeat((4 - rest) % 4));
  if (opts.atLeast ? bytes.length < KEY_BYTES : bytes.length !== KEY_BYTES) {
    const n = bytes.length;
    bytes.fill(0);
    throw refuse(`holds ${n} bytes`);
  }
  return bytes;
}
