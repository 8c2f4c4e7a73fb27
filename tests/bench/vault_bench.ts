/**
 * A read of the current version through the Vault backend, next to a bare
 * `fetch` of the same URL, against the Vault test server in the same run:
 * the ratio is the backend's own cost (validation, token, timeout signal,
 * retry wrapper, JSON to fields) on top of the HTTP round trip.
 *
 *   deno task bench tests/bench/vault_bench.ts
 */
import { VaultSecretManager } from "../../mod.ts";
import { FakeVaultServer } from "../fakes/vault_server.ts";

const server = await FakeVaultServer.start();
const manager = new VaultSecretManager({ address: server.url, auth: { token: server.rootToken } });
await manager.setSecret("bench/api_key", "PKBENCH00000000000000");
const url = `${server.url}/v1/secret/data/bench/api_key`;
const headers = { "X-Vault-Token": server.rootToken };
// Warm both paths (connection pool, JIT) so neither pays the start-up cost inside its bench.
for (let i = 0; i < 300; i++) {
  await (await fetch(url, { headers })).arrayBuffer();
  await manager.getSecret("bench/api_key");
}

Deno.bench("bare fetch of secret/data/bench/api_key", {
  group: "vault read",
  baseline: true,
}, async () => {
  const res = await fetch(url, { headers });
  const body = await res.json();
  if (body.data.data.value !== "PKBENCH00000000000000") throw new Error("wrong value");
});

Deno.bench('VaultSecretManager.getSecret("bench/api_key")', { group: "vault read" }, async () => {
  const value = await manager.getSecret("bench/api_key");
  if (value !== "PKBENCH00000000000000") throw new Error("wrong value");
});

globalThis.addEventListener("unload", () => {
  void manager.close();
  void server.close();
});
