/**
 * One instance of the rotation fleet benchmark: a Vault-backed, cached
 * manager listening for rotation events on Postgres, with a health answer
 * reporting the version bound to its "client" (re-read on each event).
 *
 *   deno run ... tests/bench/_fleet_instance.ts <vault url> <token> <database url> <name>
 */
import postgres from "postgres";
import { VaultSecretManager, withCache } from "../../mod.ts";
import { PostgresRotationEvents } from "../../postgres.ts";
import { healthAnswer } from "../../rotation.ts";
import { readVersioned } from "../../rotation/_versions.ts";

const [vaultUrl, token, dbUrl, name] = Deno.args;
const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
const events = new PostgresRotationEvents(sql);
const manager = withCache(new VaultSecretManager({ address: vaultUrl, auth: { token } }), {
  rotationEvents: events,
});
await manager.ready;
let bound = (await readVersioned(manager, name, { stage: "current" })).version;
await events.subscribe(async (names) => {
  if (names.includes(name)) {
    bound = (await readVersioned(manager, name, { stage: "current" })).version;
  }
});
const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen: () => {} },
  () => Response.json(healthAnswer({ [name]: bound })),
);
console.log(`ready ${server.addr.port}`);
