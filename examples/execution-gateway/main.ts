/**
 * `deno task example:gateway`: the execution gateway, started with the
 * broker key pair from the secret manager (`alpaca/api_key`: `key_id`,
 * `secret_key`) and its settings from the environment. On a rotation of the
 * pair it builds a new broker client; requests in flight finish on the old.
 *
 * @module
 */

import { z } from "zod";
import { Secret } from "@keyward/secrets";
import { createGatewayApp } from "./app.ts";
import { BrokerClient } from "./broker.ts";
import {
  baseSettings,
  installRedaction,
  loadService,
  serve,
  stopOnSignal,
  watchSecret,
} from "../_shared/service.ts";

const SERVICE = "execution-gateway";

const Settings = baseSettings(8082).extend({
  ALPACA_BASE_URL: z.url().default("https://paper-api.alpaca.markets"),
  MAX_ORDER_QTY: z.coerce.number().int().positive().default(1000),
});

const log = await installRedaction(SERVICE, Deno.env.get("LOG_LEVEL") ?? "info");
const { manager, settings, secrets, versions } = await loadService(SERVICE, Settings, {
  broker: { name: "alpaca/api_key", fields: ["key_id", "secret_key"] as const },
});

let client = new BrokerClient(
  settings.ALPACA_BASE_URL,
  { keyId: secrets.broker.key_id, secretKey: secrets.broker.secret_key },
  versions["alpaca/api_key"],
);

const stopWatch = watchSecret(manager, "alpaca/api_key", client.version, (read) => {
  const pair = JSON.parse(read.value) as { key_id: string; secret_key: string };
  const previous = client.version;
  client = new BrokerClient(
    settings.ALPACA_BASE_URL,
    { keyId: new Secret(pair.key_id), secretKey: new Secret(pair.secret_key) },
    read.version,
  );
  log.info("alpaca/api_key rotated: version {from} -> {to}", { from: previous, to: read.version });
  return Promise.resolve();
});

const app = createGatewayApp({
  client: () => client,
  maxQty: settings.MAX_ORDER_QTY,
  dryRun: settings.DRY_RUN,
});
const server = serve(SERVICE, settings.HOST, settings.PORT, app.fetch);

stopOnSignal(async () => {
  stopWatch();
  await server.shutdown();
  await manager.close();
  console.log(`${SERVICE} stopped`);
});
