/**
 * The encrypted file backend: an embedded, versioned secret store in one
 * JSON file, for development, demos and single-host services.
 *
 * - Every version's fields are encrypted with AES-256-GCM (WebCrypto) under
 *   a 32-byte key, with a fresh 96-bit random nonce per write. The additional
 *   data binds the store format, the secret's name and the version id, so a
 *   ciphertext moved to another name or version fails to open.
 * - Names, version ids, stages and dates are in clear; values never are.
 * - A key-check entry detects a wrong key on any operation, even on a store
 *   that holds no secret yet.
 * - Writes are read-modify-write under a lock (an `O_EXCL` lock file beside
 *   the store, plus an in-process queue) and replace the file atomically
 *   (temp file, fsync, rename, directory fsync), mode 0600, so two processes
 *   writing at once lose nothing.
 * - A wrong key or a damaged file is a `SecretAccessError` (reason `key` or
 *   `damaged`) naming the store, and the file is left exactly as it is.
 *
 * What it does not protect: someone who can write the file can delete
 * versions or move stage labels (for example back to an older version);
 * they cannot read or forge a value.
 *
 * This entry uses `node:fs/promises` through a small port, so it runs on
 * Deno and Node; it is not part of the edge-safe `mod.ts`.
 *
 * @example
 * ```ts
 * import { FileSecretManager, generateFileKey } from "@keyward/secrets/file";
 *
 * const dir = await Deno.makeTempDir();
 * const secrets = new FileSecretManager({ path: `${dir}/secrets.json`, key: generateFileKey() });
 * await secrets.setSecret("alpaca/api_key_id", "PKDEMO0000000000");
 * if (await secrets.getSecret("alpaca/api_key_id") !== "PKDEMO0000000000") throw new Error();
 * await secrets.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { platform } from "node:os";
import { dirname, join, resolve } from "node:path";
import {
  applyPromote,
  applyWrite,
  DEFAULT_MAX_VERSIONS,
  describeStored,
  resolveRead,
  type StoredSecret,
  type StoredVersion,
} from "../core/_versioned_store.ts";
import { assertOpen, checkSignal, warnIfNotFound } from "../core/_backend_util.ts";
import {
  type AccessReason,
  ConfigError,
  type ErrorContext,
  KeywardError,
  SecretAccessError,
  SecretNotFoundError,
  SecretWriteError,
  UnsupportedOperationError,
} from "../core/errors.ts";
import { keywardLogger } from "../core/log.ts";
import {
  nameProblem,
  normalizeValue,
  selectValue,
  validateName,
  validatePrefix,
  validateReadOptions,
  validateWriteOptions,
} from "../core/names.ts";
import type {
  DeleteOptions,
  ReadOptions,
  SecretManager,
  SecretMetadata,
  SecretRead,
  SecretValue,
  SecretVersion,
  SignalOptions,
  Stage,
  WriteOptions,
} from "../core/types.ts";
import { type FsPort, type FsStat, nodeFsPort } from "./_fs_port.ts";

export type { FsPort, FsStat };

/**
 * Options of {@linkcode FileSecretManager}.
 *
 * @example Lock timings, a clock and a version limit
 * ```ts
 * import { FileSecretManager, generateFileKey } from "@keyward/secrets/file";
 *
 * const dir = await Deno.makeTempDir();
 * const secrets = new FileSecretManager({
 *   path: `${dir}/store.json`,
 *   key: generateFileKey(), // from KEYWARD_FILE_KEY or readKeyFile() in production
 *   lockTimeoutMs: 2_000,
 *   staleLockMs: 10_000,
 *   now: () => Date.UTC(2026, 10, 29),
 *   maxVersions: 2,
 * });
 * for (const value of ["pw-0001", "pw-0002", "pw-0003"]) await secrets.setSecret("db/password", value);
 * const meta = await secrets.describeSecret("db/password");
 * if (meta.versions.length !== 2) throw new Error("the oldest unstaged version is dropped");
 * if (meta.versions[1].createdAt.getTime() !== Date.UTC(2026, 10, 29)) throw new Error();
 * await secrets.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface FileOptions {
  /** The store file; a missing file is an empty store, created (with its directory) by the first write. */
  path: string;
  /**
   * The 32-byte AES-256 key, as bytes or as their base64 text (the form of
   * `KEYWARD_FILE_KEY`). Keep it away from the store: in the environment or
   * in a key file outside the repository ({@linkcode readKeyFile}).
   */
  key: Uint8Array | string;
  /**
   * How long a write waits for another writer's lock before failing with a
   * `SecretAccessError` (reason `timeout`).
   * @default {10000}
   */
  lockTimeoutMs?: number;
  /**
   * A lock file older than this is taken to be left by a crashed writer and
   * is broken. Must be well above the time one write takes.
   * @default {30000}
   */
  staleLockMs?: number;
  /**
   * The clock stamping versions, in epoch milliseconds.
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * Versions kept per secret; older versions without a stage are dropped
   * (their ciphertext with them).
   * @default {100}
   */
  maxVersions?: number;
  /**
   * The file-system port; tests pass a counting or failing one.
   * @default {a port on node:fs/promises}
   */
  fsPort?: FsPort;
}

const BACKEND = "file";
const FORMAT = "keyward-file-store";
const FORMAT_VERSION = 1;
const CIPHER = "AES-256-GCM";
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const KEY_CHECK_TEXT = "keyward key check";
const KEY_ENV = "KEYWARD_FILE_KEY";

const encoder = new TextEncoder();
const log = keywardLogger("backend", BACKEND);

/** One sealed (encrypted) blob: base64 nonce and base64 ciphertext with its tag. */
interface Sealed {
  iv: string;
  ct: string;
}

interface StoreDoc {
  /** Absent only while the store file does not exist yet. */
  keyCheck?: Sealed;
  secrets: Map<string, StoredSecret<Sealed>>;
}

type Ctx = { secret?: string; backend: string } & ErrorContext;

/** Raised inside the module when the file's content is not a sound store. */
class Damaged extends Error {}

/** Per store path: the tail of the in-process write queue. */
const queues = new Map<string, Promise<void>>();

/**
 * A {@linkcode SecretManager} over an encrypted local file, with versions and
 * stages that follow the same table as the memory backend.
 *
 * @example Rotating a credential with a pending version
 * ```ts
 * import { FileSecretManager, generateFileKey } from "@keyward/secrets/file";
 *
 * const dir = await Deno.makeTempDir();
 * const secrets = new FileSecretManager({ path: `${dir}/store.json`, key: generateFileKey() });
 * await secrets.setSecret("db/login", { user: "app", password: "first-password-1" });
 * const next = await secrets.setSecret("db/login", { user: "app", password: "second-password-2" }, { stage: "pending" });
 * await secrets.promote("db/login", next.version);
 * if (await secrets.getSecret("db/login", { field: "password" }) !== "second-password-2") throw new Error();
 * if (await secrets.getSecret("db/login", { stage: "previous", field: "password" }) !== "first-password-1") throw new Error();
 * await secrets.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class FileSecretManager implements SecretManager {
  readonly #path: string;
  readonly #lockPath: string;
  readonly #fs: FsPort;
  readonly #now: () => number;
  readonly #maxVersions: number;
  readonly #lockTimeoutMs: number;
  readonly #staleLockMs: number;
  #keyBytes: Uint8Array | undefined;
  #key: Promise<CryptoKey> | undefined;
  readonly #verifiedChecks = new Set<string>();
  readonly #inflight = new Set<Promise<unknown>>();
  #closed = false;

  /** Creates the manager; throws `ConfigError` naming a bad option. Does no I/O. */
  constructor(options: FileOptions) {
    if (typeof options?.path !== "string" || options.path.trim() === "") {
      throw new ConfigError("option path of the file backend must be a non-empty file path", {
        backend: BACKEND,
      });
    }
    this.#path = resolve(options.path);
    this.#lockPath = `${this.#path}.lock`;
    this.#keyBytes = keyFromOption(options.key);
    this.#fs = options.fsPort ?? nodeFsPort;
    this.#now = options.now ?? Date.now;
    this.#maxVersions = positiveInteger(options.maxVersions, DEFAULT_MAX_VERSIONS, "maxVersions");
    this.#lockTimeoutMs = positiveNumber(options.lockTimeoutMs, 10_000, "lockTimeoutMs");
    this.#staleLockMs = positiveNumber(options.staleLockMs, 30_000, "staleLockMs");
  }

  /** The absolute path of the store file. */
  get path(): string {
    return this.#path;
  }

  /** {@inheritDoc SecretManager.getSecret} */
  getSecret(name: string, opts: ReadOptions = {}): Promise<string> {
    return this.#run(async () => {
      this.#enter(opts.signal);
      validateName(name);
      validateReadOptions(name, opts);
      const ctx = this.#ctx(name);
      const doc = await this.#load(ctx);
      checkSignal(opts.signal);
      const rec = doc.secrets.get(name);
      const found = resolveRead(rec, opts, ctx);
      const fields = await this.#open(name, found.id, found.entry, ctx);
      return selectValue(fields, opts.field, {
        ...ctx,
        ...(found.stage ? { stage: found.stage } : {}),
        version: found.id,
      });
    }, true);
  }

  /** {@inheritDoc SecretManager.listSecrets} */
  listSecrets(prefix = "", opts: SignalOptions = {}): Promise<string[]> {
    return this.#run(async () => {
      this.#enter(opts.signal);
      validatePrefix(prefix);
      const doc = await this.#load({ backend: BACKEND });
      return [...doc.secrets.keys()].filter((n) => n.startsWith(prefix)).sort();
    });
  }

  /** {@inheritDoc SecretManager.setSecret} */
  setSecret(name: string, value: SecretValue, opts: WriteOptions = {}): Promise<SecretVersion> {
    return this.#run(async () => {
      this.#enter(opts.signal);
      validateName(name);
      validateWriteOptions(name, opts);
      const plaintext = JSON.stringify(normalizeValue(name, value));
      const ctx = this.#ctx(name);
      return await this.#mutate(ctx, opts.signal, async (doc) => {
        const rec = doc.secrets.get(name);
        const id = String(rec?.nextVersion ?? 1);
        const data = await this.#seal(plaintext, versionAad(name, id));
        const written = applyWrite(rec, data, opts, this.#now(), ctx, this.#maxVersions);
        if (written.version.version !== id) {
          throw new SecretWriteError(ctx, "internal error: the version id changed under the lock");
        }
        doc.secrets.set(name, written.rec);
        return { result: written.version, changed: true };
      });
    });
  }

  /** {@inheritDoc SecretManager.describeSecret} */
  describeSecret(name: string, opts: SignalOptions = {}): Promise<SecretMetadata> {
    return this.#run(async () => {
      this.#enter(opts.signal);
      validateName(name);
      const ctx = this.#ctx(name);
      const rec = (await this.#load(ctx)).secrets.get(name);
      if (!rec) throw new SecretNotFoundError(ctx);
      return describeStored(rec, name, BACKEND);
    });
  }

  /** {@inheritDoc SecretManager.promote} */
  promote(name: string, version: string, opts: SignalOptions = {}): Promise<SecretVersion> {
    return this.#run(async () => {
      this.#enter(opts.signal);
      validateName(name);
      validateReadOptions(name, { version });
      const ctx = this.#ctx(name);
      return await this.#mutate(ctx, opts.signal, (doc) => {
        const rec = doc.secrets.get(name);
        const promoted = applyPromote(rec, version, this.#now(), ctx);
        return Promise.resolve({ result: promoted.version, changed: promoted.changed });
      });
    });
  }

  /**
   * Deletes a secret at once and completely: every version's ciphertext
   * leaves the file. `recoveryDays` is refused with `UnsupportedOperationError`.
   */
  deleteSecret(name: string, opts: DeleteOptions = {}): Promise<void> {
    return this.#run(async () => {
      this.#enter(opts.signal);
      validateName(name);
      const ctx = this.#ctx(name);
      if (opts.recoveryDays !== undefined) {
        throw new UnsupportedOperationError(
          "deleteSecret with recoveryDays",
          ctx,
          "deletion is immediate and complete",
        );
      }
      await this.#mutate(ctx, opts.signal, (doc) => {
        if (!doc.secrets.delete(name)) throw new SecretNotFoundError(ctx);
        return Promise.resolve({ result: undefined, changed: true });
      });
    });
  }

  /** Not yet supported here (the version-aware read lands with the rotation work). */
  readSecret(name: string, _opts?: ReadOptions): Promise<SecretRead> {
    return Promise.reject(
      new UnsupportedOperationError("readSecret", { secret: name, backend: "file" }),
    );
  }

  /** Not yet supported here. */
  deprecateVersion(name: string, _version: string, _opts?: SignalOptions): Promise<void> {
    return Promise.reject(
      new UnsupportedOperationError("deprecateVersion", { secret: name, backend: "file" }),
    );
  }

  /** Not yet supported here. */
  destroyVersion(name: string, _version: string, _opts?: SignalOptions): Promise<void> {
    return Promise.reject(
      new UnsupportedOperationError("destroyVersion", { secret: name, backend: "file" }),
    );
  }

  /** Waits for calls in flight, then refuses later calls. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inflight]);
    this.#keyBytes?.fill(0);
    this.#keyBytes = undefined;
    this.#key = undefined;
    this.#verifiedChecks.clear();
  }

  // ---- plumbing ----

  /** Runs `body` as one tracked call; a not-found from a read is logged as a warning. */
  #run<T>(body: () => Promise<T>, warnOnMissing = false): Promise<T> {
    const p = (async () => {
      try {
        return await body();
      } catch (err) {
        throw warnOnMissing ? warnIfNotFound(log, err) : err;
      }
    })();
    this.#inflight.add(p);
    const untrack = () => this.#inflight.delete(p);
    p.then(untrack, untrack);
    return p;
  }

  #enter(signal: AbortSignal | undefined): void {
    assertOpen(this.#closed, BACKEND);
    checkSignal(signal);
  }

  #ctx(secret: string): { secret: string; backend: string } {
    return { secret, backend: BACKEND };
  }

  #cryptoKey(): Promise<CryptoKey> {
    if (!this.#key) {
      const bytes = this.#keyBytes;
      if (!bytes) throw new KeywardError("closed", `the ${BACKEND} secret manager is closed`);
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

  async #seal(plaintext: string, aad: Uint8Array): Promise<Sealed> {
    const iv = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: toArrayBuffer(aad), tagLength: TAG_BYTES * 8 },
      await this.#cryptoKey(),
      toArrayBuffer(encoder.encode(plaintext)),
    );
    return { iv: toBase64(iv), ct: toBase64(new Uint8Array(ct)) };
  }

  /** Decrypts a sealed blob; `undefined` when it does not authenticate. */
  async #unseal(sealed: Sealed, aad: Uint8Array): Promise<Uint8Array | undefined> {
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

  /** Decrypts one version's fields; a failure is a damaged store. */
  async #open(
    name: string,
    id: string,
    entry: StoredVersion<Sealed>,
    ctx: Ctx,
  ): Promise<Record<string, string>> {
    const plain = await this.#unseal(entry.data, versionAad(name, id));
    const fields = plain === undefined ? undefined : parseFields(plain);
    if (fields === undefined) {
      throw this.#damaged(
        { ...ctx, version: id },
        `version ${
          JSON.stringify(id)
        } of this secret does not decrypt (edited, or moved from another secret or version)`,
      );
    }
    return fields;
  }

  /** Reads, parses and key-checks the store; a missing file is an empty store. */
  async #load(ctx: Ctx): Promise<StoreDoc> {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await this.#fs.readFile(this.#path);
    } catch (err) {
      throw new SecretAccessError(
        { ...ctx, cause: err },
        `the store ${this.#path} cannot be read`,
        reasonOf(err),
      );
    }
    if (bytes === undefined) {
      return { secrets: new Map() };
    }
    let doc: StoreDoc;
    try {
      doc = parseStore(bytes);
    } catch (err) {
      if (err instanceof Damaged) throw this.#damaged(ctx, err.message);
      throw err;
    }
    const keyCheck = doc.keyCheck!;
    const check = `${keyCheck.iv}:${keyCheck.ct}`;
    if (!this.#verifiedChecks.has(check)) {
      const plain = await this.#unseal(keyCheck, keyCheckAad());
      if (plain === undefined || new TextDecoder().decode(plain) !== KEY_CHECK_TEXT) {
        throw new SecretAccessError(
          ctx,
          `the store ${this.#path} cannot be opened with this key (${KEY_ENV} or the key file): ` +
            "the key is wrong, or the store's key check is damaged; the store was left as it is",
          "key",
        );
      }
      this.#verifiedChecks.add(check);
    }
    return doc;
  }

  #damaged(ctx: Ctx, detail: string): SecretAccessError {
    return new SecretAccessError(
      ctx,
      `the store ${this.#path} is damaged: ${detail}; it was left as it is (restore it from a backup)`,
      "damaged",
    );
  }

  /**
   * Read-modify-write under the in-process queue and the lock file; writes
   * the file only when `fn` reports a change. A store that does not open is
   * never written.
   */
  async #mutate<T>(
    ctx: Ctx,
    signal: AbortSignal | undefined,
    fn: (doc: StoreDoc) => Promise<{ result: T; changed: boolean }>,
  ): Promise<T> {
    return await enqueue(this.#path, async () => {
      checkSignal(signal);
      if (!(await this.#exists(ctx))) {
        // A write that cannot succeed on an empty store (promote, delete, a
        // pending write) fails here without creating a directory or a lock.
        const dry = await fn({ secrets: new Map() });
        if (!dry.changed) return dry.result;
      }
      try {
        await this.#fs.mkdir(dirname(this.#path), DIR_MODE);
      } catch (err) {
        throw new SecretWriteError(
          { ...ctx, cause: err },
          `the directory of the store ${this.#path} cannot be created`,
        );
      }
      const token = await this.#lock(ctx, signal);
      try {
        const doc = await this.#load(ctx);
        const { result, changed } = await fn(doc);
        if (changed) {
          doc.keyCheck ??= await this.#seal(KEY_CHECK_TEXT, keyCheckAad());
          const text = serializeStore(doc);
          try {
            await this.#fs.writeFileAtomic(this.#path, encoder.encode(text), FILE_MODE);
          } catch (err) {
            throw new SecretWriteError(
              { ...ctx, cause: err },
              `the store ${this.#path} could not be replaced; it holds the state before this write`,
            );
          }
        }
        return result;
      } finally {
        await this.#unlock(token);
      }
    });
  }

  async #exists(ctx: Ctx): Promise<boolean> {
    try {
      return (await this.#fs.stat(this.#path)) !== undefined;
    } catch (err) {
      throw new SecretAccessError(
        { ...ctx, cause: err },
        `the store ${this.#path} cannot be read`,
        reasonOf(err),
      );
    }
  }

  /** Takes the lock file, retrying with jittered backoff; breaks a stale lock. */
  async #lock(ctx: Ctx, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const token = encoder.encode(`keyward lock ${crypto.randomUUID()}\n`);
    const started = Date.now();
    for (let attempt = 0;; attempt++) {
      checkSignal(signal);
      let created: boolean;
      try {
        created = await this.#fs.createExclusive(this.#lockPath, token, FILE_MODE);
      } catch (err) {
        throw new SecretAccessError(
          { ...ctx, cause: err },
          `the lock file ${this.#lockPath} cannot be created`,
          reasonOf(err),
        );
      }
      if (created) return token;
      if (await this.#breakStaleLock()) continue;
      const waited = Date.now() - started;
      if (waited >= this.#lockTimeoutMs) {
        throw new SecretAccessError(
          ctx,
          `another writer held the lock ${this.#lockPath} for longer than ${this.#lockTimeoutMs} ms ` +
            "(lockTimeoutMs); if no writer is running, the lock is left over and can be removed",
          "timeout",
        );
      }
      const step = Math.min(2 * 2 ** Math.min(attempt, 10), 100);
      const pause = Math.min(step / 2 + Math.random() * step, this.#lockTimeoutMs - waited);
      await delay(Math.max(1, pause), signal);
    }
  }

  /** Removes a lock older than `staleLockMs`; true when it did (or the lock vanished). */
  async #breakStaleLock(): Promise<boolean> {
    const st = await this.#fs.stat(this.#lockPath).catch(() => undefined);
    if (!st) return true; // released meanwhile: try again at once
    if (Date.now() - st.mtimeMs <= this.#staleLockMs) return false;
    // Move it aside first, so that of several breakers only one succeeds.
    const aside = `${this.#lockPath}.${crypto.randomUUID()}.stale`;
    if (!(await this.#fs.rename(this.#lockPath, aside).catch(() => false))) return true;
    const moved = await this.#fs.stat(aside).catch(() => undefined);
    if (moved && Date.now() - moved.mtimeMs <= this.#staleLockMs) {
      // Another breaker got there first and a live writer took a fresh lock,
      // which we moved: give it back unless someone holds the lock again.
      await this.#fs.link(aside, this.#lockPath).catch(() => false);
    } else {
      log.warn("Broke a stale lock on the file store {path} (older than {staleLockMs} ms)", {
        path: this.#path,
        staleLockMs: this.#staleLockMs,
      });
    }
    await this.#fs.remove(aside).catch(() => {});
    return true;
  }

  async #unlock(token: Uint8Array): Promise<void> {
    try {
      const held = await this.#fs.readFile(this.#lockPath);
      if (held !== undefined && equalBytes(held, token)) await this.#fs.remove(this.#lockPath);
    } catch {
      log.warn("Could not release the lock of the file store {path}", { path: this.#path });
    }
  }
}

// ---- keys ----

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

function keyFromOption(key: unknown): Uint8Array {
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

// ---- the store format ----

function versionAad(name: string, version: string): Uint8Array {
  return encoder.encode(`${FORMAT}/${FORMAT_VERSION}\nsecret\n${name}\nversion\n${version}`);
}

function keyCheckAad(): Uint8Array {
  return encoder.encode(`${FORMAT}/${FORMAT_VERSION}\nkey-check`);
}

function serializeStore(doc: StoreDoc): string {
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

function parseStore(bytes: Uint8Array): StoreDoc {
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
    if (!isRecord(entry) || !isTime(entry.createdAt)) {
      throw new Damaged(`${where} has a malformed version`);
    }
    versions[id] = { createdAt: entry.createdAt, data: parseSealed(entry.data, where) };
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

function parseFields(plain: Uint8Array): Record<string, string> | undefined {
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

// ---- small helpers ----

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function positiveNumber(value: number | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`option ${option} of the file backend must be a positive number`, {
      backend: BACKEND,
    });
  }
  return value;
}

function positiveInteger(value: number | undefined, fallback: number, option: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(`option ${option} of the file backend must be a positive integer`, {
      backend: BACKEND,
    });
  }
  return value;
}

function reasonOf(err: unknown): AccessReason {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "EACCES" || code === "EPERM" ? "denied" : "unreachable";
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolveDelay, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolveDelay();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Runs `fn` after every earlier call queued for `key` in this process. */
async function enqueue<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => release = r);
  const tail = previous.then(() => mine);
  queues.set(key, tail);
  await previous;
  try {
    return await fn();
  } finally {
    release();
    if (queues.get(key) === tail) queues.delete(key);
  }
}

/** The cache's encrypted last-known-good snapshot in a file (see `withCache`). */
export { FileSnapshotStore } from "../cache/file_snapshot_store.ts";
export type { SnapshotStore } from "../cache/snapshot.ts";
export {
  jsonLinesFileSink,
  type JsonLinesFileSinkOptions,
  rotatingFileStream,
} from "../audit/jsonl_file_sink.ts";
