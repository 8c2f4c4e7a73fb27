/**
 * The factory's endpoint modes (issue 16): SECRET_ROTATION_EVENTS=endpoint
 * and SECRET_AUDIT=endpoint with KEYWARD_ENDPOINT_URL and
 * KEYWARD_ENDPOINT_TOKEN: a promotion through one instance reaches another
 * through the endpoint, and both instances' audit events arrive under the
 * token's service; without the endpoint settings, a clear refusal.
 */

import assert from "node:assert/strict";
import { createSecretManager } from "../../factory.ts";
import { ConfigError, InMemoryRotationEvents } from "../../mod.ts";
import { RecordingAuditSink } from "../../testing.ts";
import { FakeVaultServer } from "../fakes/vault_server.ts";
import { fleetTokens, startEndpoint, until } from "./_fleet.ts";

Deno.test("factory: the endpoint modes need KEYWARD_ENDPOINT_URL and KEYWARD_ENDPOINT_TOKEN", async () => {
  const vault = { SECRET_BACKEND: "vault", VAULT_ADDR: "http://127.0.0.1:1", VAULT_TOKEN: "t-1" };
  for (
    const env of [
      { ...vault, SECRET_ROTATION_EVENTS: "endpoint" },
      { ...vault, SECRET_AUDIT: "endpoint", KEYWARD_ENDPOINT_URL: "http://127.0.0.1:8787" },
    ]
  ) {
    await assert.rejects(createSecretManager({ env }), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, /needs KEYWARD_ENDPOINT_URL .* and KEYWARD_ENDPOINT_TOKEN/);
      return true;
    });
  }
});

Deno.test({
  name:
    "factory: two instances on the endpoint: a promotion through one reaches the other; audit under the token's service",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const server = await FakeVaultServer.start();
    const source = new InMemoryRotationEvents();
    const ingested = new RecordingAuditSink();
    const { token, entries } = await fleetTokens();
    const endpoint = await startEndpoint(entries, () => ({
      events: source,
      auditIngest: { sink: ingested, lastStored: () => Promise.resolve(0) },
    }));
    const name = `database/key-${crypto.randomUUID().slice(0, 8)}`;
    const canary = `canary-${crypto.randomUUID()}`;
    try {
      const env = {
        SECRET_BACKEND: "vault",
        VAULT_ADDR: server.url,
        VAULT_TOKEN: server.rootToken,
        SECRET_ROTATION_EVENTS: "endpoint",
        SECRET_AUDIT: "endpoint",
        KEYWARD_ENDPOINT_URL: endpoint.url,
        KEYWARD_ENDPOINT_TOKEN: token,
      };
      const service = await createSecretManager({ env });
      const operator = await createSecretManager({ env });
      await operator.setSecret(name, "first-value-0001");
      assert.equal(await service.getSecret(name), "first-value-0001"); // cached for an hour
      const pending = await operator.setSecret(name, canary, { stage: "pending" });
      await operator.promote(name, pending.version); // published through POST /v1/events
      await until(async () => (await service.getSecret(name)) === canary, 5_000, "the promotion");
      await operator.close();
      await service.close(); // flushes the audit to the endpoint
      const mine = ingested.events.filter((e) => e.secretName === name);
      assert.ok(mine.some((e) => e.action === "promote"));
      assert.ok(mine.some((e) => e.action === "get"));
      assert.ok(mine.every((e) => e.service === "fleet-svc"), "the service is the token's");
      assert.ok(!JSON.stringify(ingested.events).includes(canary), "no value in an audit event");
    } finally {
      await endpoint.stop();
      await server.close();
    }
  },
});
