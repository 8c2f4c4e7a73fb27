/**
 * keyward's sources under Node 20, as a JSR consumer's Node runs the package:
 * `node --import ./register.mjs --import tsx node_suite.ts` from tests/node/
 * (bare specifiers resolve from tests/node/node_modules). Through `node:test`:
 * the contract suite on the memory and file backends, and a Vault read and
 * write against the Vault test server whose address the driver
 * (tests/node/node_test.ts) passes in `KEYWARD_NODE_VAULT_ADDR`, and the
 * factory building the Vault backend from `process.env`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { KeywardError, type SecretManager, VaultSecretManager, withCache } from "../../mod.ts";
import { contractSuite, MemorySecretManager } from "../../testing.ts";
import { FileSecretManager, generateFileKey } from "../../backends/file.ts";
import { createSecretManager } from "../../factory.ts";

test("the suite runs on Node 20 or later, not on Deno", () => {
  assert.ok(
    Number(process.versions.node.split(".")[0]) >= 20,
    process.versions.node,
  );
  assert.equal(typeof (globalThis as { Deno?: unknown }).Deno, "undefined");
});

for (
  const c of contractSuite({
    create: (seed) => new MemorySecretManager({ initial: seed }),
  })
) {
  test(`memory: ${c.name}`, c.fn);
}

const dirs = new WeakMap<SecretManager, string>();
const fileTarget = {
  create: async () => {
    const dir = await mkdtemp(join(tmpdir(), "keyward-node-file-"));
    const m = new FileSecretManager({
      path: join(dir, "store.json"),
      key: generateFileKey(),
    });
    dirs.set(m, dir);
    return m;
  },
  dispose: async (m: SecretManager) => {
    await m.close();
    await rm(dirs.get(m)!, { recursive: true, force: true });
  },
};
for (const c of contractSuite(fileTarget)) test(`file: ${c.name}`, c.fn);

const vault = {
  address: process.env.KEYWARD_NODE_VAULT_ADDR,
  token: process.env.KEYWARD_NODE_VAULT_TOKEN,
  name: process.env.KEYWARD_NODE_VAULT_NAME,
  expected: process.env.KEYWARD_NODE_VAULT_EXPECT,
};

test(
  "vault: getSecret() through withCache reads the secret the test server holds, and a write lands",
  {
    skip: vault.address ? false : "KEYWARD_NODE_VAULT_ADDR is not set (run via node_test.ts)",
  },
  async () => {
    const backend = new VaultSecretManager({
      address: vault.address!,
      auth: { token: vault.token! },
      retry: { attempts: 1 },
    });
    const secrets = withCache(backend);
    try {
      assert.ok(
        await secrets.getSecret(vault.name!) === vault.expected,
        "the value read from Vault",
      );
      assert.ok(
        await secrets.getSecret(vault.name!) === vault.expected,
        "the value from the cache",
      );
      assert.equal(secrets.stats().hits, 1);
      const written = await secrets.setSecret(`${vault.name}_node`, {
        from: "node",
        n: "2",
      });
      assert.equal(written.version, "1");
      assert.equal(
        await backend.getSecret(`${vault.name}_node`, { field: "from" }),
        "node",
      );
      await assert.rejects(
        secrets.getSecret("node/not_there"),
        (err: unknown) => err instanceof KeywardError && err.code === "not_found",
      );
    } finally {
      await secrets.close();
    }
  },
);

test(
  "factory: createSecretManager() reads SECRET_BACKEND=vault and VAULT_* from process.env on Node",
  {
    skip: vault.address ? false : "KEYWARD_NODE_VAULT_ADDR is not set (run via node_test.ts)",
  },
  async () => {
    process.env.SECRET_BACKEND = "vault";
    process.env.VAULT_ADDR = vault.address;
    process.env.VAULT_TOKEN = vault.token;
    try {
      const secrets = await createSecretManager();
      try {
        assert.ok(
          await secrets.getSecret(vault.name!) === vault.expected,
          "the value read from Vault",
        );
      } finally {
        await secrets.close();
      }
    } finally {
      delete process.env.SECRET_BACKEND;
      delete process.env.VAULT_ADDR;
      delete process.env.VAULT_TOKEN;
    }
  },
);
