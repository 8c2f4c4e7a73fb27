import assert from "node:assert/strict";
import type { LogRecord } from "@logtape/logtape";
import { EnvSecretManager, MemorySecretManager, type SecretManager } from "../../mod.ts";
import { FileSecretManager, generateFileKey } from "../../backends/file.ts";
import { withLogs } from "../cache/_helpers.ts";

async function captured(fn: () => Promise<void>): Promise<LogRecord[]> {
  return await withLogs(async (records) => {
    await fn();
    return records;
  });
}

const CANARY = `canary-${crypto.randomUUID()}`;

async function backends(dir: string): Promise<[string, SecretManager][]> {
  const file = new FileSecretManager({ path: `${dir}/s.json`, key: generateFileKey() });
  await file.setSecret("svc/present", CANARY);
  return [
    ["memory", new MemorySecretManager({ initial: { "svc/present": CANARY } })],
    ["env", new EnvSecretManager({ lookup: (k) => (k === "SVC_PRESENT" ? CANARY : undefined) })],
    ["file", file],
  ];
}

Deno.test("a not-found miss logs a warning naming the secret, and never a value", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const [backend, m] of await backends(dir)) {
      const records = await captured(async () => {
        await assert.rejects(m.getSecret("svc/missing"), { name: "SecretNotFoundError" });
        await assert.rejects(m.getSecret("svc/present", { stage: "pending" }), {
          name: "SecretNotFoundError",
        });
        assert.equal(await m.getSecret("svc/present"), CANARY);
      });
      const warnings = records.filter((r) => r.level === "warning");
      assert.equal(warnings.length, 2, `${backend}: one warning per miss`);
      assert.equal(warnings[0].properties.secret, "svc/missing");
      assert.equal(warnings[1].properties.secret, "svc/present");
      assert.equal(warnings[1].properties.stage, "pending");
      assert.equal(warnings[0].category[0], "keyward");
      for (const r of records) {
        assert.ok(!JSON.stringify({ p: r.properties, m: r.message }).includes(CANARY), backend);
      }
      await m.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("library logging is silent until the application configures LogTape", async () => {
  const seen: unknown[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void seen.push(args);
  try {
    await assert.rejects(new MemorySecretManager().getSecret("svc/missing"));
  } finally {
    console.warn = original;
  }
  assert.deepEqual(seen, []);
});

Deno.test("keyward's logger facade is silent without LogTape's root and forwards once it exists", async () => {
  const { keywardLogger } = await import("../../core/log.ts");
  const ROOT = Symbol.for("logtape.rootLogger");
  const g = globalThis as Record<symbol, unknown>;
  const saved = g[ROOT];
  const seen: [string, string, unknown][] = [];
  try {
    delete g[ROOT];
    keywardLogger("test").warn("nobody listens"); // no root: nothing happens, nothing throws
    g[ROOT] = {
      getChild: (category: string[]) => ({
        warn: (m: string, p: unknown) => seen.push([category.join("."), m, p]),
      }),
    };
    keywardLogger("backend", "vault").warn("Secret {secret} missing", { secret: "a/b" });
    assert.deepEqual(seen, [["keyward.backend.vault", "Secret {secret} missing", {
      secret: "a/b",
    }]]);
  } finally {
    if (saved === undefined) delete g[ROOT];
    else g[ROOT] = saved;
  }
});
