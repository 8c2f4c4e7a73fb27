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
 *   writing at once lose nothing. A confirmed write is never lost to a writer
 *   paused inside the lock: where the runtime has an OS file lock (Deno) a
 *   live holder's lock is never broken as stale, and every commit is fenced
 *   (just before the rename the writer checks that the lock is still its own
 *   and the store is the one it read, else `SecretConflictError`, nothing
 *   renamed).
 * - A wrong key or a damaged file is a `SecretAccessError` (reason `key` or
 *   `damaged`) naming the store, and the file is left exactly as it is.
 * - A store path that is a symbolic link is written through: the file it
 *   points to is replaced (and locked), the link stays a link.
 * - Key files are read by one reader for every key (`readKeyFile`): the
 *   path's links are followed, and the file read must be owner-only (0600 or
 *   0400) and lie outside any git repository.
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

import { dirname, resolve } from "node:path";
import {
  applyDeprecate,
  applyDestroy,
  applyPromote,
  applyWrite,
  DEFAULT_MAX_VERSIONS,
  describeStored,
  resolveRead,
  type StoredVersion,
} from "../core/_versioned_store.ts";
import { SecretManagerBase } from "../core/_backend_base.ts";
import {
  ConfigError,
  type ErrorContext,
  SecretAccessError,
  SecretConflictError,
  SecretNotFoundError,
  SecretWriteError,
  UnsupportedOperationError,
} from "../core/errors.ts";
import { selectValue } from "../core/names.ts";
import type {
  DeleteOptions,
  ReadOptions,
  SecretMetadata,
  SecretRead,
  SecretVersion,
  SignalOptions,
  WriteOptions,
} from "../core/types.ts";
import { FileCipher } from "./_file_cipher.ts";
import {
  Damaged,
  KEY_CHECK_TEXT,
  keyCheckAad,
  parseFields,
  parseStore,
  type Sealed,
  serializeStore,
  type StoreDoc,
  versionAad,
} from "./_file_format.ts";
import { keyFromOption } from "./_key_file.ts";
import { enqueue, FileLock, reasonOf } from "./_file_lock.ts";
import { type FsOsLock, type FsPort, type FsStat, nodeFsPort } from "./_fs_port.ts";

export type { FsOsLock, FsPort, FsStat };
export { decodeFileKey, generateFileKey, readKeyFile, writeKeyFile } from "./_key_file.ts";

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
  /**
   * The overall limit of one read in milliseconds (`SECRET_READ_DEADLINE_MS`
   * through the factory); `0` is none.
   * @default {0}
   */
  readDeadlineMs?: number;
}

const BACKEND = "file";
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const KEY_ENV = "KEYWARD_FILE_KEY";

const encoder = new TextEncoder();

type Ctx = { secret?: string; backend: string } & ErrorContext;

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
export class FileSecretManager extends SecretManagerBase {
  readonly #path: string;
  readonly #lockTimeoutMs: number;
  readonly #staleLockMs: number;
  readonly #fs: FsPort;
  readonly #now: () => number;
  readonly #maxVersions: number;
  readonly #cipher: FileCipher;
  readonly #verifiedChecks = new Set<string>();
  readonly #inflight = new Set<Promise<unknown>>();

  /** Creates the manager; throws `ConfigError` naming a bad option. Does no I/O. */
  constructor(options: FileOptions) {
    super(BACKEND, options.readDeadlineMs ?? 0);
    if (typeof options?.path !== "string" || options.path.trim() === "") {
      throw new ConfigError("option path of the file backend must be a non-empty file path", {
        backend: BACKEND,
      });
    }
    this.#path = resolve(options.path);
    const key = keyFromOption(options.key);
    this.#fs = options.fsPort ?? nodeFsPort;
    this.#now = options.now ?? Date.now;
    this.#maxVersions = positiveInteger(options.maxVersions, DEFAULT_MAX_VERSIONS, "maxVersions");
    this.#lockTimeoutMs = positiveNumber(options.lockTimeoutMs, 10_000, "lockTimeoutMs");
    this.#staleLockMs = positiveNumber(options.staleLockMs, 30_000, "staleLockMs");
    this.#cipher = new FileCipher(key, BACKEND);
  }

  /**
   * The absolute path of the store file, as given. When it is a symbolic
   * link, writes go to the file it points to (resolved at each write; the
   * link stays a link), and the lock file lies beside that file.
   */
  get path(): string {
    return this.#path;
  }

  // The public methods are SecretManagerBase's: it checks the closed state,
  // the signal, the name and the options once, then calls these hooks.

  /** Reads one version and opens its ciphertext. */
  protected doRead(name: string, opts: ReadOptions): Promise<SecretRead> {
    return this.#track(async () => {
      const ctx = this.#ctx(name);
      const doc = await this.#load(ctx);
      opts.signal?.throwIfAborted();
      const found = resolveRead(doc.secrets.get(name), opts, ctx);
      const fields = await this.#open(name, found.id, found.entry, ctx);
      const value = selectValue(fields, opts.field, {
        ...ctx,
        ...(found.stage ? { stage: found.stage } : {}),
        version: found.id,
      });
      return { value, version: found.id, ...(found.stage ? { stage: found.stage } : {}) };
    });
  }

  /** Lists the names in the store. */
  protected doList(prefix: string, _opts: SignalOptions): Promise<string[]> {
    return this.#track(async () => {
      const doc = await this.#load({ backend: BACKEND });
      return [...doc.secrets.keys()].filter((n) => n.startsWith(prefix)).sort();
    });
  }

  /** Seals the fields as a new version under the lock. */
  protected doSet(
    name: string,
    fields: Record<string, string>,
    opts: WriteOptions,
  ): Promise<SecretVersion> {
    return this.#track(async () => {
      const plaintext = JSON.stringify(fields);
      const ctx = this.#ctx(name);
      return await this.#mutate(ctx, opts.signal, async (doc) => {
        const rec = doc.secrets.get(name);
        const id = String(rec?.nextVersion ?? 1);
        const data = await this.#cipher.seal(plaintext, versionAad(name, id));
        const written = applyWrite(rec, data, opts, this.#now(), ctx, this.#maxVersions);
        if (written.version.version !== id) {
          throw new SecretWriteError(ctx, "internal error: the version id changed under the lock");
        }
        doc.secrets.set(name, written.rec);
        return { result: written.version, changed: true };
      });
    });
  }

  /** Describes a secret from the store's clear metadata (no decryption). */
  protected doDescribe(name: string, _opts: SignalOptions): Promise<SecretMetadata> {
    return this.#track(async () => {
      const ctx = this.#ctx(name);
      const rec = (await this.#load(ctx)).secrets.get(name);
      if (!rec) throw new SecretNotFoundError(ctx);
      return describeStored(rec, name, BACKEND);
    });
  }

  /** Moves the stage labels under the lock. */
  protected doPromote(name: string, version: string, opts: SignalOptions): Promise<SecretVersion> {
    return this.#track(async () => {
      const ctx = this.#ctx(name);
      return await this.#mutate(ctx, opts.signal, (doc) => {
        const promoted = applyPromote(doc.secrets.get(name), version, this.#now(), ctx);
        return Promise.resolve({ result: promoted.version, changed: promoted.changed });
      });
    });
  }

  /**
   * Deletes a secret at once and completely: every version's ciphertext
   * leaves the file. `recoveryDays` is refused with `UnsupportedOperationError`.
   */
  protected doDelete(name: string, opts: DeleteOptions): Promise<void> {
    return this.#track(async () => {
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

  /**
   * Marks one version deprecated in the store's metadata (`deprecatedAt`,
   * shown by `describeSecret`; marking it again keeps the first date). Its
   * value stays readable by version until destroyed. Refuses the `current`
   * version with `SecretConflictError`, an unknown one with `SecretNotFoundError`.
   */
  protected doDeprecate(name: string, version: string, opts: SignalOptions): Promise<void> {
    return this.#track(async () => {
      const ctx = this.#ctx(name);
      await this.#mutate(ctx, opts.signal, (doc) => {
        applyDeprecate(doc.secrets.get(name), version, this.#now(), ctx);
        return Promise.resolve({ result: undefined, changed: true });
      });
    });
  }

  /**
   * Destroys one version: its entry and ciphertext leave the file (a stage it
   * held, `pending` or `previous`, is cleared), and a read of it is then
   * `SecretNotFoundError`. Refuses the `current` version with
   * `SecretConflictError`, an unknown one with `SecretNotFoundError`.
   */
  protected doDestroy(name: string, version: string, opts: SignalOptions): Promise<void> {
    return this.#track(async () => {
      const ctx = this.#ctx(name);
      await this.#mutate(ctx, opts.signal, (doc) => {
        applyDestroy(doc.secrets.get(name), version, this.#now(), ctx);
        return Promise.resolve({ result: undefined, changed: true });
      });
    });
  }

  /** Waits for calls in flight, then forgets the key (later calls were refused already). */
  protected override async doClose(): Promise<void> {
    await Promise.allSettled([...this.#inflight]);
    this.#cipher.close();
    this.#verifiedChecks.clear();
  }

  // ---- plumbing ----

  /** Runs `body` as one call that `close()` waits for. */
  #track<T>(body: () => Promise<T>): Promise<T> {
    const p = body();
    this.#inflight.add(p);
    const untrack = () => this.#inflight.delete(p);
    p.then(untrack, untrack);
    return p;
  }

  #ctx(secret: string): { secret: string; backend: string } {
    return { secret, backend: BACKEND };
  }

  /** Decrypts one version's fields; a failure is a damaged store. */
  async #open(
    name: string,
    id: string,
    entry: StoredVersion<Sealed>,
    ctx: Ctx,
  ): Promise<Record<string, string>> {
    const plain = await this.#cipher.unseal(entry.data, versionAad(name, id));
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
    return (await this.#read(ctx)).doc;
  }

  /** {@linkcode #load}, with the bytes read (`undefined`: no store file yet). */
  async #read(
    ctx: Ctx,
    path: string = this.#path,
  ): Promise<{ doc: StoreDoc; bytes: Uint8Array | undefined }> {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await this.#fs.readFile(path);
    } catch (err) {
      throw new SecretAccessError(
        { ...ctx, cause: err },
        `the store ${this.#path} cannot be read`,
        reasonOf(err),
      );
    }
    if (bytes === undefined) {
      return { doc: { secrets: new Map() }, bytes };
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
      const plain = await this.#cipher.unseal(keyCheck, keyCheckAad());
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
    return { doc, bytes };
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
    signal?.throwIfAborted();
    // Through a symlinked store path, the link's target is the store: every
    // writer, by whichever path, locks, reads and replaces that one file.
    const target = await this.#target(ctx);
    return await enqueue(target, async () => {
      signal?.throwIfAborted();
      if (!(await this.#exists(ctx))) {
        // A write that cannot succeed on an empty store (promote, delete, a
        // pending write) fails here without creating a directory or a lock.
        const dry = await fn({ secrets: new Map() });
        if (!dry.changed) return dry.result;
      }
      try {
        await this.#fs.mkdir(dirname(target), DIR_MODE);
      } catch (err) {
        throw new SecretWriteError(
          { ...ctx, cause: err },
          `the directory of the store ${this.#shown(target)} cannot be created`,
        );
      }
      const lock = new FileLock({
        storePath: target,
        lockPath: `${target}.lock`,
        fs: this.#fs,
        lockTimeoutMs: this.#lockTimeoutMs,
        staleLockMs: this.#staleLockMs,
        backend: BACKEND,
      });
      const held = await lock.acquire(ctx, signal);
      try {
        const { doc, bytes } = await this.#read(ctx, target);
        const { result, changed } = await fn(doc);
        if (changed) {
          doc.keyCheck ??= await this.#cipher.seal(KEY_CHECK_TEXT, keyCheckAad());
          const text = serializeStore(doc);
          // The commit fence: the lock is still ours and the store is the one we read.
          const fence = () => lock.fence(held, bytes, ctx);
          try {
            await this.#fs.writeFileAtomic(target, encoder.encode(text), FILE_MODE, fence);
          } catch (err) {
            if (err instanceof SecretConflictError) throw err;
            throw new SecretWriteError(
              { ...ctx, cause: err },
              `the store ${
                this.#shown(target)
              } could not be replaced; it holds the state before this write`,
            );
          }
        }
        return result;
      } finally {
        await lock.release(held);
      }
    });
  }

  /** The store path with symlinks followed (where the port can), for writing. */
  async #target(ctx: Ctx): Promise<string> {
    if (!this.#fs.resolvePath) return this.#path;
    try {
      return await this.#fs.resolvePath(this.#path);
    } catch (err) {
      throw new SecretAccessError(
        { ...ctx, cause: err },
        `the store path ${this.#path} cannot be resolved (a symbolic link loop?)`,
        reasonOf(err),
      );
    }
  }

  /** The store path for a message: as given, and its target when it is a link. */
  #shown(target: string): string {
    return target === this.#path ? this.#path : `${this.#path} (a link to ${target})`;
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
}

// ---- small helpers ----

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

/** The cache's encrypted last-known-good snapshot in a file (see `withCache`). */
export { FileSnapshotStore } from "../cache/file_snapshot_store.ts";
export type { SnapshotStore } from "../cache/snapshot.ts";
export {
  type AuditFile,
  type AuditFileSystem,
  jsonLinesFileSink,
  type JsonLinesFileSinkOptions,
  nodeAuditFileSystem,
  rotatingFileStream,
} from "../audit/jsonl_file_sink.ts";
