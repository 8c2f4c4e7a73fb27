/**
 * `npm:node-vault` as an independent Vault client against the test server:
 * what node-vault writes through the KV v2 paths the backend reads, and what
 * the backend writes node-vault reads. node-vault has no KV v2 helpers
 * (REFERENCE D.1), so it is given raw `data/` and `metadata/` paths, as its
 * users do. It runs under Deno's Node compatibility (axios over `node:http`).
 */
import assert from "node:assert/strict";
import nodeVault from "node-vault";
import { VaultSecretManager } from "../../mod.ts";
import { FakeVaultServer } from "../fakes/vault_server.ts";

interface NodeVaultClient {
  token: string;
  read(
    path: string,
  ): Promise<{ data: { data: Record<string, unknown>; metadata: { version: number } } }>;
  write(path: string, data: unknown): Promise<unknown>;
  update(path: string, data: unknown): Promise<unknown>;
  list(path: string): Promise<{ data: { keys: string[] } }>;
  delete(path: string): Promise<unknown>;
  approleLogin(
    args: { role_id: string; secret_id: string },
  ): Promise<{ auth: { client_token: string } }>;
  tokenLookupSelf(): Promise<{ data: { id: string; ttl: number } }>;
  health(): Promise<{ initialized: boolean; sealed: boolean }>;
}

type NodeVaultFactory = (opts: Record<string, unknown>) => NodeVaultClient;

async function withBoth(
  body: (client: NodeVaultClient, m: VaultSecretManager, server: FakeVaultServer) => Promise<void>,
): Promise<void> {
  const server = await FakeVaultServer.start({
    appRoles: { ci: { roleId: "nv-role", secretId: "nv-secret", ttlSeconds: 600 } },
  });
  const client = (nodeVault as unknown as NodeVaultFactory)({
    apiVersion: "v1",
    endpoint: server.url,
    token: server.rootToken,
  });
  const m = new VaultSecretManager({ address: server.url, auth: { token: server.rootToken } });
  try {
    await body(client, m, server);
  } finally {
    await m.close();
    await server.close();
  }
}

Deno.test("node-vault: what node-vault writes to secret/data/... the backend reads", async () => {
  await withBoth(async (client, m) => {
    await client.write("secret/data/alpaca/api_key_id", { data: { value: "PKNODEVAULT0000001" } });
    assert.equal(await m.getSecret("alpaca/api_key_id"), "PKNODEVAULT0000001");
    await client.write("secret/data/db/login", {
      data: { user: "nv-user", password: "nv-password-0001" },
    });
    assert.equal(await m.getSecret("db/login", { field: "password" }), "nv-password-0001");
    // node-vault's update() is a merge PATCH: a new version the backend sees as current.
    await client.update("secret/data/db/login", { data: { password: "nv-password-0002" } });
    assert.equal(await m.getSecret("db/login", { field: "password" }), "nv-password-0002");
    assert.equal(await m.getSecret("db/login", { field: "user" }), "nv-user");
    assert.equal(
      await m.getSecret("db/login", { stage: "previous", field: "password" }),
      "nv-password-0001",
    );
    assert.deepEqual(await m.listSecrets(), ["alpaca/api_key_id", "db/login"]);
  });
});

Deno.test("node-vault: what the backend writes node-vault reads, and a pending version stays hidden", async () => {
  await withBoth(async (client, m) => {
    const v1 = await m.setSecret("svc/token", "backend-written-0001");
    const read = await client.read("secret/data/svc/token");
    assert.equal(read.data.data.value, "backend-written-0001");
    assert.equal(String(read.data.metadata.version), v1.version);

    const p = await m.setSecret("svc/token", "backend-pending-0002", { stage: "pending" });
    assert.equal(
      (await client.read("secret/data/svc/token")).data.data.value,
      "backend-written-0001",
      "node-vault still sees the current value",
    );
    assert.deepEqual((await client.list("secret/metadata/svc")).data.keys, ["token"]);

    await m.promote("svc/token", p.version);
    const promoted = await client.read("secret/data/svc/token");
    assert.equal(promoted.data.data.value, "backend-pending-0002");
    assert.equal(promoted.data.metadata.version, 2);

    await m.setSecret("svc/login", { user: "u1", password: "backend-field-0001" });
    assert.deepEqual((await client.read("secret/data/svc/login")).data.data, {
      password: "backend-field-0001",
      user: "u1",
    });
  });
});

Deno.test("node-vault: errors and login against the test server look as node-vault expects", async () => {
  await withBoth(async (client, m, server) => {
    // REFERENCE D.1: a 404 without `errors` (a deleted version) becomes "Status 404".
    await m.setSecret("gone/key", "deleted-value-0001");
    await client.delete("secret/data/gone/key");
    await assert.rejects(client.read("secret/data/gone/key"), (err: Error) => {
      assert.equal(err.message, "Status 404");
      return true;
    });
    await assert.rejects(client.read("secret/data/never/written"), /Status 404/);

    const login = await client.approleLogin({ role_id: "nv-role", secret_id: "nv-secret" });
    assert.match(login.auth.client_token, /^hvs\./);
    assert.equal(client.token, login.auth.client_token, "node-vault took the token from auth.*");
    const self = await client.tokenLookupSelf();
    assert.equal(self.data.id, login.auth.client_token);
    assert.ok(self.data.ttl > 0 && self.data.ttl <= 600);

    server.revokeToken(login.auth.client_token);
    await assert.rejects(client.read("secret/data/gone/key"), (err: Error) => {
      assert.match(err.message, /permission denied/);
      assert.match(err.message, /invalid token/);
      return true;
    });
    const health = await client.health();
    assert.equal(health.sealed, false);
  });
});
