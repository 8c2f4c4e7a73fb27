/**
 * One rotation per secret on the embedded default: a lock file holding the
 * pid, host, start time and rotation id. A later run proves a lock stale
 * when it was taken on this host by a process that no longer exists.
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
  try {
    return Deno.readTextFileSync("/proc/sys/kernel/hostname").trim() || "unknown";
  } catch {
    return "unknown";
  }
}

function processAlive(pid: number): boolean {
  try {
    Deno.statSync("/proc/self");
  } catch {
    return true; // no /proc: cannot prove the holder gone
  }
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Lock files under a directory, one per secret. */
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
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
        try {
          await file.write(new TextEncoder().encode(JSON.stringify(mine)));
        } finally {
          file.close();
        }
        let released = false;
        return {
          release: async () => {
            if (released) return;
            released = true;
            await Deno.remove(path).catch(() => {});
          },
        };
      } catch (err) {
        if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      }
      let text: string;
      try {
        text = await Deno.readTextFile(path);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) continue; // released meanwhile
        throw err;
      }
      let held: Partial<LockFileContent> = {};
      try {
        held = JSON.parse(text);
      } catch {
        // written half by a holder killed mid-write: only stale if old enough
        const info = await Deno.stat(path);
        if (Date.now() - (info.mtime?.getTime() ?? Date.now()) < 60_000) {
          throw new RotationLockedError(secretName, undefined, "a lock file is being written");
        }
        await Deno.remove(path).catch(() => {});
        continue;
      }
      const stale = held.host === mine.host && typeof held.pid === "number" &&
        !processAlive(held.pid);
      if (!stale) {
        throw new RotationLockedError(
          secretName,
          held.rotationId,
          held.host === mine.host
            ? `process ${held.pid} since ${held.startedAt}`
            : `on host ${held.host} since ${held.startedAt}`,
        );
      }
      // Stale: the holder died. Remove it only if it is still the same file.
      if ((await Deno.readTextFile(path).catch(() => "")) === text) {
        await Deno.remove(path).catch(() => {});
      }
    }
    throw new RotationLockedError(secretName, undefined, "the lock kept changing");
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
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
