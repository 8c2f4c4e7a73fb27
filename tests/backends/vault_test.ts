import { contractSuite } from "../../testing.ts";
import { VaultSecretManager } from "../../mod.ts";
import { FakeVaultServer } from "../fakes/vault_server.ts";

let server: FakeVaultServer | undefined;
for (
  const c of contractSuite({
    create: async () => {
      server = await FakeVaultServer.start();
      return new VaultSecretManager({ address: server.url, auth: { token: server.rootToken } });
    },
    retainedVersions: 10,
    ioCount: () => server!.requestCount,
    dispose: async (m) => {
      await m.close();
      await server?.close();
    },
  })
) {
  Deno.test(`vault: ${c.name}`, c.fn);
}
