/**
 * The wrappers built on ForwardingSecretManager (redaction, fault injection)
 * and the cache keep the contract, the version cases included: each is run
 * through the whole contract suite over the memory backend. (The namespace
 * wrapper is left out: its errors name the namespaced secret and it counts
 * the namespace in the length limit, as tests/core/namespace_test.ts checks;
 * its version calls are checked below.)
 */

import { contractSuite } from "../../testing/contract.ts";
import { FaultyManager } from "../../testing/faults.ts";
import {
  MemorySecretManager,
  Redactor,
  type SecretManager,
  withCache,
  withNamespace,
  withRedaction,
} from "../../mod.ts";

const wrappers: Record<string, (m: SecretManager) => SecretManager> = {
  redaction: (m) => withRedaction(m, new Redactor()),
  faults: (m) => new FaultyManager(m),
  cache: (m) => withCache(m),
};

for (const [label, wrap] of Object.entries(wrappers)) {
  for (const c of contractSuite({ create: () => wrap(new MemorySecretManager()) })) {
    Deno.test(`${label} over memory: ${c.name}`, c.fn);
  }
}

Deno.test("withNamespace() forwards readSecret, deprecateVersion and destroyVersion under the namespace", async () => {
  const inner = new MemorySecretManager();
  const team = withNamespace(inner, "team");
  const v1 = await team.setSecret("api/token", "tok-0000000001");
  const v2 = await team.setSecret("api/token", "tok-0000000002");
  const read = await team.readSecret("api/token");
  if (read.version !== v2.version || read.value !== "tok-0000000002") throw new Error();
  await team.deprecateVersion("api/token", v1.version);
  const meta = await inner.describeSecret("team/api/token");
  if (!meta.versions.find((v) => v.version === v1.version)?.deprecatedAt) throw new Error();
  await team.destroyVersion("api/token", v1.version);
  if ((await inner.describeSecret("team/api/token")).versions.length !== 1) throw new Error();
});
