/**
 * Rotation events: a tiny publish/subscribe port that tells every cache
 * holding a secret that the secret changed, so it refetches at once instead of
 * serving the old value until its TTL runs out. Payloads are names only.
 *
 * @module
 */

/**
 * Receives the names of secrets that changed. Must not throw; must not do long work.
 *
 * @example
 * ```ts
 * import { InMemoryRotationEvents, type RotationListener } from "@keyward/secrets";
 *
 * const changed = new Set<string>();
 * const listener: RotationListener = (names) => names.forEach((n) => changed.add(n));
 * const events = new InMemoryRotationEvents();
 * const stop = await events.subscribe(listener);
 * await events.publish(["db/password", "api/token"]);
 * await stop();
 * if ([...changed].sort().join() !== "api/token,db/password") throw new Error();
 * ```
 */
export type RotationListener = (names: string[]) => void;

/**
 * Carries "these secrets changed" between processes (Postgres LISTEN/NOTIFY in
 * `@keyward/secrets/postgres`) or inside one (the in-memory implementation).
 * Events hold names only, never values.
 *
 * @example Two caches that agree: a write through one refetches in the other
 * ```ts
 * import { InMemoryRotationEvents, MemorySecretManager, type RotationEvents, withCache } from "@keyward/secrets";
 *
 * const events: RotationEvents = new InMemoryRotationEvents();
 * const backend = new MemorySecretManager({ initial: { "db/password": "pw-0001" } });
 * const a = withCache(backend, { rotationEvents: events });
 * const b = withCache(backend, { rotationEvents: events });
 * await Promise.all([a.ready, b.ready]);
 * await b.getSecret("db/password");
 * await a.setSecret("db/password", "pw-0002"); // publishes "db/password"
 * await b.whenIdle();
 * if (await b.getSecret("db/password") !== "pw-0002") throw new Error();
 * await a.close();
 * await b.close();
 * ```
 */
export interface RotationEvents {
  /** Tells every subscriber that `names` changed. */
  publish(names: string[]): Promise<void>;
  /**
   * Calls `listener` for every event. `onReconnect` is called after a dropped
   * connection was re-opened: events may have been missed meanwhile, so a
   * subscriber should refresh everything it holds. Resolves, once listening,
   * to a function that stops the subscription.
   */
  subscribe(
    listener: RotationListener,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>>;
}

/**
 * {@linkcode RotationEvents} inside one process: for tests, and for several
 * caches in one service that must agree.
 *
 * @example
 * ```ts
 * import { InMemoryRotationEvents } from "@keyward/secrets";
 *
 * const events = new InMemoryRotationEvents();
 * const seen: string[] = [];
 * const stop = await events.subscribe((names) => seen.push(...names));
 * await events.publish(["db/password"]);
 * await stop();
 * await events.publish(["ignored/after-stop"]);
 * if (seen.join() !== "db/password") throw new Error();
 * ```
 */
export class InMemoryRotationEvents implements RotationEvents {
  readonly #subscribers = new Set<{ listener: RotationListener; onReconnect?: () => void }>();

  /** {@inheritDoc RotationEvents.publish} */
  publish(names: string[]): Promise<void> {
    const copy = [...names];
    for (const s of [...this.#subscribers]) s.listener([...copy]);
    return Promise.resolve();
  }

  /** {@inheritDoc RotationEvents.subscribe} */
  subscribe(
    listener: RotationListener,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>> {
    const sub = onReconnect ? { listener, onReconnect } : { listener };
    this.#subscribers.add(sub);
    return Promise.resolve(() => {
      this.#subscribers.delete(sub);
      return Promise.resolve();
    });
  }

  /**
   * Tells every subscriber its connection was re-opened (what a networked
   * implementation does after an outage), so each refreshes what it holds.
   */
  simulateReconnect(): void {
    for (const s of [...this.#subscribers]) s.onReconnect?.();
  }

  /** How many subscriptions are active. */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }
}
