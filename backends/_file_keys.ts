/**
 * The file store's keys: making one, decoding its base64 text, and the key
 * files that hold it. Private to the file backend; the `./file` entry
 * re-exports the public functions.
 *
 * @module
 */

import { platform } from "node:os";
import { dirname, join, resolve } from "node:path";
import { ConfigError } from "../core/errors.ts";
import { fromBase64, toBase64 } from "./_file_format.ts";
import { nodeFsPort } from "./_fs_port.ts";

const BACKEND = "file";
const KEY_BYTES = 32;
const KEY_ENV = "KEYWARD_FILE_KEY";
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const encoder = new TextEncoder();

/**
 * Makes a new file key: the base64 text of 32 random bytes from WebCrypto,
 * the form `KEYWARD_FILE_KEY` and key files hold.
 *
 * @example
 * ```ts
 * import { decodeFileKey, generateFileKey } from "@keyward/secrets/file";
 * const key = generateFileKey();
 * if (decodeFileKey(key).length !== 32) throw new Error();
 * ```
 */
export function generateFileKey(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(KEY_BYTES)));
}

/**
 * Decodes a file key from its base64 text (surrounding whitespace ignored).
 * Anything but the base64 of exactly 32 bytes is a `ConfigError` naming
 * `KEYWARD_FILE_KEY`; the message never repeats the text.
 *
 * @example
 * ```ts
 * import { decodeFileKey } from "@keyward/secrets/file";
 * const key = decodeFileKey("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
 * if (key.length !== 32 || key[31] !== 31) throw new Error();
 * try { decodeFileKey("too-short"); throw new Error("accepted"); } catch (e) {
 *   if ((e as Error).message === "accepted") throw e;
 * }
 * ```
 */
export function decodeFileKey(text: string): Uint8Array {
  return decodeKeyText(text, KEY_ENV);
}

/**
 * Reads a key file. Refuses, with a `ConfigError` saying why, a key file
 * inside a git repository (a `.git` in its directory or any parent) and one
 * that group or others may read or write (`mode & 0o077`, not checked on
 * Windows).
 *
 * @example
 * ```ts
 * import { generateFileKey, readKeyFile, writeKeyFile } from "@keyward/secrets/file";
 *
 * const dir = await Deno.makeTempDir();
 * await writeKeyFile(`${dir}/file.key`, generateFileKey());
 * const key = await readKeyFile(`${dir}/file.key`);
 * if (key.length !== 32) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readKeyFile(path: string): Promise<Uint8Array> {
  const abs = keyPath(path);
  await refuseInsideRepository(abs);
  const st = await nodeFsPort.stat(abs).catch((err) => {
    throw new ConfigError(`the key file ${abs} cannot be read`, { backend: BACKEND, cause: err });
  });
  if (!st) throw new ConfigError(`the key file ${abs} does not exist`, { backend: BACKEND });
  if (st.isDirectory) {
    throw new ConfigError(`the key file ${abs} is a directory`, { backend: BACKEND });
  }
  if (platform() !== "win32" && (st.mode & 0o077) !== 0) {
    throw new ConfigError(
      `the key file ${abs} may be read or written by group or others (mode ${
        (st.mode & 0o777).toString(8).padStart(4, "0")
      }); allow only its owner: chmod 600 ${abs}`,
      { backend: BACKEND },
    );
  }
  let bytes: Uint8Array | undefined;
  try {
    bytes = await nodeFsPort.readFile(abs);
  } catch (err) {
    throw new ConfigError(`the key file ${abs} cannot be read`, { backend: BACKEND, cause: err });
  }
  if (bytes === undefined) {
    throw new ConfigError(`the key file ${abs} does not exist`, { backend: BACKEND });
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = "";
  }
  return decodeKeyText(text, `the key file ${abs}`);
}

/**
 * Writes a key file holding the key's base64 text, created with mode 0600
 * (and its directory with 0700). Refuses to overwrite an existing file (a
 * store encrypted with the old key would become unreadable) and to write
 * inside a git repository.
 *
 * @example
 * ```ts
 * import { generateFileKey, writeKeyFile } from "@keyward/secrets/file";
 *
 * const dir = await Deno.makeTempDir();
 * await writeKeyFile(`${dir}/keys/file.key`, generateFileKey());
 * if (((await Deno.stat(`${dir}/keys/file.key`)).mode! & 0o777) !== 0o600) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeKeyFile(path: string, key: Uint8Array | string): Promise<void> {
  const bytes = keyFromOption(key);
  const abs = keyPath(path);
  await refuseInsideRepository(abs);
  let created: boolean;
  try {
    await nodeFsPort.mkdir(dirname(abs), DIR_MODE);
    created = await nodeFsPort.createExclusive(
      abs,
      encoder.encode(`${toBase64(bytes)}\n`),
      FILE_MODE,
    );
  } catch (err) {
    throw new ConfigError(`the key file ${abs} cannot be written`, {
      backend: BACKEND,
      cause: err,
    });
  }
  if (!created) {
    throw new ConfigError(
      `the key file ${abs} already exists; refusing to overwrite it (a store encrypted with ` +
        "that key would become unreadable)",
      { backend: BACKEND },
    );
  }
}

function keyPath(path: string): string {
  if (typeof path !== "string" || path.trim() === "") {
    throw new ConfigError("a key file path must be a non-empty string", { backend: BACKEND });
  }
  return resolve(path);
}

async function refuseInsideRepository(abs: string): Promise<void> {
  let dir = dirname(abs);
  for (;;) {
    const marker = await nodeFsPort.stat(join(dir, ".git")).catch(() => undefined);
    if (marker) {
      throw new ConfigError(
        `the key file ${abs} is inside the git repository ${dir}; keep it outside any ` +
          "repository, where it cannot be committed by mistake",
        { backend: BACKEND },
      );
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

export function keyFromOption(key: unknown): Uint8Array {
  if (typeof key === "string") return decodeFileKey(key);
  if (key instanceof Uint8Array) {
    if (key.length !== KEY_BYTES) {
      throw new ConfigError(
        `option key of the file backend must be exactly ${KEY_BYTES} bytes, got ${key.length}`,
        { backend: BACKEND },
      );
    }
    return new Uint8Array(key);
  }
  throw new ConfigError(
    `option key of the file backend must be ${KEY_BYTES} bytes or their base64 text (${KEY_ENV})`,
    { backend: BACKEND },
  );
}

function decodeKeyText(text: unknown, source: string): Uint8Array {
  const refuse = () =>
    new ConfigError(
      `${source} must hold the base64 text of exactly ${KEY_BYTES} bytes ` +
        "(generateFileKey() or the CLI's keygen command makes one)",
      { backend: BACKEND },
    );
  if (typeof text !== "string") throw refuse();
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(trimmed)) throw refuse();
  const bytes = fromBase64(trimmed.length === 43 ? `${trimmed}=` : trimmed);
  if (bytes.length !== KEY_BYTES) throw refuse();
  return bytes;
}
