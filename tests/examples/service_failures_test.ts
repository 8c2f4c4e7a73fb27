import assert from "node:assert/strict";
import postgres from "postgres";
import { openTestDatabase } from "../_postgres.ts";
import {
  openTestStore,
  randomPassword,
  runRole,
  runToExit,
  signalDatabase,
  startService,
  until,
} from "./_services.ts";

const SIGNAL = "examples/signal-service/main.ts";
const GATEWAY = "examples/execution-gateway/main.ts";

// Regression: a new database/app version whose credential Postgres refused left a pool behind at
// every 200 ms tick, and the watch's warning went to a logger category nothing printed.
Deno.test("signal-service: a rotated credential Postgres refuses keeps the live pool, warns once by name, and is taken once it works", async () => {
  const db = await openTestDatabase("signal_refused");
  if (!db) return;
  const store = await openTestStore();
  const role = runRole("sigref");
  const first = randomPassword();
  const second = randomPassword();
  try {
    const { env } = await signalDatabase(db, store, role, first);
    const service = await startService(SIGNAL, env);
    try {
      // version 2 is not (yet) the role's password
      await store.manager.setSecret("database/app", { username: role, password: second });
      await until("the watch to warn", () =>
        Promise.resolve(
          /Watching "?database\/app"? failed .*version 2.*failed its check \(28P01\)/.test(
            service.output(),
          ),
        ));
      const health = await fetch(`${service.url}/health`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok", versions: { "database/app": "1" } });
      assert.equal((await fetch(`${service.url}/signals`).then((r) => r.json())).checked, true);

      // the provider learns the password: the next tick takes version 2
      await db.sql.unsafe(`ALTER ROLE "${role}" PASSWORD '${second.replaceAll("'", "''")}'`);
      await until("the service to report version 2", async () => {
        const res = await fetch(`${service.url}/health`);
        return res.status === 200 && (await res.json()).versions["database/app"] === "2";
      });
      const warnings = service.output().match(/Watching "?database\/app"? failed/g) ?? [];
      assert.equal(warnings.length, 1, service.output());
    } finally {
      assert.equal(await service.stop(), 0, service.output());
      for (const value of [first, second]) {
        assert.ok(!service.output().includes(value), "the service printed a password");
      }
    }
  } finally {
    const admin = postgres(db.url, { max: 1, onnotice: () => {} });
    await admin.unsafe(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${role}'`,
    ).catch(() => {});
    await admin.unsafe(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
    await admin.end();
    await store.close();
    await db.close();
  }
});

Deno.test("both services: a port already taken stops the start naming it, exit 1", async () => {
  const store = await openTestStore();
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await store.manager.setSecret("alpaca/api_key", {
      key_id: "PKPORT0000000001",
      secret_key: "canary-port-0001",
    });
    await store.manager.setSecret("database/app", {
      username: "u_a",
      password: "canary-port-0002",
    });
    const port = String(taken.addr.port);
    for (const [script, service] of [[GATEWAY, "execution-gateway"], [SIGNAL, "signal-service"]]) {
      const run = await runToExit(script, { ...store.env, PORT: port });
      assert.equal(run.code, 1, run.output);
      assert.match(
        run.output,
        new RegExp(
          `${service}: cannot start: cannot listen on 127\\.0\\.0\\.1:${port} \\(AddrInUse`,
        ),
      );
      for (const value of ["canary-port-0001", "canary-port-0002", "PKPORT"]) {
        assert.ok(!run.output.includes(value), "a value was printed");
      }
    }
  } finally {
    taken.close();
    await store.close();
  }
});
