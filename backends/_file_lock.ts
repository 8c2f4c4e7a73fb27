/**
 * The file store's writer lock: an `O_EXCL` lock file beside the store
 * holding a random token, taken with jittered backoff, broken when older
 * than the stale limit; and the in-process queue that orders this process's
 * writers before they reach the lock file. Private to the file backend.
 *
 * No confirmed write may be lost when a writer is paused inside the lock
 * (SIGSTOP, a debugger, a VM pause) past the stale limit. Two guards:
 *
 * - Where the port has an OS lock (Deno's `flock`), the holder also locks its
 *   lock file; a lock file is broken only when it is old AND its OS lock is
 *   free. The kernel drops that lock when the holder dies, never while it is
 *   alive, so a paused writer's lock is not broken: the other writer times
 *   out (an error, not a lost write).
 * - Everywhere, the commit is fenced ({@linkcode FileLock.fence}): after the
 *   new store is written to its temp file and just before the rename, the
 *   writer checks that the lock file still holds its token and that the
 *   store is byte for byte the one it read; if not, it fails with
 *   `SecretConflictError` and renames nothing. Without an OS lock (Node) a
 *   writer stopped in the few instructions between that check and the
 *   rename is the one case the fence cannot see.
 *
 * @module
 */

import { sleep } from "../core/retry.ts";
import {
  type AccessReason,
  type ErrorContext,
  SecretAccessError,
  SecretConflictError,
} from "../core/errors.ts";
import { keywardLogger } from "../core/log.ts";
import type { FsOsLock, FsPort } from "./_fs_port.ts";

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

/** A lock this writer holds: its token, and its OS lock where the port has one. */
export interface HeldLock {
  readonly token: Uint8Array;
  readonly osLock: FsOsLock | undefined;
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

  /** Takes the lock file, retrying with jittered backoff; breaks a stale lock. */
  async acquire(ctx: ErrorContext, signal: AbortSignal | undefined): Promise<HeldLock> {
    const { fs, lockPath, lockTimeoutMs } = this.#o;
    const token = encoder.encode(`keyward lock ${crypto.randomUUID()}\n`);
    const started = Date.now();
    let holderAlive = false;
    for (let attempt = 0;; attempt++) {
      signal?.throwIfAborted();
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
      if (created) return { token, osLock: await this.#osLock(ctx, token) };
      const broke = await this.#breakStale();
      if (broke === "broken") continue;
      holderAlive = broke === "alive";
      const waited = Date.now() - started;
      if (waited >= lockTimeoutMs) {
        throw new SecretAccessError(
          ctx,
          `another writer held the lock ${lockPath} for longer than ${lockTimeoutMs} ms ` +
            "(lockTimeoutMs); " + (holderAlive
              ? "that writer is still running (perhaps paused), so its lock was not broken"
              : "if no writer is running, the lock is left over and can be removed"),
          "timeout",
        );
      }
      const step = Math.min(2 * 2 ** Math.min(attempt, 10), 100);
      const pause = Math.min(step / 2 + Math.random() * step, lockTimeoutMs - waited);
      await sleep(Math.max(1, pause), signal);
    }
  }

  /** Locks the fresh lock file at the OS level too, where the port can. */
  async #osLock(ctx: ErrorContext, token: Uint8Array): Promise<FsOsLock | undefined> {
    const { fs, lockPath } = this.#o;
    if (!fs.tryOsLock) return undefined;
    // A breaker probing a stale lock at this path may hold it for an instant.
    for (let attempt = 0; attempt < 50; attempt++) {
      const held = await fs.tryOsLock(lockPath).catch(() => undefined);
      if (held) return held;
      await sleep(2, undefined);
    }
    await this.release({ token, osLock: undefined });
    throw new SecretAccessError(ctx, `the lock file ${lockPath} cannot be locked`, "timeout");
  }

  /**
   * Breaks a lock older than `staleLockMs` whose holder is gone: `broken`
   * (or vanished: try again at once), `alive` (old, but its holder still
   * holds the OS lock), or `fresh`.
   */
  async #breakStale(): Promise<"broken" | "alive" | "fresh"> {
    const { fs, lockPath, staleLockMs, storePath } = this.#o;
    const st = await fs.stat(lockPath).catch(() => undefined);
    if (!st) return "broken"; // released meanwhile: try again at once
    if (Date.now() - st.mtimeMs <= staleLockMs) return "fresh";
    if (fs.tryOsLock) {
      let probe: FsOsLock | undefined;
      try {
        probe = await fs.tryOsLock(lockPath);
      } catch {
        return "broken"; // vanished meanwhile
      }
      if (!probe) return "alive"; // its writer is alive, perhaps paused: never break it
      await probe.release();
    }
    // Move it aside first, so that of several breakers only one succeeds.
    const aside = `${lockPath}.${crypto.randomUUID()}.stale`;
    if (!(await fs.rename(lockPath, aside).catch(() => false))) return "broken";
    const moved = await fs.stat(aside).catch(() => undefined);
    if (moved && Date.now() - moved.mtimeMs <= staleLockMs) {
      // Another breaker got there first and a live writer took a fresh lock,
      // which we moved: give it back unless someone holds the lock again.
      await fs.link(aside, lockPath).catch(() => false);
    } else {
      this.#log.warn(
        "Broke a stale lock on the file store {path} (older than {staleLockMs} ms)",
        { path: storePath, staleLockMs },
      );
    }
    await fs.remove(aside).catch(() => {});
    return "broken";
  }

  /**
   * The commit fence: throws `SecretConflictError` unless the lock file still
   * holds `held`'s token and the store still holds `loaded` (the bytes this
   * write read; `undefined` for a store that did not exist).
   */
  async fence(held: HeldLock, loaded: Uint8Array | undefined, ctx: ErrorContext): Promise<void> {
    const { fs, lockPath, storePath } = this.#o;
    const lock = await fs.readFile(lockPath);
    if (lock === undefined || !equalBytes(lock, held.token)) {
      throw new SecretConflictError(
        ctx,
        `this writer's lock ${lockPath} was broken as stale while it was paused inside it ` +
          "(longer than staleLockMs), and another writer may have written since; this write " +
          "was not applied (retry it)",
      );
    }
    const now = await fs.readFile(storePath);
    if (
      now === undefined ? loaded !== undefined : loaded === undefined || !equalBytes(now, loaded)
    ) {
      throw new SecretConflictError(
        ctx,
        `the store ${storePath} changed after this write read it, while this write held the ` +
          "lock (a writer that ignored the lock?); this write was not applied (retry it)",
      );
    }
  }

  /** Removes the lock file if it still holds this writer's token, then drops the OS lock. */
  async release(held: HeldLock): Promise<void> {
    const { fs, lockPath, storePath } = this.#o;
    try {
      const lock = await fs.readFile(lockPath);
      if (lock !== undefined && equalBytes(lock, held.token)) await fs.remove(lockPath);
    } catch {
      this.#log.warn("Could not release the lock of the file store {path}", { path: storePath });
    } finally {
      await held.osLock?.release().catch(() => {});
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
