/**
 * Rotation events over Postgres LISTEN/NOTIFY, on `npm:postgres`. Exported
 * from the `./postgres` entry.
 *
 * @module
 */

import type postgres from "postgres";
import { ConfigError } from "../core/errors.ts";
import { keywardLogger } from "../core/log.ts";
import { nameProblem } from "../core/names.ts";
import type { RotationEvents, RotationListener } from "./rotation_events.ts";

/**
 * The channel keyward's rotation events use.
 *
 * @example The channel used unless `channel` is given (shown with a stand-in client that records NOTIFYs)
 * ```ts
 * import type postgres from "postgres";
 * import { PostgresRotationEvents, ROTATION_CHANNEL } from "@keyward/secrets/postgres";
 *
 * const notified: string[] = [];
 * const sql = { // records what a postgres.js client would send; use postgres(url) in production
 *   notify: (channel: string, payload: string) => Promise.resolve(void notified.push(`${channel} ${payload}`)),
 *   listen: () => Promise.reject(new Error("not used here")),
 * };
 * const events = new PostgresRotationEvents(sql as unknown as postgres.Sql);
 * await events.publish(["db/password"]);
 * if (notified[0] !== `${ROTATION_CHANNEL} ["db/password"]`) throw new Error(notified[0]);
 * ```
 */
export const ROTATION_CHANNEL = "keyward_rotation";

/** Postgres refuses NOTIFY payloads of 8000 bytes or more; stay well below. */
const MAX_PAYLOAD_BYTES = 7_000;

/**
 * Options of {@linkcode PostgresRotationEvents}.
 *
 * @example A channel per environment (needs Postgres: `DATABASE_URL`)
 * ```ts ignore
 * import postgres from "postgres";
 * import { PostgresRotationEvents } from "@keyward/secrets/postgres";
 * import { MemorySecretManager, withCache } from "@keyward/secrets";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const events = new PostgresRotationEvents(sql, { channel: "keyward_rotation_staging" });
 * const secrets = withCache(new MemorySecretManager(), { rotationEvents: events });
 * await secrets.ready; // LISTEN keyward_rotation_staging
 * await events.publish(["db/password"]); // NOTIFY keyward_rotation_staging, '["db/password"]'
 * if (events.channel !== "keyward_rotation_staging") throw new Error();
 * await secrets.close();
 * await sql.end();
 * ```
 */
export interface PostgresRotationEventsOptions {
  /**
   * The LISTEN/NOTIFY channel.
   * @default {"keyward_rotation"}
   */
  channel?: string;
}

/**
 * {@linkcode RotationEvents} between processes over Postgres LISTEN/NOTIFY.
 * The payload is a JSON array of secret names, never values. Subscribing
 * uses postgres.js's `sql.listen`, which keeps one dedicated connection and
 * re-opens it when it drops; each re-open calls the subscriber's
 * `onReconnect`, so a subscribed cache refetches everything it holds (events
 * sent while the connection was down are lost by Postgres).
 *
 * The `sql` client stays the caller's: `close()` it yourself when done.
 *
 * @example
 * ```ts ignore
 * import postgres from "postgres";
 * import { PostgresRotationEvents } from "@keyward/secrets/postgres";
 * import { MemorySecretManager, withCache } from "@keyward/secrets";
 *
 * const sql = postgres(Deno.env.get("DATABASE_URL")!);
 * const events = new PostgresRotationEvents(sql);
 * const secrets = withCache(new MemorySecretManager(), { rotationEvents: events });
 * await secrets.ready; // listening
 * await events.publish(["db/password"]); // every subscribed instance refetches db/password
 * await secrets.close();
 * await sql.end();
 * ```
 */
export class PostgresRotationEvents implements RotationEvents {
  readonly #sql: postgres.Sql;
  readonly #channel: string;
  readonly #log = keywardLogger("cache", "rotation-events");

  /** Publishes and listens through `sql`. */
  constructor(sql: postgres.Sql, options: PostgresRotationEventsOptions = {}) {
    if (typeof sql?.listen !== "function" || typeof sql?.notify !== "function") {
      throw new ConfigError("PostgresRotationEvents needs a postgres.js client (npm:postgres)");
    }
    this.#sql = sql;
    this.#channel = options.channel ?? ROTATION_CHANNEL;
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(this.#channel)) {
      throw new ConfigError(
        "option channel must be a lower-case Postgres identifier of at most 63 characters",
      );
    }
  }

  /** The channel in use. */
  get channel(): string {
    return this.#channel;
  }

  /** {@inheritDoc RotationEvents.publish} */
  async publish(names: string[]): Promise<void> {
    for (const name of names) {
      const problem = nameProblem(name);
      if (problem !== undefined) {
        throw new ConfigError(`cannot publish a rotation event for an invalid name: ${problem}`);
      }
    }
    for (const payload of chunk(names)) {
      await this.#sql.notify(this.#channel, payload);
    }
  }

  /** {@inheritDoc RotationEvents.subscribe} */
  async subscribe(
    listener: RotationListener,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>> {
    let listening = false;
    let stopped = false;
    const { unlisten } = await this.#sql.listen(
      this.#channel,
      (payload) => {
        if (stopped) return;
        const names = this.#parse(payload);
        if (names.length > 0) listener(names);
      },
      () => {
        // Called once when listening starts, then after every re-opened connection.
        if (!listening) {
          listening = true;
          return;
        }
        if (stopped) return;
        this.#log.info("Rotation events: the listening connection was re-opened");
        onReconnect?.();
      },
    );
    listening = true;
    return async () => {
      // postgres.js re-registers a listener after a reconnect under a new
      // identity, which its `unlisten` then misses; the flag keeps a stopped
      // subscription silent either way.
      stopped = true;
      await unlisten();
    };
  }

  #parse(payload: string): string[] {
    try {
      const parsed = JSON.parse(payload) as unknown;
      if (!Array.isArray(parsed)) throw new TypeError("not an array");
      return parsed.filter((n): n is string => nameProblem(n) === undefined);
    } catch {
      this.#log.warn("Rotation events: ignored a malformed payload on {channel}", {
        channel: this.#channel,
      });
      return [];
    }
  }
}

/** Splits names into JSON payloads under the NOTIFY size limit. */
function chunk(names: string[]): string[] {
  const out: string[] = [];
  let batch: string[] = [];
  let size = 2;
  for (const name of names) {
    const cost = name.length + 3; // quotes and comma; names are ASCII
    if (batch.length > 0 && size + cost > MAX_PAYLOAD_BYTES) {
      out.push(JSON.stringify(batch));
      batch = [];
      size = 2;
    }
    batch.push(name);
    size += cost;
  }
  if (batch.length > 0) out.push(JSON.stringify(batch));
  return out;
}
