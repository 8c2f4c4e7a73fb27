/**
 * The execution gateway's HTTP app: `POST /orders` runs the risk check and
 * submits the order to the broker with the key pair the live client holds;
 * `GET /health` checks the broker account and reports that key's version.
 *
 * @module
 */

import { Hono } from "hono";
import type { BrokerClient } from "./broker.ts";
import { checkOrder, type Order } from "./risk.ts";

/** Options of {@linkcode createGatewayApp}. */
export interface GatewayOptions {
  /** The live broker client (swapped on rotation). */
  client: () => BrokerClient;
  /** Largest quantity per order. */
  maxQty: number;
  /** Refuse to submit (answer what would be sent). */
  dryRun: boolean;
}

/** Builds the gateway's app. */
export function createGatewayApp(options: GatewayOptions): Hono {
  const app = new Hono();
  app.get("/health", async (c) => {
    const client = options.client();
    try {
      await client.account(AbortSignal.timeout(5_000));
      return c.json({ status: "ok", versions: { "alpaca/api_key": client.version } });
    } catch (err) {
      return c.json({ status: "error", error: (err as Error).message }, 503);
    }
  });
  app.post("/orders", async (c) => {
    let order: Order;
    try {
      order = await c.req.json<Order>();
    } catch {
      return c.json({ error: { code: "bad_request", message: "the body is not JSON" } }, 400);
    }
    const client = options.client();
    const refused = await checkOrder(order, {
      maxQty: options.maxQty,
      buyingPower: async () => Number((await client.account()).buying_power),
    });
    if (refused) return c.json({ error: { code: "risk", message: refused } }, 422);
    if (options.dryRun) return c.json({ dryRun: true, order }, 202);
    const sent = await client.submit(order, AbortSignal.timeout(10_000));
    if (sent.status >= 400) {
      return c.json(
        { error: { code: "broker", message: `the broker answered ${sent.status}` } },
        502,
      );
    }
    return c.json({ order: sent.body, keyVersion: client.version }, 201);
  });
  app.onError((_err, c) => c.json({ error: { code: "internal", message: "request failed" } }, 500));
  return app;
}
