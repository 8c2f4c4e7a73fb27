import assert from "node:assert/strict";
import {
  encryptedSnapshot,
  MemorySnapshotStore,
  VaultSecretManager,
  withCache,
} from "../../mod.ts";
import { FakeVaultServer } from "../fakes/vault_server.ts";

// Regression: an entry restored from the snapshot answered getSecret only, so a service that
// reads its secrets with readSecret (for the versions its health answer reports) could not start
// while the backend was down, however warm its snapshot.
Deno.test("a snapshot entry keeps the version read, so readSecret is served from it while Vault is down", async () => {
  const server = await FakeVaultServer.start();
  const canary = `canary-${crypto.randomUUID()}`;
  try {
    const store = new MemorySnapshotStore();
    const key = crypto.getRandomValues(new Uint8Array(32));
    const vault = () =>
      new VaultSecretManager({
        address: server.url,
        auth: { token: server.rootToken },
        timeoutMs: 2_000,
        retry: { attempts: 1 },
      });
    const options = { snapshot: encryptedSnapshot({ store, key }) };

    const first = withCache(vault(), options);
    await first.setSecret("alpaca/api_key", { key_id: "PKSNAP0001", secret_key: "old-0001" });
    await first.setSecret("alpaca/api_key", { key_id: "PKSNAP0002", secret_key: canary });
    const live = await first.readSecret("alpaca/api_key");
    assert.equal(live.version, "2");
    await first.close();

    await server.down();
    const second = withCache(vault(), options);
    const read = await second.readSecret("alpaca/api_key");
    assert.equal(read.version, "2");
    assert.equal(read.stage, live.stage);
    assert.equal(JSON.parse(read.value).secret_key, canary);
    assert.equal(JSON.parse(await second.getSecret("alpaca/api_key")).key_id, "PKSNAP0002");
    await second.close();
  } finally {
    await server.close();
  }
});
