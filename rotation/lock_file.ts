/**
 * One rotation per secret on the embedded default: a lock file holding the
 * pid, host, start time and rotation id, locked with `flock` while held. A
 * later run proves a lock stale when it was taken on this host and its
 * holder's `flock` is gone (the kernel drops it when the process dies).
 *
 * @module
 */

import { type RotationLock, RotationLockedError, type RotationLocks } from "./types.ts";

/** What a lock file holds. */
export interface LockFileContent {
  /** The holder's process id. */
  pid: number;
  /** The holder's host name. */
  host: string;
  /** When the lock was taken (ISO). */
  startedAt: string;
  /** The rotation holding it. */
  rotationId: string;
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    // no --allow-sys=hostname: the kernel's answer, readable as a file
  }
  for (const path of ["/etc/hostname", "/proc/sys/kernel/hostname"]) {
    try {
      const name = Deno.readTextFileSync(path).trim();
      if (name) return name;
    } catch {
      // not readable here
    }
  }
  return "unknown";
}

/**
 * Lock files under a directory, one per secret. The file holds the
 * holder's pid, host, start time and rotation id; an exclusive `flock` on it
 * is held while the rotation runs, and the kernel drops that lock when the
 * holder dies, so a later run proves a lock stale by taking it. A file that
 * names another host is never taken over (a shared directory on several
 * hosts): remove it by hand once that host's rotation is known to be dead.
 * Lock files are emptied on release, never removed (removing one while
 * another process waits on it would let two holders in).
 */
export class FileRotationLocks implements RotationLocks {
  readonly #dir: string;

  /** Keeps lock files in `dir` (created when needed). */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The lock file of a secret. */
  pathOf(secretName: string): string {
    return `${this.#dir}/${encodeURIComponent(secretName)}.lock`;
  }

  async acquire(secretName: string, rotationId: string): Promise<RotationLock> {
    await Deno.mkdir(this.#dir, { recursive: true });
    const path = this.pathOf(secretName);
    const mine: LockFileContent = {
      pid: Deno.pid,
      host: hostName(),
      startedAt: new Date().toISOString(),
      rotationId,
    };
    const file = await Deno.open(path, { read: true, write: true, create: true, mode: 0o600 });
    let locked = false;
    try {
      locked = await file.tryLock(true);
      const text = await readAll(file);
      let held: Partial<LockFileContent> = {};
      try {
        held = text.trim() === "" ? {} : JSON.parse(text);
      } catch {
        held = {};
      }
      if (!locked) {
        throw new RotationLockedError(
          secretName,
          held.rotationId,
          held.pid !== undefined
            ? `process ${held.pid} on ${held.host} since ${held.startedAt}`
            : "",
        );
      }
      if (
        held.host !== undefined && held.host !== mine.host && held.host !== "unknown" &&
        mine.host !== "unknown"
      ) {
        throw new RotationLockedError(
          secretName,
          held.rotationId,
          `taken on host ${held.host} since ${held.startedAt}; ` +
            `if that rotation is dead, empty ${path}`,
        );
      }
      // Free, or left by a holder that died (the kernel dropped its lock): ours now.
      await file.truncate(0);
      await file.seek(0, Deno.SeekMode.Start);
      const bytes = new TextEncoder().encode(JSON.stringify(mine));
      let off = 0;
      while (off < bytes.length) off += await file.write(bytes.subarray(off));
      await file.sync().catch(() => {});
    } catch (err) {
      if (locked) await file.unlock().catch(() => {});
      file.close();
      throw err;
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          await file.truncate(0);
        } finally {
          await file.unlock().catch(() => {});
          file.close();
        }
      },
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function readAll(file: Deno.FsFile): Promise<string> {
  await file.seek(0, Deno.SeekMode.Start);
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = await file.read(buf);
    if (n === null || n === 0) break;
    chunks.push(buf.slice(0, n));
    if (chunks.length > 16) break; // a lock file is small
  }
  return new TextDecoder().decode(
    chunks.reduce((a, c) => {
      const out = new Uint8Array(a.length + c.length);
      out.set(a);
      out.set(c, a.length);
      return out;
    }, new Uint8Array()),
  );
}

/** Locks in memory (tests, one process). */
export class MemoryRotationLocks implements RotationLocks {
  readonly #held = new Map<string, string>();

  acquire(secretName: string, rotationId: string): Promise<RotationLock> {
    const running = this.#held.get(secretName);
    if (running !== undefined) {
      return Promise.reject(new RotationLockedError(secretName, running));
    }
    this.#held.set(secretName, rotationId);
    return Promise.resolve({
      release: () => {
        if (this.#held.get(secretName) === rotationId) this.#held.delete(secretName);
        return Promise.resolve();
      },
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
