/**
 * Keys and key files: making a file key, decoding one, and the ONE key-file
 * reader every key goes through (the file store's `KEYWARD_FILE_KEY_FILE`,
 * the cache's `KEYWARD_SNAPSHOT_KEY_FILE`, and any later key read from a
 * file), with one set of checks:
 *
 * - the path is resolved first (every symlink followed), and the checks
 *   apply to the file actually read;
 * - the resolved file lies outside any git repository (no `.git` in its
 *   directory or any parent);
 * - it is a regular file only its owner may read or write (no group or
 *   other bits: 0600 or 0400; not checked on Windows);
 * - it holds the base64 text of the key, decoded by `core/_key.ts`.
 *
 * Runs on `node:fs/promises` (Deno and Node). Private: the `./file` entry
 * re-exports the public functions.
 *
 * @module
 */

import { constants, type FileHandle, mkdir, open, realpath, stat } from "node:fs/promises";
import { platform } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { decodeKey, KEY_BYTES } from "../core/_key.ts";
import { ConfigError } from "../core/errors.ts";
import { toBase64 } from "./_file_format.ts";

const BACKEND = "file";
const KEY_ENV = "KEYWARD_FILE_KEY";
const KEYGEN_HINT = "generateFileKey() or the CLI's keygen command makes one";
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
 * Decodes a file key from its base64 text (surrounding whitespace ignored,
 * padding optional). Anything but the base64 of exactly 32 bytes is a
 * `ConfigError` naming `KEYWARD_FILE_KEY`; the message never repeats the text.
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
  return decodeKey(text, { source: KEY_ENV, hint: KEYGEN_HINT, context: { backend: BACKEND } });
}

/**
 * Reads a key file. Follows symlinks and checks the file actually read:
 * refuses, with a `ConfigError` saying why, one inside a git repository (a
 * `.git` in its directory or any parent), one that group or others may read
 * or write (`mode & 0o077`, not checked on Windows) and one that is not a
 * regular file.
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
export function readKeyFile(path: string): Promise<Uint8Array> {
  return readKeyFrom(path);
}

/** How long a key {@linkcode readKeyFrom} reads may be. */
export interface ReadKeyOptions {
  /** Accept keys longer than 32 bytes (the audit key). @default {false} */
  atLeast?: boolean;
}

/**
 * The one key-file reader (see the module doc for its checks). Messages name
 * the file (as given, and resolved when that differs), never its content.
 */
export async function readKeyFrom(path: string, opts: ReadKeyOptions = {}): Promise<Uint8Array> {
  const abs = keyPath(path);
  let real: string;
  try {
    real = await realpath(abs);
  } catch (err) {
    if (codeOf(err) === "ENOENT" || codeOf(err) === "ENOTDIR") {
      throw new ConfigError(`the key file ${abs} does not exist`, { backend: BACKEND });
    }
    throw cannotRead(abs, err);
  }
  const shown = real === abs ? abs : `${abs} (a link to ${real})`;
  await refuseInsideRepository(real, shown);
  let handle: FileHandle;
  try {
    // O_NOFOLLOW: `real` holds no link now; refuse one swapped in since.
    handle = await open(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (err) {
    throw cannotRead(shown, err);
  }
  let bytes: Uint8Array;
  try {
    const st = await handle.stat().catch((err) => {
      throw cannotRead(shown, err);
    });
    if (st.isDirectory()) {
      throw new ConfigError(`the key file ${shown} is a directory`, { backend: BACKEND });
    }
    if (!st.isFile()) {
      throw new ConfigError(`the key file ${shown} is not a regular file`, { backend: BACKEND });
    }
    if (platform() !== "win32" && (st.mode & 0o077) !== 0) {
      throw new ConfigError(
        `the key file ${shown} may be read or written by group or others (mode ${
          (st.mode & 0o777).toString(8).padStart(4, "0")
        }); allow only its owner: chmod 600 ${real}`,
        { backend: BACKEND },
      );
    }
    bytes = new Uint8Array(
      await handle.readFile().catch((err) => {
        throw cannotRead(shown, err);
      }),
    );
  } finally {
    await handle.close().catch(() => {});
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = "";
  } finally {
    bytes.fill(0);
  }
  return decodeKey(text, {
    source: `the key file ${shown}`,
    atLeast: opts.atLeast === true,
    hint: KEYGEN_HINT,
    context: { backend: BACKEND },
  });
}

/**
 * Writes a key file holding the key's base64 text, created with mode 0600
 * (and its directory with 0700). Refuses to overwrite an existing file (a
 * store encrypted with the old key would become unreadable) and to write
 * inside a git repository (checked on the resolved directory).
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
  const target = await resolveExisting(abs);
  await refuseInsideRepository(target, target === abs ? abs : `${abs} (a link to ${target})`);
  let created: boolean;
  try {
    await mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
    created = await createExclusive(target, encoder.encode(`${toBase64(bytes)}\n`));
  } catch (err) {
    throw new ConfigError(`the key file ${abs} cannot be written`, {
      backend: BACKEND,
      cause: err,
    });
  } finally {
    bytes.fill(0);
  }
  if (!created) {
    throw new ConfigError(
      `the key file ${abs} already exists; refusing to overwrite it (a store encrypted with ` +
        "that key would become unreadable)",
      { backend: BACKEND },
    );
  }
}

/** The file backend's `key` option as a fresh copy of its 32 bytes. */
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

/** `abs` with the symlinks of its longest existing prefix resolved. */
export async function resolveExisting(abs: string): Promise<string> {
  try {
    return await realpath(abs);
  } catch (err) {
    if (codeOf(err) !== "ENOENT" && codeOf(err) !== "ENOTDIR") throw err;
    const parent = dirname(abs);
    if (parent === abs) return abs;
    return join(await resolveExisting(parent), basename(abs));
  }
}

function keyPath(path: string): string {
  if (typeof path !== "string" || path.trim() === "") {
    throw new ConfigError("a key file path must be a non-empty string", { backend: BACKEND });
  }
  return resolve(path);
}

async function refuseInsideRepository(real: string, shown: string): Promise<void> {
  let dir = dirname(real);
  for (;;) {
    if (await exists(join(dir, ".git"))) {
      throw new ConfigError(
        `the key file ${shown} is inside the git repository ${dir}; keep it outside any ` +
          "repository, where it cannot be committed by mistake",
        { backend: BACKEND },
      );
    }
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

async function exists(path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false);
}

async function createExclusive(path: string, data: Uint8Array): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await open(path, "wx", FILE_MODE);
  } catch (err) {
    if (codeOf(err) === "EEXIST") return false;
    throw err;
  }
  try {
    await handle.writeFile(data);
  } finally {
    await handle.close();
  }
  return true;
}

function cannotRead(shown: string, err: unknown): ConfigError {
  return new ConfigError(`the key file ${shown} cannot be read`, { backend: BACKEND, cause: err });
}

function codeOf(err: unknown): unknown {
  return (err as { code?: unknown } | null)?.code;
}
