/**
 * The snapshot's wire format: `KWSNAP` + format byte, a fresh 96-bit nonce,
 * then AES-256-GCM ciphertext of a JSON document, with the 8-byte header as
 * additional authenticated data. WebCrypto only.
 *
 * @module
 */

import { encodeBase64, encodeBase64Url } from "../core/base64.ts";
import { ConfigError, SecretAccessError } from "../core/errors.ts";
import type { SnapshotEntry } from "./snapshot.ts";

/** The 8-byte header: "KWSNAP", a zero byte, the format version. */
export const SNAPSHOT_MAGIC: Uint8Array = /* @__PURE__ */ new Uint8Array([
  0x4b,
  0x57,
  0x53,
  0x4e,
  0x41,
  0x50,
  0x00,
  0x01,
]);
const NONCE_BYTES = 12;
const CTX = { backend: "snapshot" };

/** Throws {@linkcode ConfigError} unless `key` is 32 bytes and not trivially weak. */
export function checkSnapshotKey(key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    throw new ConfigError(
      "option snapshot.key (KEYWARD_SNAPSHOT_KEY) must be 32 bytes (base64 of 32 random bytes)",
    );
  }
  if (key.every((b) => b === key[0])) {
    throw new ConfigError(
      "option snapshot.key (KEYWARD_SNAPSHOT_KEY) is a repeated byte; use 32 random bytes",
    );
  }
}

/** Imports the raw key for AES-GCM; the CryptoKey is not extractable. */
export function importSnapshotKey(raw: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
}

/** Encrypts `entries` into the snapshot format, with a fresh nonce. */
export async function sealSnapshot(
  key: CryptoKey,
  entries: SnapshotEntry[],
  savedAt: number,
): Promise<Uint8Array> {
  const plain = new TextEncoder().encode(JSON.stringify({ savedAt, entries }));
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: SNAPSHOT_MAGIC as Uint8Array<ArrayBuffer> },
      key,
      plain,
    ),
  );
  plain.fill(0);
  const out = new Uint8Array(SNAPSHOT_MAGIC.length + NONCE_BYTES + sealed.length);
  out.set(SNAPSHOT_MAGIC, 0);
  out.set(nonce, SNAPSHOT_MAGIC.length);
  out.set(sealed, SNAPSHOT_MAGIC.length + NONCE_BYTES);
  return out;
}

/**
 * Decrypts a snapshot. Throws {@linkcode SecretAccessError} (`damaged` for a
 * foreign or altered file, `key` for a wrong key or a key stored inside the
 * snapshot itself).
 */
export async function openSnapshot(
  key: CryptoKey,
  rawKey: Uint8Array,
  data: Uint8Array,
): Promise<{ savedAt: number; entries: SnapshotEntry[] }> {
  if (holdsKey(data, rawKey)) {
    throw new SecretAccessError(
      CTX,
      "the snapshot holds its own key; a snapshot must never be keyed by a key stored beside it",
      "key",
    );
  }
  const head = SNAPSHOT_MAGIC.length + NONCE_BYTES;
  if (data.length < head + 16 || !SNAPSHOT_MAGIC.every((b, i) => data[i] === b)) {
    throw new SecretAccessError(CTX, "not a keyward snapshot (bad header)", "damaged");
  }
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(
      await crypto.subtle.decrypt(
        {
          name: "AES-GCM",
          iv: data.subarray(SNAPSHOT_MAGIC.length, head) as Uint8Array<ArrayBuffer>,
          additionalData: SNAPSHOT_MAGIC as Uint8Array<ArrayBuffer>,
        },
        key,
        data.subarray(head) as Uint8Array<ArrayBuffer>,
      ),
    );
  } catch (err) {
    throw new SecretAccessError(
      { ...CTX, cause: err },
      "the snapshot cannot be decrypted (wrong KEYWARD_SNAPSHOT_KEY or altered file)",
      "key",
    );
  }
  try {
    const doc = JSON.parse(new TextDecoder().decode(plain)) as {
      savedAt?: unknown;
      entries?: unknown;
    };
    plain.fill(0);
    if (typeof doc.savedAt !== "number" || !Array.isArray(doc.entries)) throw new TypeError();
    const entries = (doc.entries as unknown[]).filter(isEntry);
    return { savedAt: doc.savedAt, entries };
  } catch (err) {
    throw new SecretAccessError(
      { ...CTX, cause: err },
      "the snapshot's content is malformed",
      "damaged",
    );
  }
}

function isEntry(e: unknown): e is SnapshotEntry {
  if (typeof e !== "object" || e === null) return false;
  const r = e as Record<string, unknown>;
  return typeof r.name === "string" && typeof r.value === "string" &&
    typeof r.expiresAt === "number" &&
    (r.stage === undefined || r.stage === "current" || r.stage === "pending" ||
      r.stage === "previous") &&
    (r.version === undefined || typeof r.version === "string") &&
    (r.field === undefined || typeof r.field === "string") &&
    (r.served === undefined || isServed(r.served));
}

function isServed(s: unknown): boolean {
  if (typeof s !== "object" || s === null) return false;
  const r = s as Record<string, unknown>;
  return typeof r.version === "string" &&
    (r.stage === undefined || r.stage === "current" || r.stage === "pending" ||
      r.stage === "previous");
}

/** True when the raw key, or its base64 text, appears inside `data`. */
function holdsKey(data: Uint8Array, rawKey: Uint8Array): boolean {
  const text = binaryString(data);
  const raw = binaryString(rawKey);
  const b64 = encodeBase64(rawKey);
  const b64url = encodeBase64Url(rawKey);
  return text.includes(raw) || text.includes(b64.replace(/=+$/, "")) || text.includes(b64url);
}

function binaryString(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    out += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return out;
}
