/**
 * `deno task example:gateway`: the execution gateway, started with the
 * broker key pair from the secret manager (`alpaca/api_key`: `key_id`,
 * `secret_key`) and its settings from the environment. On a rotation of the
 * pair it builds a new broker client; requests in flight finish on the old.
 *
 * @module
 */

import { z } from "zod";
import { createSecretManager } from "@keyward/secrets/factory";
import { loadConfig } from "@keyward/secrets/config";
import { Secret } from "@keyward/secrets";
import { createGatewayApp } from "./app.ts";
import { BrokerClient } from "./broker.ts";
import {
  failStart,
  installRedaction,
  protect,
  serve,
  stopOnSignal,
  watchSecret,
} from "../_shared/service.ts";

const SERVICE = "execution-gateway";

const Settings = z.object({
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8082),
  LOG_LEVEL: z.enum(["debug", "info", "warning", "error"]).default("info"),
  DRY_RUN: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  ALPACA_BASE_URL: z.url().default("https://paper-api.alpaca.markets"),
  MAX_ORDER_QTY: z.coerce.number().int().positive().default(1000),
});

const log = await installRedaction(SERVICE, Deno.env.get("LOG_LEVEL") ?? "info");

let manager;
let config;
try {
  manager = await createSecretManager();
  config = await loadConfig({
    settings: Settings,
    secrets: { broker: { name: "alpaca/api_key", fields: ["key_id", "secret_key"] as const } },
    manager,
    bootstrap: ["VAULT_TOKEN", "VAULT_SECRET_ID", "KEYWARD_FILE_KEY", "KEYWARD_SNAPSHOT_KEY"],
  });
} catch (err) {
  failStart(SERVICE, err);
}
const { settings, secrets, versions } = config;
protect("alpaca/api_key:key_id", secrets.broker.key_id.reveal());
protect("alpaca/api_key:secret_key", secrets.broker.secret_key.reveal());

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
