/**
 * `deno task example:signal`: the signal service, started with its database
 * credential from the secret manager (`database/app`: `username`,
 * `password`) and its settings from the environment. On a rotation of that
 * secret it opens a new pool with the new credential and drains the old
 * one, so no request fails during a password rotation.
 *
 * @module
 */

import postgres from "postgres";
import { z } from "zod";
import { postgresUrl } from "@keyward/secrets/config";
import { createSignalApp, type LivePool } from "./app.ts";
import {
  baseSettings,
  installRedaction,
  loadService,
  serve,
  stopOnSignal,
  watchSecret,
} from "../_shared/service.ts";

const SERVICE = "signal-service";

const Settings = baseSettings(8081).extend({
  DATABASE_HOST: z.string().default("127.0.0.1"),
  DATABASE_PORT: z.coerce.number().int().default(5432),
  DATABASE_NAME: z.string().default("keyward_test"),
});

const log = await installRedaction(SERVICE, Deno.env.get("LOG_LEVEL") ?? "info");
const { manager, settings, secrets, versions } = await loadService(SERVICE, Settings, {
  db: { name: "database/app", fields: ["username", "password"] as const },
});

const where = {
  host: settings.DATABASE_HOST,
  port: settings.DATABASE_PORT,
  database: settings.DATABASE_NAME,
};
const open = (credential: { username: string; password: string }) =>
  postgres(postgresUrl(where, credential).reveal(), {
    max: 5,
    onnotice: () => {},
    connect_timeout: 5,
  });

let live: LivePool = {
  sql: open({ username: secrets.db.username.reveal(), password: secrets.db.password.reveal() }),
  version: versions["database/app"],
};

const stopWatch = watchSecret(manager, "database/app", live.version, async (read) => {
  const fields = JSON.parse(read.value) as { username: string; password: string };
  const next = open(fields);
  try {
    await next`select 1`; // the new credential works before any request uses it
  } catch (err) {
    // keep serving on the live pool; the watch retries (and warns once)
    await next.end({ timeout: 1 }).catch(() => {});
    const code = (err as { code?: string }).code ?? "unknown";
    throw new Error(
      `the new credential of database/app (version ${read.version}) failed its check (${code})`,
    );
  }
  const old = live;
  live = { sql: next, version: read.version };
  log.info("database/app rotated: version {from} -> {to}; draining the old pool", {
    from: old.version,
    to: read.version,
  });
  await old.sql.end({ timeout: 30 });
});

const app = createSignalApp(() => live);
const server = serve(SERVICE, settings.HOST, settings.PORT, app.fetch);

stopOnSignal(async () => {
  stopWatch();
  await server.shutdown();
  await live.sql.end({ timeout: 5 });
  await manager.close();
  console.log(`${SERVICE} stopped`);
});
