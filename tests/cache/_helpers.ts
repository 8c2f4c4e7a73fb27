/** Shared helpers of the cache tests: a fake clock, LogTape capture, a gated backend. */

import { configure, type LogRecord, reset } from "@logtape/logtape";
import type { ReadOptions, SecretManager } from "../../mod.ts";

/** A clock the test moves by hand. */
export class FakeClock {
  t = 1_000_000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Captures every keyward log record while `fn` runs. */
export async function withLogs<T>(fn: (records: LogRecord[]) => Promise<T>): Promise<T> {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { test: (r: LogRecord) => records.push(r) },
    loggers: [
      { category: ["keyward"], sinks: ["test"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "error" },
    ],
  });
  try {
    return await fn(records);
  } finally {
    await reset();
  }
}

/** Everything a record would show: message parts and properties. */
export function recordText(r: LogRecord): string {
  return JSON.stringify({ message: r.message, properties: r.properties, raw: r.rawMessage }, (
    _k,
    v,
  ) => v instanceof Error ? { name: v.name, message: v.message, cause: String(v.cause) } : v);
}

/** Lets pending promise callbacks run (no timers involved). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** A backend wrapper whose reads wait until the test releases them. */
export class GatedManager {
  readonly pending: Array<{ release: () => void; fail: (err: unknown) => void }> = [];
  constructor(readonly inner: SecretManager) {}
  /** The wrapped manager, with gated reads. */
  get manager(): SecretManager {
    const inner = this.inner;
    const pending = this.pending;
    return new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === "getSecret") {
          // The backend answers at once; the answer is held until released.
          return (name: string, opts?: ReadOptions) => {
            const answer = inner.getSecret(name, opts);
            return new Promise<void>((release, fail) =>
              pending.push({ release: () => release(), fail })
            ).then(() => answer);
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  }
  releaseAll(): void {
    for (const p of this.pending.splice(0)) p.release();
  }
}

/** A view of `m` whose `close()` leaves `m` open (several caches over one backend). */
export function sharedView(m: SecretManager): SecretManager {
  return {
    getSecret: (n, o) => m.getSecret(n, o),
    readSecret: (n, o) => m.readSecret(n, o),
    deprecateVersion: (n, v, o) => m.deprecateVersion(n, v, o),
    destroyVersion: (n, v, o) => m.destroyVersion(n, v, o),
    listSecrets: (p, o) => m.listSecrets(p, o),
    setSecret: (n, v, o) => m.setSecret(n, v, o),
    describeSecret: (n, o) => m.describeSecret(n, o),
    promote: (n, v, o) => m.promote(n, v, o),
    deleteSecret: (n, o) => m.deleteSecret(n, o),
    close: () => Promise.resolve(),
  };
}
