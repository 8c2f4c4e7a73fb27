/**
 * The file store's writer lock: an `O_EXCL` lock file beside the store
 * holding a random token, taken with jittered backoff, broken when older
 * than the stale limit; and the in-process queue that orders this process's
 * writers before they reach the lock file. Private to the file backend.
 *
 * @module
 */

import { checkSignal } from "../core/_backend_util.ts";
import { type AccessReason, type ErrorContext, SecretAccessError } from "../core/errors.ts";
import { keywardLogger } from "../core/log.ts";
import type { FsPort } from "./_fs_port.ts";

const LOCK_MODE = 0o600;
const encoder = new TextEncoder();

/** Where the lock is and how long to wait for it. */
export interface FileLockOptions {
  /** The store the lock guards (named in log lines). */
  storePath: string;
  /** The lock file. */
  lockPath: string;
  fs: FsPort;
  lockTimeoutMs: number;
  staleLockMs: number;
  /** The backend's name, for the logger. */
  backend: string;
}

/** One store's lock file. */
export class FileLock {
  readonly #o: FileLockOptions;
  readonly #log;

  constructor(options: FileLockOptions) {
    this.#o = options;
    this.#log = keywardLogger("backend", options.backend);
  }

  /** The lock file's path. */
  get path(): string {
    return this.#o.lockPath;
  }

  /** Takes the lock file, retrying with jittered backoff; breaks a stale lock. Returns the token. */
  async acquire(ctx: ErrorContext, signal: AbortSignal | undefined): Promise<Uint8Array> {
    const { fs, lockPath, lockTimeoutMs } = this.#o;
    const token = encoder.encode(`keyward lock ${crypto.randomUUID()}\n`);
    const started = Date.now();
    for (let attempt = 0;; attempt++) {
      checkSignal(signal);
      let created: boolean;
      try {
        created = await fs.createExclusive(lockPath, token, LOCK_MODE);
      } catch (err) {
        throw new SecretAccessError(
          { ...ctx, cause: err },
          `the lock file ${lockPath} cannot be created`,
          reasonOf(err),
        );
      }
      if (created) return token;
      if (await this.#breakStale()) continue;
      const waited = Date.now() - started;
      if (waited >= lockTimeoutMs) {
        throw new SecretAccessError(
          ctx,
          `another writer held the lock ${lockPath} for longer than ${lockTimeoutMs} ms ` +
            "(lockTimeoutMs); if no writer is running, the lock is left over and can be removed",
          "timeout",
        );
      }
      const step = Math.min(2 * 2 ** Math.min(attempt, 10), 100);
      const pause = Math.min(step / 2 + Math.random() * step, lockTimeoutMs - waited);
      await delay(Math.max(1, pause), signal);
    }
  }

  /** Removes a lock older than `staleLockMs`; true when it did (or the lock vanished). */
  async #breakStale(): Promise<boolean> {
    const { fs, lockPath, staleLockMs, storePath } = this.#o;
    const st = await fs.stat(lockPath).catch(() => undefined);
    if (!st) return true; // released meanwhile: try again at once
    if (Date.now() - st.mtimeMs <= staleLockMs) return false;
    // Move it aside first, so that of several breakers only one succeeds.
    const aside = `${lockPath}.${crypto.randomUUID()}.stale`;
    if (!(await fs.rename(lockPath, aside).catch(() => false))) return true;
    const moved = await fs.stat(aside).catch(() => undefined);
    if (moved && Date.now() - moved.mtimeMs <= staleLockMs) {
      // Another breaker got there first and a live writer took a fresh lock,
      // which we moved: give it back unless someone holds the lock again.
      await fs.link(aside, lockPath).catch(() => false);
    } else {
      this.#log.warn("Broke a stale lock on the file store {path} (older than {staleLockMs} ms)", {
        path: storePath,
        staleLockMs,
      });
    }
    await fs.remove(aside).catch(() => {});
    return true;
  }

  /** Removes the lock file if it still holds `token`. */
  async release(token: Uint8Array): Promise<void> {
    const { fs, lockPath, storePath } = this.#o;
    try {
      const held = await fs.readFile(lockPath);
      if (held !== undefined && equalBytes(held, token)) await fs.remove(lockPath);
    } catch {
      this.#log.warn("Could not release the lock of the file store {path}", { path: storePath });
    }
  }
}

/** `denied` for a permission error, `unreachable` for anything else. */
export function reasonOf(err: unknown): AccessReason {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "EACCES" || code === "EPERM" ? "denied" : "unreachable";
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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

/** Per store path: the tail of the in-process write queue. */
const queues = new Map<string, Promise<void>>();

/** Runs `fn` after every earlier call queued for `key` in this process. */
export async function enqueue<T>(key: string, fn: () => Promise<T>): Promise<T> {
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
