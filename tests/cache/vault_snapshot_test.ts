import assert from "node:assert/strict";
import {
  encryptedSnapshot,
  MemorySnapshotStore,
  SecretAccessError,
  type ServeEvent,
  VaultSecretManager,
  withCache,
} from "../../mod.ts";
import { FakeVaultServer } from "../fakes/vault_server.ts";
import { FakeClock } from "./_helpers.ts";

const TTL = 60_000;
const STALE = 600_000;
const CANARY = `canary-${crypto.randomUUID()}`;

function vault(server: FakeVaultServer): VaultSecretManager {
  return new VaultSecretManager({
    address: server.url,
    auth: { token: server.rootToken },
    timeoutMs: 2_000,
    retry: { attempts: 1 },
  });
}

Deno.test("the snapshot lets a new instance start while the Vault test server is down, and is refused after the window", async () => {
  const server = await FakeVaultServer.start();
  try {
    const clock = new FakeClock();
    const key = crypto.getRandomValues(new Uint8Array(32));
    const store = new MemorySnapshotStore();
    const options = {
      ttlMs: TTL,
      staleIfErrorMs: STALE,
      now: clock.now,
      snapshot: encryptedSnapshot({ store, key }),
    };

    const first = withCache(vault(server), options);
    await first.setSecret("alpaca/api_key", { key_id: "PKTEST0000000001", secret: CANARY });
    assert.equal(await first.getSecret("alpaca/api_key", { field: "secret" }), CANARY);
    await first.close();
    const raw = new TextDecoder("latin1").decode((await store.read())!);
    assert.ok(!raw.includes(CANARY) && !raw.includes("alpaca"), "the snapshot is not in clear");

    await server.down();
    clock.advance(TTL + STALE - 1);
    const events: ServeEvent[] = [];
    const second = withCache(vault(server), { ...options, onServe: (e) => events.push(e) });
    assert.equal(await second.getSecret("alpaca/api_key", { field: "secret" }), CANARY);
    assert.deepEqual(events, [{ name: "alpaca/api_key", source: "stale", field: "secret" }]);
    await second.close();

    clock.advance(2);
    const third = withCache(vault(server), options);
    const err = await third.getSecret("alpaca/api_key", { field: "secret" }).then(
      () => null,
      (e) => e,
    );
    assert.ok(err instanceof SecretAccessError, String(err));
    assert.equal(err.reason, "unreachable");
    assert.ok(!String(err.message).includes(CANARY));
    await third.close();

    // Vault comes back: the live value is served, not the snapshot's.
    server.up();
    const fourth = withCache(vault(server), options);
    assert.equal(await fourth.getSecret("alpaca/api_key", { field: "key_id" }), "PKTEST0000000001");
    await fourth.close();
  } finally {
    await server.close();
  }
});
