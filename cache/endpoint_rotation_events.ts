/**
 * Rotation events through the host's secrets endpoint (issue 16): the
 * instance subscribes to `GET /v1/events` (server-sent events, names only)
 * instead of opening a LISTEN connection of its own, and publishes with
 * `POST /v1/events`. Web-standard (fetch and streams only).
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";
import { keywardLogger } from "../core/log.ts";
import type { RotationEvents, RotationListener } from "./rotation_events.ts";

/**
 * Options of {@linkcode EndpointRotationEvents}.
 *
 * @example
 * ```ts
 * import type { EndpointRotationEventsOptions } from "@keyward/secrets/fleet";
 *
 * const options: EndpointRotationEventsOptions = {
 *   url: "http://127.0.0.1:8787",
 *   token: "kw_example-token",
 *   retryMinMs: 250,
 *   retryMaxMs: 5_000,
 *   idleTimeoutMs: 45_000,
 * };
 * if (options.retryMinMs !== 250) throw new Error();
 * ```
 */
export interface EndpointRotationEventsOptions {
  /** The endpoint's base URL, e.g. `http://127.0.0.1:8787` (`KEYWARD_ENDPOINT_URL`). */
  url: string;
  /** A token with the `events` role (`KEYWARD_ENDPOINT_TOKEN`). */
  token: string;
  /**
   * The first delay before reconnecting, in milliseconds; doubles up to `retryMaxMs`.
   * @default {250}
   */
  retryMinMs?: number;
  /**
   * The longest delay before reconnecting, in milliseconds.
   * @default {5000}
   */
  retryMaxMs?: number;
  /**
   * A stream silent this long (no event, no heartbeat) is taken for dead and re-opened.
   * @default {45000}
   */
  idleTimeoutMs?: number;
  /**
   * The fetch to use.
   * @default {globalThis.fetch}
   */
  fetch?: typeof fetch;
}

/**
 * {@linkcode RotationEvents} through the host's endpoint: `subscribe` reads
 * `GET /v1/events` and re-opens it after a drop (then calls `onReconnect`,
 * so a cache refreshes everything it holds: events may have been missed),
 * also when the endpoint says its own subscription was re-opened (a
 * `resync` event). `publish` posts the names to `POST /v1/events`.
 *
 * @example Against a stand-in endpoint (a fetch that answers one event, then ends)
 * ```ts
 * import { EndpointRotationEvents } from "@keyward/secrets/fleet";
 *
 * const seen: string[] = [];
 * let calls = 0;
 * const stub: typeof fetch = (_input, init) => {
 *   calls += 1;
 *   if (calls > 1) return new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(new Error("stopped"))));
 *   const body = "event: ready\ndata: {}\n\nid: 1\nevent: rotated\ndata: [\"db/password\"]\n\n";
 *   return Promise.resolve(new Response(body, { headers: { "content-type": "text/event-stream" } }));
 * };
 * const events = new EndpointRotationEvents({ url: "http://127.0.0.1:8787", token: "t", fetch: stub });
 * let got!: () => void;
 * const arrived = new Promise<void>((r) => (got = r));
 * const stop = await events.subscribe((names) => { seen.push(...names); got(); });
 * await arrived;
 * await stop();
 * if (seen.join() !== "db/password") throw new Error(seen.join());
 * ```
 */
export class EndpointRotationEvents implements RotationEvents {
  readonly #base: string;
  readonly #token: string;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #idleMs: number;
  readonly #fetch: typeof fetch;
  readonly #log = keywardLogger("cache", "endpoint-events");

  /** Reads from and posts to the endpoint at `options.url`. */
  constructor(options: EndpointRotationEventsOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new ConfigError("the endpoint URL is not a URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new ConfigError("the endpoint URL must be http: or https:");
    }
    if (!options.token) throw new ConfigError("the endpoint needs a token with the events role");
    this.#base = url.toString().replace(/\/+$/, "");
    this.#token = options.token;
    this.#retryMinMs = options.retryMinMs ?? 250;
    this.#retryMaxMs = options.retryMaxMs ?? 5_000;
    this.#idleMs = options.idleTimeoutMs ?? 45_000;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** {@inheritDoc RotationEvents.publish} */
  async publish(names: string[]): Promise<void> {
    if (names.length === 0) return;
    const res = await this.#fetch(`${this.#base}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.#token}`, "content-type": "application/json" },
      body: JSON.stringify({ names }),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`the endpoint refused the rotation event (HTTP ${res.status})`);
  }

  /**
   * {@inheritDoc RotationEvents.subscribe}
   *
   * Resolves once the first stream is open; when the endpoint cannot be
   * reached yet, resolves anyway and keeps trying (the first stream then
   * counts as a reconnect). A refused token (401, 403) rejects.
   */
  subscribe(
    listener: RotationListener,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>> {
    const stop = new AbortController();
    let settle!: (err?: Error) => void;
    const first = new Promise<void>((resolve, reject) => {
      settle = (err) => (err ? reject(err) : resolve());
    });
    let opened = false;
    const loop = (async () => {
      let delay = this.#retryMinMs;
      let everOpened = false;
      while (!stop.signal.aborted) {
        const outcome = await this.#stream(stop.signal, listener, () => {
          if (everOpened) onReconnect?.();
          everOpened = true;
          delay = this.#retryMinMs;
          if (!opened) {
            opened = true;
            settle();
          }
        }, () => onReconnect?.());
        if (outcome === "refused" && !opened) {
          settle(
            new ConfigError("the endpoint refused the events token (it needs the events role)"),
          );
          return;
        }
        if (!opened) {
          // Unreachable at start: do not hold the caller up; the first stream will refresh.
          opened = true;
          everOpened = true;
          settle();
        }
        if (stop.signal.aborted) return;
        await sleep(delay, stop.signal);
        delay = Math.min(delay * 2, this.#retryMaxMs);
      }
    })();
    return first.then(() => async () => {
      stop.abort();
      // The stream's read ends on the abort; do not let a stuck socket hold close() up.
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([loop, new Promise((r) => (timer = setTimeout(r, 2_000)))]);
      clearTimeout(timer);
    });
  }

  /** Reads one stream until it ends; "refused" for a 401/403. */
  async #stream(
    stopSignal: AbortSignal,
    listener: RotationListener,
    onOpen: () => void,
    onResync: () => void,
  ): Promise<"ended" | "refused"> {
    const ctl = new AbortController();
    let reader: ReadableStreamDefaultReader<string> | undefined;
    const abort = () => {
      ctl.abort();
      reader?.cancel().catch(() => {});
    };
    stopSignal.addEventListener("abort", abort, { once: true });
    let idle: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(idle);
      idle = setTimeout(abort, this.#idleMs);
    };
    try {
      touch();
      const res = await this.#fetch(`${this.#base}/v1/events`, {
        headers: { authorization: `Bearer ${this.#token}`, accept: "text/event-stream" },
        signal: ctl.signal,
      });
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        return "refused";
      }
      if (!res.ok || !res.body) {
        await res.body?.cancel();
        return "ended";
      }
      onOpen();
      reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      if (ctl.signal.aborted) return "ended";
      let buffered = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        touch();
        buffered += value;
        let end: number;
        while ((end = buffered.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + (buffered[end] === "\r" ? 4 : 2));
          this.#dispatch(block, listener, onResync);
        }
      }
    } catch {
      // A dropped connection, the idle timeout or stop(): the loop decides.
    } finally {
      clearTimeout(idle);
      stopSignal.removeEventListener("abort", abort);
    }
    if (!stopSignal.aborted) this.#log.info("Rotation events: the endpoint's stream ended");
    return "ended";
  }

  #dispatch(block: string, listener: RotationListener, onResync: () => void): void {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    if (event === "resync") {
      onResync();
      return;
    }
    if (event !== "rotated") return;
    try {
      const names = JSON.parse(data.join("\n")) as unknown;
      if (Array.isArray(names)) {
        const valid = names.filter((n): n is string => typeof n === "string");
        if (valid.length > 0) listener(valid);
      }
    } catch {
      this.#log.warn("Rotation events: ignored a malformed event from the endpoint");
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
