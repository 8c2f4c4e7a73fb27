/**
 * The signal service's HTTP app: `GET /health` runs `select 1` on the live
 * pool and reports the version of `database/app` that pool was opened with;
 * `GET /signals` is a stand-in for the service's real work (a query).
 *
 * @module
 */

import { Hono } from "hono";
import type { Sql } from "postgres";

/** The pool the app queries, and the credential version it was opened with. */
export interface LivePool {
  /** The pool. */
  sql: Sql;
  /** The version of `database/app` it logs in with. */
  version: string;
}

/** Builds the app over a getter of the live pool (swapped on rotation). */
export function createSignalApp(pool: () => LivePool): Hono {
  const app = new Hono();
  app.get("/health", async (c) => {
    const live = pool();
    try {
      await live.sql`select 1`;
      return c.json({ status: "ok", versions: { "database/app": live.version } });
    } catch (err) {
      const code = (err as { code?: string }).code ?? "unknown";
      return c.json({ status: "error", error: `database check failed (${code})` }, 503);
    }
  });
  app.get("/signals", async (c) => {
    const live = pool();
    const [row] = await live.sql<{ n: number }[]>`select 1 + 1 as n`;
    return c.json({ signals: [], checked: row.n === 2 });
  });
  app.onError((err, c) => {
    const code = (err as { code?: string }).code ?? "internal";
    return c.json({ error: { code, message: "request failed" } }, 500);
  });
  return app;
}
