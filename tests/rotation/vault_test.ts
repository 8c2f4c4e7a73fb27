/**
 * A full `random` rotation on the Vault test server: the pending version
 * (`pending:<n>`) is promoted into a KV version number, which verify waits
 * for (read from `current` after promotion, never assumed).
 */

import assert from "node:assert/strict";
import { VaultSecretManager } from "../../mod.ts";
import { InMemoryRotationEvents } from "../../cache/rotation_events.ts";
import { exitCodeOf } from "../../rotation/engine.ts";
import { FakeVaultServer } from "../fakes/vault_server.ts";
import { assertStepsClosed, logText, oneRule, startService, testEngine } from "./_helpers.ts";

const NAME = "webhooks/signing";
const CANARY = "canary-vault-whsec-3c9a0e1f";

async function withVault(fn: (m: VaultSecretManager) => Promise<void>): Promise<void> {
  const server = await FakeVaultServer.start();
  const manager = new VaultSecretManager({
    address: server.url,
    auth: { token: server.rootToken },
  });
  try {
    await manager.setSecret(NAME, CANARY);
    await fn(manager);
  } finally {
    await manager.close();
    await server.close();
  }
}

Deno.test("vault: a full random rotation; verify sees the promoted KV version", async () => {
  await withVault(async (manager) => {
    const events = new InMemoryRotationEvents();
    const service = await startService(manager, NAME, events);
    try {
      const { engine, log } = testEngine(manager, {
        events,
        policy: oneRule({
          prefix: "webhooks/",
          rotator: "random",
          verify: [{ service: "api", url: service.url, timeoutSeconds: 5 }],
        }),
      });
      const r = await engine.rotate(NAME, { graceMs: 0, deleteAfterMs: 0 });
      assert.equal(r.outcome, "completed", String(r.error));
      const pending = r.steps.find((s) => s.step === "create_pending")!.version!;
      assert.match(pending, /^pending/);
      assert.equal(r.newVersion, "2", "the KV version number, not the pending id");
      assert.equal(service.bound(), "2");
      assert.notEqual(await manager.getSecret(NAME), CANARY);
      assertStepsClosed(await log.entries());
      assert.ok(!(await logText(log)).includes(CANARY));
    } finally {
      await service.close();
    }
  });
});

Deno.test("vault: a verify that never sees the new version rolls back (exit 8)", async () => {
  await withVault(async (manager) => {
    const stubborn = await startService(manager, NAME);
    try {
      const { engine } = testEngine(manager, {
        policy: oneRule({
          prefix: "webhooks/",
          rotator: "random",
          verify: [{ service: "worker", url: stubborn.url, timeoutSeconds: 0.3 }],
        }),
      });
      const r = await engine.rotate(NAME);
      assert.equal(exitCodeOf(r), 8);
      assert.deepEqual(r.failedServices, ["worker"]);
      assert.equal(await manager.getSecret(NAME), CANARY);
    } finally {
      await stubborn.close();
    }
  });
});
