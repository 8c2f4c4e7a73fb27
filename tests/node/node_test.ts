/**
 * Drives tests/node/node_suite.ts under Node 20 (tsx, the npm packages of
 * tests/node/package.json) so that `deno task test` covers Node too: starts
 * the Vault test server, runs the suite as a subprocess with the server's
 * address in its environment, and checks Node's TAP report.
 */

import assert from "node:assert/strict";
import { VaultSecretManager } from "../../mod.ts";
import { contractSuite, MemorySecretManager } from "../../testing.ts";
import { FakeVaultServer } from "../fakes/vault_server.ts";
import { nodeModulesInstalled, NPM_CI_HINT } from "../edge/_bundle.ts";

const HERE = new URL(".", import.meta.url).pathname;
const installed = await nodeModulesInstalled();
const CI = Deno.env.get("CI") === "true";
if (!installed && !CI) console.warn(`tests/node skipped: ${NPM_CI_HINT}`);

Deno.test({
  name:
    "under Node 20 the contract suite passes on the memory and file backends, and Vault is read through the cache and through the factory",
  ignore: !installed && !CI,
  async fn() {
    assert.ok(installed, NPM_CI_HINT);
    const token = `node-token-${crypto.randomUUID()}`;
    const canary = `node-canary-${crypto.randomUUID()}`;
    const server = await FakeVaultServer.start({ rootToken: token });
    try {
      const seed = new VaultSecretManager({
        address: server.url,
        auth: { token },
      });
      await seed.setSecret("node/api_key", canary);
      await seed.close();

      const out = await new Deno.Command("node", {
        args: [
          "--import",
          "./register.mjs",
          "--import",
          "tsx",
          "--test-reporter=tap",
          "node_suite.ts",
        ],
        cwd: HERE,
        env: {
          KEYWARD_NODE_VAULT_ADDR: server.url,
          KEYWARD_NODE_VAULT_TOKEN: token,
          KEYWARD_NODE_VAULT_NAME: "node/api_key",
          KEYWARD_NODE_VAULT_EXPECT: canary,
          NO_COLOR: "1",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const tap = new TextDecoder().decode(out.stdout);
      const errors = new TextDecoder().decode(out.stderr);
      const report = `${tap.slice(-6000)}\n${errors.slice(-2000)}`;
      assert.ok(
        !tap.includes(canary) && !errors.includes(canary),
        "Node's output holds the value",
      );
      assert.ok(
        !tap.includes(token) && !errors.includes(token),
        "Node's output holds the token",
      );
      const count = (label: string) =>
        Number(new RegExp(`^# ${label} (\\d+)$`, "m").exec(tap)?.[1]);
      assert.equal(out.code, 0, `node exited with ${out.code}:\n${report}`);
      assert.equal(count("fail"), 0, report);
      assert.equal(count("skipped"), 0, `a Node test was skipped:\n${report}`);
      // The runtime check, the contract cases on two backends, the Vault, factory, endpoint and
      // rotation log tests.
      const cases = contractSuite({
        create: () => new MemorySecretManager(),
      }).length;
      assert.equal(
        count("pass"),
        1 + 2 * cases + 4,
        `Node tests passed:\n${report}`,
      );
      assert.match(tap, /^ok \d+ - vault: /m, "the Vault test ran and passed");
      assert.match(
        tap,
        /^ok \d+ - factory: /m,
        "the factory test ran and passed",
      );
      assert.match(
        tap,
        /^ok \d+ - endpoint on Node /m,
        "the event stream test ran and passed",
      );
      assert.ok(
        server.requests.some((r) => r.method === "GET" && r.path === "secret/data/node/api_key"),
        "Node read the secret from the Vault test server",
      );
    } finally {
      await server.close();
    }
  },
});
