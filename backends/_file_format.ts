/**
 * The file store's on-disk format: the JSON document, its parser (which
 * refuses anything that is not a sound store) and the additional data that
 * binds each ciphertext to its place. Private to the file backend.
 *
 * @module
 */

import { decodeBase64 as fromBase64, encodeBase64 as toBase64 } from "../core/base64.ts";
import type { StoredSecret, StoredVersion } from "../core/_versioned_store.ts";
import { nameProblem } from "../core/names.ts";
import type { Stage } from "../core/types.ts";

/** The `format` field every store carries. */
export const FORMAT = "keyward-file-store";
/** The format version this code reads and writes. */
export const FORMAT_VERSION = 1;
/** The one cipher of format version 1. */
export const CIPHER = "AES-256-GCM";
/** AES-GCM nonce length. */
export const NONCE_BYTES = 12;
/** AES-GCM tag length. */
export const TAG_BYTES = 16;
/** The plaintext of the key-check entry. */
export const KEY_CHECK_TEXT = "keyward key check";

const encoder = new TextEncoder();

/** One sealed (encrypted) blob: base64 nonce and base64 ciphertext with its tag. */
export interface Sealed {
  iv: string;
  ct: string;
}

/** The parsed store. */
export interface StoreDoc {
  /** Absent only while the store file does not exist yet. */
  keyCheck?: Sealed;
  secrets: Map<string, StoredSecret<Sealed>>;
}

/** Raised inside the backend when the file's content is not a sound store. */
export class Damaged extends Error {}

/** The additional data of one version's ciphertext. */
export function versionAad(name: string, version: string): Uint8Array {
  return encoder.encode(`${FORMAT}/${FORMAT_VERSION}\nsecret\n${name}\nversion\n${version}`);
}

/** The additional data of the key-check entry. */
export function keyCheckAad(): Uint8Array {
  return encoder.encode(`${FORMAT}/${FORMAT_VERSION}\nkey-check`);
}

/** The store as the text written to disk (names sorted, one trailing newline). */
export function serializeStore(doc: StoreDoc): string {
  const secrets: Record<string, StoredSecret<Sealed>> = {};
  for (const name of [...doc.secrets.keys()].sort()) {
    Object.defineProperty(secrets, name, {
      value: doc.secrets.get(name),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return `${
    JSON.stringify({
      format: FORMAT,
      version: FORMAT_VERSION,
      cipher: CIPHER,
      keyCheck: doc.keyCheck,
      secrets,
    })
  }\n`;
}

/** Parses the store's bytes; throws {@linkcode Damaged} saying what is wrong (never a value). */
export function parseStore(bytes: Uint8Array): StoreDoc {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Damaged("it is not UTF-8 text");
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Damaged("it is not complete JSON (truncated or overwritten?)");
  }
  if (!isRecord(raw) || raw.format !== FORMAT) {
    throw new Damaged(`it is not a keyward file store (no "format": "${FORMAT}")`);
  }
  if (raw.version !== FORMAT_VERSION) {
    const shown = typeof raw.version === "number" && Number.isInteger(raw.version)
      ? String(raw.version)
      : "unknown";
    throw new Damaged(
      `its format version ${shown} is not one this keyward reads (${FORMAT_VERSION})`,
    );
  }
  if (raw.cipher !== CIPHER) throw new Damaged(`its cipher is not ${CIPHER}`);
  const keyCheck = parseSealed(raw.keyCheck, "the key check");
  if (!isRecord(raw.secrets)) throw new Damaged("it has no secrets table");
  const secrets = new Map<string, StoredSecret<Sealed>>();
  for (const [name, rec] of Object.entries(raw.secrets)) {
    if (nameProblem(name) !== undefined) throw new Damaged("it holds an invalid secret name");
    secrets.set(name, parseSecret(rec, name));
  }
  return { keyCheck, secrets };
}

function parseSecret(raw: unknown, name: string): StoredSecret<Sealed> {
  const where = `the entry of secret ${JSON.stringify(name)}`;
  if (
    !isRecord(raw) || !isTime(raw.createdAt) || !isTime(raw.updatedAt) ||
    !Number.isSafeInteger(raw.nextVersion) || (raw.nextVersion as number) < 1 ||
    !isRecord(raw.stages) || !isRecord(raw.versions) ||
    (raw.deprecatedAt !== undefined && !isTime(raw.deprecatedAt))
  ) {
    throw new Damaged(`${where} is malformed`);
  }
  const nextVersion = raw.nextVersion as number;
  const versions: Record<string, StoredVersion<Sealed>> = Object.create(null);
  for (const [id, entry] of Object.entries(raw.versions)) {
    if (!/^[1-9][0-9]{0,15}$/.test(id) || Number(id) >= nextVersion) {
      throw new Damaged(`${where} has an invalid version id`);
    }
    if (
      !isRecord(entry) || !isTime(entry.createdAt) ||
      (entry.deprecatedAt !== undefined && !isTime(entry.deprecatedAt))
    ) {
      throw new Damaged(`${where} has a malformed version`);
    }
    const version: StoredVersion<Sealed> = {
      createdAt: entry.createdAt,
      data: parseSealed(entry.data, where),
    };
    if (entry.deprecatedAt !== undefined) version.deprecatedAt = entry.deprecatedAt;
    versions[id] = version;
  }
  const stages: Partial<Record<Stage, string>> = Object.create(null);
  for (const [stage, id] of Object.entries(raw.stages)) {
    if (stage !== "current" && stage !== "pending" && stage !== "previous") {
      throw new Damaged(`${where} has an unknown stage`);
    }
    if (typeof id !== "string" || !Object.hasOwn(versions, id)) {
      throw new Damaged(`${where} labels a version it does not hold`);
    }
    stages[stage] = id;
  }
  const rec: StoredSecret<Sealed> = {
    createdAt: raw.createdAt as number,
    updatedAt: raw.updatedAt as number,
    nextVersion,
    stages,
    versions,
  };
  if (raw.deprecatedAt !== undefined) rec.deprecatedAt = raw.deprecatedAt as number;
  return rec;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function parseSealed(raw: unknown, where: string): Sealed {
  if (
    !isRecord(raw) || typeof raw.iv !== "string" || typeof raw.ct !== "string" ||
    !BASE64.test(raw.iv) || !BASE64.test(raw.ct) ||
    fromBase64(raw.iv).length !== NONCE_BYTES || fromBase64(raw.ct).length < TAG_BYTES
  ) {
    throw new Damaged(`${where} has a malformed ciphertext`);
  }
  return { iv: raw.iv, ct: raw.ct };
}

/** A version's decrypted fields, or `undefined` when they are not a non-empty string map. */
export function parseFields(plain: Uint8Array): Record<string, string> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plain));
  } catch {
    return undefined; // the parser's message may quote the value: never kept
  }
  if (!isRecord(parsed)) return undefined;
  const fields: Record<string, string> = Object.create(null);
  const keys = Object.keys(parsed);
  if (keys.length === 0) return undefined;
  for (const key of keys) {
    const value = parsed[key];
    if (typeof value !== "string") return undefined;
    fields[key] = value;
  }
  return fields;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** The bytes as a fresh `ArrayBuffer` (WebCrypto's argument type). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** Standard base64 with padding (the one helper in `core/base64.ts`). */
export { fromBase64, toBase64 };
