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
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import {
  InMemoryRotationEvents,
  KeywardError,
  type SecretManager,
  VaultSecretManager,
  withCache,
} from "../../mod.ts";
import { contractSuite, MemorySecretManager, RecordingAuditSink } from "../../testing.ts";
import { createServerApp, generateToken, hashToken, staticTokens } from "../../server.ts";
import { listen } from "../../server/serve.ts";
import { FileRotationLog } from "../../rotation/log_file.ts";
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

test("endpoint on Node (@hono/node-server): GET /v1/events streams each rotation as it happens", async () => {
  const token = generateToken();
  const events = new InMemoryRotationEvents();
  const server = createServerApp({
    manager: new MemorySecretManager(),
    audit: new RecordingAuditSink(),
    events,
    eventHeartbeatMs: 60_000,
    tokens: staticTokens([{
      id: "tok_00000000n0de",
      sha256: await hashToken(token),
      service: "fleet",
      prefixes: ["db/"],
      stages: ["current"],
      roles: ["events"],
      created: new Date().toISOString(),
    }]),
  });
  const listener = await listen(server.app.fetch, "127.0.0.1", 0);
  try {
    const res = await fetch(`http://127.0.0.1:${listener.port}/v1/events`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const chunk = await reader.read();
        assert.ok(!chunk.done, `the stream ended before ${needle}`);
        text += decoder.decode(chunk.value, { stream: true });
      }
    };
    await readUntil("event: ready");
    // A publication reaches the open stream (not buffered until the stream ends).
    await events.publish(["db/password"]);
    await readUntil('data: ["db/password"]');
    assert.match(text, /id: 1\nevent: rotated\ndata: \["db\/password"\]\n\n/);
    // Outside the token's prefixes: not relayed.
    await events.publish(["other/key", "db/replica"]);
    await readUntil('data: ["db/replica"]');
    assert.ok(
      !text.includes("other/key"),
      "a name outside the token's prefixes",
    );
    await reader.cancel();
  } finally {
    await server.close();
    await listener.close();
  }
});

test("rotation log file on Node: rows appended (owner-only file) and read back, a missing file is empty", async () => {
  const dir = await mkdtemp(join(tmpdir(), "keyward-node-rotlog-"));
  try {
    const log = new FileRotationLog(join(dir, "nested", "rotation.jsonl"));
    assert.deepEqual(await log.entries(), [], "no file yet");
    const at = new Date("2026-12-07T05:00:00.000Z");
    const row = (step: "create_pending" | "promote", secretName: string) => ({
      rotationId: "5f0c1e6e-2b7a-4f7e-9a51-0d6c1b1f9a01",
      secretName,
      step,
      status: "succeeded" as const,
      at,
      rotatedBy: "node",
      rotator: "random",
    });
    await log.append(row("create_pending", "db/password"));
    await log.append(row("promote", "db/password"));
    await log.append(row("create_pending", "api/key"));
    const rows = await log.entries({ secretName: "db/password" });
    assert.deepEqual(rows.map((r) => r.step), ["create_pending", "promote"]);
    assert.ok(
      rows[0].at instanceof Date && rows[0].at.getTime() === at.getTime(),
    );
    assert.equal((await log.entries()).length, 3);
    assert.equal((await stat(log.path)).mode & 0o777, 0o600);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
