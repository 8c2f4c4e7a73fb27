/**
 * End to end: both example services started as subprocesses on the Vault
 * test server (a remote backend: cache and Postgres rotation events on,
 * secrets under `test/`) and on the embedded file store, with the real
 * Postgres and the fake broker.
 */

import assert from "node:assert/strict";
import { startFakeBroker } from "../fakes/alpaca_broker.ts";
import { runToExit, startService } from "../examples/_services.ts";
import {
  ACCOUNT,
  brokerPair,
  createRoles,
  databaseSettings,
  type E2eBackend,
  GATEWAY,
  openE2eDatabase,
  openFileBackend,
  openVaultBackend,
  randomPassword,
  SIGNAL,
  snapshotSettings,
} from "./_e2e.ts";

const db = await openE2eDatabase("e2e_startup");
const opts = { ignore: db === null, sanitizeOps: false, sanitizeResources: false };

const backends: [string, () => Promise<E2eBackend>][] = [
  ["the Vault test server", () => openVaultBackend(db!)],
  ["the embedded file store", () => openFileBackend()],
];

for (const [label, open] of backends) {
  Deno.test({
    ...opts,
    name:
      `e2e on ${label}: both services start, /health is 200, an order reaches the broker with the backend's key`,
    fn: async () => {
      const backend = await open();
      const broker = startFakeBroker();
      const key = brokerPair("START");
      const password = randomPassword();
      const roles = await createRoles(db!, password);
      try {
        broker.addPair(key.key_id, key.secret_key, ACCOUNT);
        await backend.manager.setSecret("alpaca/api_key", key);
        await backend.manager.setSecret("database/app", { username: roles.first, password });
        if (backend.vault) {
          // seeded under the test/ namespace
          assert.ok(
            backend.vault.requests.some((r) =>
              r.method === "POST" && r.path === "secret/data/test/alpaca/api_key"
            ),
            "the secrets live under test/",
          );
        }
        const [signal, gateway] = await Promise.all([
          startService(SIGNAL, { ...backend.env, ...databaseSettings(db!) }),
          startService(GATEWAY, {
            ...backend.env,
            ALPACA_BASE_URL: broker.baseUrl,
            DRY_RUN: "false",
          }),
        ]);
        try {
          for (
            const [service, name] of [[signal, "database/app"], [
              gateway,
              "alpaca/api_key",
            ]] as const
          ) {
            const res = await fetch(`${service.url}/health`);
            assert.equal(res.status, 200, service.output());
            const body = await res.json();
            assert.equal(body.status, "ok");
            assert.equal(typeof body.versions[name], "string");
          }
          const res = await fetch(`${gateway.url}/orders`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ symbol: "SPY", qty: 3, side: "buy" }),
          });
          assert.equal(res.status, 201, await res.clone().text());
          await res.body?.cancel();
          assert.equal(broker.orders.length, 1);
          assert.equal(broker.orders[0].keyId, key.key_id);
          const signals = await fetch(`${signal.url}/signals`);
          assert.equal(signals.status, 200);
          assert.equal((await signals.json()).checked, true);
        } finally {
          const codes = [await signal.stop(), await gateway.stop()];
          assert.deepEqual(codes, [0, 0], signal.output() + gateway.output());
          const printed = signal.output() + gateway.output();
          for (const value of [password, key.key_id, key.secret_key]) {
            assert.ok(!printed.includes(value), "a service printed a secret value");
          }
        }
      } finally {
        await roles.drop();
        await broker.close();
        await backend.close();
      }
    },
  });

  Deno.test({
    ...opts,
    name: `e2e on ${label}: a missing secret stops each service with its name and a non-zero exit`,
    fn: async () => {
      const backend = await open();
      try {
        await backend.manager.setSecret("other/thing", "canary-e2e-missing-0001");
        const signal = await runToExit(SIGNAL, backend.env);
        assert.notEqual(signal.code, 0, signal.output);
        assert.match(signal.output, /signal-service: cannot start: .*database\/app: not found/s);
        const gateway = await runToExit(GATEWAY, backend.env);
        assert.notEqual(gateway.code, 0, gateway.output);
        assert.match(
          gateway.output,
          /execution-gateway: cannot start: .*alpaca\/api_key: not found/s,
        );
        assert.ok(!(signal.output + gateway.output).includes("canary-e2e-missing-0001"));
      } finally {
        await backend.close();
      }
    },
  });
}

Deno.test({
  ...opts,
  name:
    "e2e on the Vault test server: backend down with a warm snapshot, both services start and serve",
  fn: async () => {
    const backend = await openVaultBackend(db!);
    const broker = startFakeBroker();
    const key = brokerPair("SNAP");
    const password = randomPassword();
    const roles = await createRoles(db!, password);
    const snapshots = [await snapshotSettings(backend.dir), await snapshotSettings(backend.dir)];
    try {
      broker.addPair(key.key_id, key.secret_key, ACCOUNT);
      await backend.manager.setSecret("alpaca/api_key", key);
      await backend.manager.setSecret("database/app", { username: roles.first, password });
      const gatewayEnv: Record<string, string> = {
        ...backend.env,
        ...snapshots[0].env,
        ALPACA_BASE_URL: broker.baseUrl,
        DRY_RUN: "false",
      };
      const signalEnv: Record<string, string> = {
        ...backend.env,
        ...snapshots[1].env,
        ...databaseSettings(db!),
      };
      // a first start with Vault up warms each service's snapshot
      for (const [script, env] of [[GATEWAY, gatewayEnv], [SIGNAL, signalEnv]] as const) {
        const warm = await startService(script, env);
        assert.equal((await fetch(`${warm.url}/health`)).status, 200);
        assert.equal(await warm.stop(), 0, warm.output());
        const raw = new TextDecoder("latin1").decode(
          await Deno.readFile(env.SECRET_CACHE_SNAPSHOT),
        );
        for (const value of [key.secret_key, key.key_id, password, "alpaca", "database"]) {
          assert.ok(!raw.includes(value), "the snapshot is encrypted");
        }
      }

      await backend.vault!.down();
      const seenBefore = backend.vault!.requestCount;
      const [gateway, signal] = await Promise.all([
        startService(GATEWAY, gatewayEnv),
        startService(SIGNAL, signalEnv),
      ]);
      try {
        const health = await fetch(`${gateway.url}/health`);
        assert.equal(health.status, 200, gateway.output());
        assert.deepEqual(await health.json(), {
          status: "ok",
          versions: { "alpaca/api_key": "1" },
        });
        const res = await fetch(`${gateway.url}/orders`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ symbol: "QQQ", qty: 1, side: "sell" }),
        });
        assert.equal(res.status, 201, await res.clone().text());
        await res.body?.cancel();
        assert.equal(broker.orders.at(-1)!.keyId, key.key_id);

        const signalHealth = await fetch(`${signal.url}/health`);
        assert.equal(signalHealth.status, 200, signal.output());
        assert.deepEqual(await signalHealth.json(), {
          status: "ok",
          versions: { "database/app": "1" },
        });
        assert.equal((await fetch(`${signal.url}/signals`).then((r) => r.json())).checked, true);
        assert.equal(backend.vault!.requestCount, seenBefore, "Vault was down throughout");
        assert.match(gateway.output(), /loaded \d+ last-known-good entries from the snapshot/);
      } finally {
        const codes = [await gateway.stop(), await signal.stop()];
        assert.deepEqual(codes, [0, 0], gateway.output() + signal.output());
        const printed = gateway.output() + signal.output();
        for (const value of [key.secret_key, key.key_id, password]) {
          assert.ok(!printed.includes(value), "a service printed a secret value");
        }
      }
    } finally {
      for (const snapshot of snapshots) await snapshot.remove();
      await roles.drop();
      await broker.close();
      await backend.close();
    }
  },
});

Deno.test({
  ...opts,
  name:
    "e2e on the Vault test server: backend down and no snapshot, each service exits after its retries with a clear error",
  fn: async () => {
    const backend = await openVaultBackend(db!);
    try {
      await backend.manager.setSecret("alpaca/api_key", brokerPair("DOWN"));
      await backend.vault!.down();
      for (const [script, name] of [[GATEWAY, "alpaca/api_key"], [SIGNAL, "database/app"]]) {
        const run = await runToExit(script, backend.env);
        assert.equal(run.code, 4, run.output);
        assert.match(
          run.output,
          new RegExp(
            `cannot start: .*secret ${name}: cannot be read \\(access: .*test/${name}.* unreachable \\(3 attempts\\)`,
            "s",
          ),
        );
        assert.match(run.output, /attempt 2\/3/, "it retried before giving up");
      }
    } finally {
      await backend.close();
    }
  },
});

Deno.test({
  ...opts,
  name:
    "e2e on the embedded file store: a store that cannot be opened stops each service with a clear error",
  fn: async () => {
    // The file store is local: the factory puts no cache (and so no snapshot) in front of it.
    const backend = await openFileBackend();
    try {
      await backend.manager.setSecret("alpaca/api_key", brokerPair("FILE"));
      const wrongKey = `${backend.dir}/wrong.key`;
      const bytes = crypto.getRandomValues(new Uint8Array(32));
      await Deno.writeTextFile(wrongKey, btoa(String.fromCharCode(...bytes)), { mode: 0o600 });
      const env = { ...backend.env, KEYWARD_FILE_KEY_FILE: wrongKey };
      for (const [script, name] of [[GATEWAY, "alpaca/api_key"], [SIGNAL, "database/app"]]) {
        const run = await runToExit(script, env);
        assert.equal(run.code, 4, run.output);
        assert.match(run.output, new RegExp(`cannot start: .*secret ${name}: cannot be read`, "s"));
        assert.match(run.output, /cannot be opened with this key/);
      }
      const missingKey = await runToExit(GATEWAY, {
        ...backend.env,
        KEYWARD_FILE_KEY_FILE: `${backend.dir}/absent.key`,
      });
      assert.equal(missingKey.code, 2, missingKey.output);
      assert.match(missingKey.output, /KEYWARD_FILE_KEY_FILE: the key file .* does not exist/);
    } finally {
      await backend.close();
    }
  },
});
