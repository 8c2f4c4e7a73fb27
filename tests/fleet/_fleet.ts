/**
 * Shared set-up for the fleet tests (issue 16): an endpoint on 127.0.0.1
 * (the real app behind the runtime's server) that can be stopped and
 * started again on the same port, with tokens for the events and
 * audit-write roles.
 */

import { createServerApp, type ServerAppOptions, type TokenEntry } from "../../server.ts";
import { listen } from "../../server/serve.ts";
import { staticTokens } from "../../server.ts";
import { MemorySecretManager, RecordingAuditSink } from "../../testing.ts";
import { makeToken } from "../server/_helpers.ts";

/** An endpoint that can go down and come back on its port. */
export interface TestEndpoint {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Stops it: the listener, the event streams, the subscription. */
  stop(): Promise<void>;
  /** Starts it again on the same port, with fresh options from the builder. */
  start(): Promise<void>;
}

/** Tokens for a fleet: `events` and `audit-write`, service `fleet-svc`, prefixes `database/`. */
export async function fleetTokens(): Promise<{ token: string; entries: TokenEntry[] }> {
  const { token, entry } = await makeToken({
    service: "fleet-svc",
    prefixes: ["database/"],
    roles: ["read", "events", "audit-write"],
    ratePerSecond: 1_000_000,
  });
  return { token, entries: [entry] };
}

/**
 * Serves `createServerApp` on 127.0.0.1; `build` gives the fleet options
 * afresh at each start (a restarted endpoint has a new subscription and a
 * new ingest, as a new process would).
 */
export async function startEndpoint(
  entries: TokenEntry[],
  build: () => Partial<ServerAppOptions> | Promise<Partial<ServerAppOptions>>,
): Promise<TestEndpoint> {
  let port = 0;
  let running: { stop(): Promise<void> } | undefined;
  const start = async () => {
    const extra = await build();
    const server = createServerApp({
      manager: new MemorySecretManager(),
      tokens: staticTokens(entries),
      audit: new RecordingAuditSink(),
      ratePerSecond: 1_000_000,
      eventHeartbeatMs: 1_000,
      ...extra,
    });
    let listener;
    for (let attempt = 0;; attempt++) {
      try {
        listener = await listen(server.app.fetch, "127.0.0.1", port);
        break;
      } catch (err) {
        if (attempt > 50 || !(err instanceof Deno.errors.AddrInUse)) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    port = listener.port;
    running = {
      async stop() {
        const closing = listener.close();
        await server.close();
        await closing;
      },
    };
  };
  await start();
  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    start,
    async stop() {
      await running?.stop();
      running = undefined;
    },
  };
}

/** Resolves when `check()` holds (checked every 10 ms), rejects after `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
