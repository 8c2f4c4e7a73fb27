/**
 * The rotation fleet benchmark: N instances (subprocesses, default 20) on
 * the Vault test server, each with the cache and Postgres rotation events;
 * the time from `promote` until every instance's health answer reports the
 * new version. Target: under 1 s for the fleet.
 *
 *   DATABASE_URL=postgres://... deno run --allow-net=127.0.0.1,localhost --allow-env \
 *     --allow-read --allow-run --allow-sys tests/bench/rotation_fleet.ts [instances] [rounds]
 */
import postgres from "postgres";
import { VaultSecretManager } from "../../mod.ts";
import { PostgresRotationEvents } from "../../postgres.ts";
import { reportedVersion } from "../../rotation.ts";
import { readVersioned } from "../../rotation/_versions.ts";
import { FakeVaultServer } from "../fakes/vault_server.ts";
import { databaseUrl } from "../_postgres.ts";

const N = Number(Deno.args[0] ?? 20);
const ROUNDS = Number(Deno.args[1] ?? 5);
const db = await databaseUrl();
if (!db) throw new Error("set DATABASE_URL (or run under .ci/run, whose test store holds it)");
const NAME = "bench/fleet/signing";
const server = await FakeVaultServer.start();
const manager = new VaultSecretManager({ address: server.url, auth: { token: server.rootToken } });
await manager.setSecret(NAME, "fleet-initial-0123456789");
const sql = postgres(db, { max: 1, onnotice: () => {} });
const events = new PostgresRotationEvents(sql);
const instance = new URL("./_fleet_instance.ts", import.meta.url).pathname;

const children = [];
const urls: string[] = [];
for (let i = 0; i < N; i++) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1,localhost",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      instance,
      server.url,
      server.rootToken,
      db,
      NAME,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  children.push(child);
}
for (const child of children) {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/ready \d+/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error("an instance ended before it was ready");
    text += value;
  }
  urls.push(`http://127.0.0.1:${/ready (\d+)/.exec(text)![1]}/health`);
  reader.releaseLock();
}

const times: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const pending = await manager.setSecret(NAME, `fleet-${round}-${crypto.randomUUID()}`, {
    stage: "pending",
  });
  const t0 = performance.now();
  await manager.promote(NAME, pending.version);
  await events.publish([NAME]);
  const version = (await readVersioned(manager, NAME, { stage: "current" })).version;
  await Promise.all(urls.map(async (url) => {
    for (;;) {
      const body = await (await fetch(url)).json();
      if (reportedVersion(body, NAME) === version) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  }));
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(
  `${N} instances, ${ROUNDS} promotions: promote -> all report the new version: ` +
    `median ${times[Math.floor(times.length / 2)].toFixed(0)} ms, max ${
      times.at(-1)!.toFixed(0)
    } ms (target < 1000 ms)`,
);
for (const child of children) child.kill("SIGTERM");
await Promise.all(children.map((c) => c.status));
await sql.end();
await manager.close();
await server.close();
