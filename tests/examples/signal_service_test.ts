import assert from "node:assert/strict";
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

const SCRIPT = "examples/signal-service/main.ts";

Deno.test("signal-service: health on a pool from database/app, a new pool after a rotation, SIGTERM stops it", async () => {
  const db = await openTestDatabase("signal_svc");
  if (!db) return;
  const store = await openTestStore();
  const role = runRole("sig");
  const first = randomPassword();
  const second = randomPassword();
  try {
    const { env } = await signalDatabase(db, store, role, first);
    const service = await startService(SCRIPT, env);
    try {
      const health = await fetch(`${service.url}/health`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok", versions: { "database/app": "1" } });

      // rotate: the new password works at Postgres, then the secret changes
      await db.sql.unsafe(`ALTER ROLE "${role}" PASSWORD '${second.replaceAll("'", "''")}'`);
      await store.manager.setSecret("database/app", { username: role, password: second });
      await until("the service to report version 2", async () => {
        const res = await fetch(`${service.url}/health`);
        const body = await res.json();
        return res.status === 200 && body.versions["database/app"] === "2";
      });
      // the new pool logs in with the new password: a fresh request succeeds
      const signals = await fetch(`${service.url}/signals`);
      assert.equal(signals.status, 200);
      assert.equal((await signals.json()).checked, true);
    } finally {
      const code = await service.stop();
      assert.equal(code, 0, service.output());
      for (const value of [first, second]) {
        assert.ok(!service.output().includes(value), "the service printed a password");
      }
      assert.match(service.output(), /signal-service stopped/);
    }
  } finally {
    await db.sql.unsafe(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
    await store.close();
    await db.close();
  }
});

Deno.test("signal-service: a missing secret stops the start with its name and a non-zero exit", async () => {
  const store = await openTestStore();
  try {
    await store.manager.setSecret("other/secret", "canary-signal-missing-0001");
    const { code, output } = await runToExit(SCRIPT, store.env);
    assert.equal(code, 2, output);
    assert.match(output, /database\/app: not found/);
    assert.ok(!output.includes("canary-signal-missing-0001"));
  } finally {
    await store.close();
  }
});

Deno.test("signal-service: an invalid setting stops the start, named, with no value printed", async () => {
  const store = await openTestStore();
  try {
    await store.manager.setSecret("database/app", { username: "u", password: "canary-sig-0002" });
    const { code, output } = await runToExit(SCRIPT, {
      ...store.env,
      DATABASE_PORT: "not-a-port",
    });
    assert.equal(code, 2, output);
    assert.match(output, /setting DATABASE_PORT/);
    assert.ok(!output.includes("canary-sig-0002"));
  } finally {
    await store.close();
  }
});
