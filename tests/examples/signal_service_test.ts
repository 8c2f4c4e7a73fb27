import assert from "node:assert/strict";
import { openTestDatabase, RUN_ID } from "../_postgres.ts";
import { openTestStore, runToExit, startService, until } from "./_services.ts";

const SCRIPT = "examples/signal-service/main.ts";

function randomPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return "pw/" + Array.from(bytes, (b) => b.toString(36)).join("") + "#@%";
}

Deno.test("signal-service: health on a pool from database/app, a new pool after a rotation, SIGTERM stops it", async () => {
  const db = await openTestDatabase("signal_svc");
  if (!db) return;
  const store = await openTestStore();
  const role = `sig_${RUN_ID}`.toLowerCase();
  const first = randomPassword();
  const second = randomPassword();
  const url = new URL(db.url);
  try {
    await db.sql.unsafe(`CREATE ROLE "${role}" LOGIN PASSWORD '${first.replaceAll("'", "''")}'`);
    await store.manager.setSecret("database/app", { username: role, password: first });
    const service = await startService(SCRIPT, {
      ...store.env,
      DATABASE_HOST: url.hostname,
      DATABASE_PORT: url.port || "5432",
      DATABASE_NAME: url.pathname.slice(1),
    });
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
