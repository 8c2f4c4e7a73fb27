import assert from "node:assert/strict";
import { startFakeBroker } from "../fakes/alpaca_broker.ts";
import { rotate } from "../e2e/_rotation_load.ts";
import { openTestStore, ROOT, runToExit, startService } from "./_services.ts";

const SCRIPT = "examples/execution-gateway/main.ts";
const ACCOUNT = "a1b2c3d4-0000-4000-8000-00000000e2e1";

function pair(tag: string): { key_id: string; secret_key: string } {
  const hex = crypto.randomUUID().replaceAll("-", "").slice(0, 12).toUpperCase();
  return { key_id: `PK${tag}${hex}`, secret_key: `canary-gw-${tag}-${crypto.randomUUID()}` };
}

/** The JSON the gateway answers. */
interface Answer {
  keyVersion?: string;
  error: { code: string; message: string };
}

async function order(url: string, body: unknown): Promise<{ status: number; body: Answer }> {
  const res = await fetch(`${url}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

Deno.test("execution-gateway: orders reach the broker with the key from the backend, the risk check refuses bad ones, a rotation switches the key, SIGTERM stops it", async () => {
  const broker = startFakeBroker();
  const store = await openTestStore();
  const first = pair("ONE");
  const second = pair("TWO");
  broker.addPair(first.key_id, first.secret_key, ACCOUNT);
  broker.addPair(second.key_id, second.secret_key, ACCOUNT);
  try {
    await store.manager.setSecret("alpaca/api_key", first);
    const service = await startService(SCRIPT, {
      ...store.env,
      ALPACA_BASE_URL: broker.baseUrl,
      DRY_RUN: "false",
      MAX_ORDER_QTY: "100",
    });
    try {
      const health = await fetch(`${service.url}/health`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok", versions: { "alpaca/api_key": "1" } });

      const placed = await order(service.url, { symbol: "AAPL", qty: 5, side: "buy" });
      assert.equal(placed.status, 201, JSON.stringify(placed.body));
      assert.equal(placed.body.keyVersion, "1");
      assert.equal(broker.orders.length, 1);
      assert.equal(broker.orders[0].keyId, first.key_id);
      assert.deepEqual(
        { symbol: broker.orders[0].body.symbol, qty: broker.orders[0].body.qty },
        { symbol: "AAPL", qty: 5 },
      );

      // the risk check refuses, and nothing reaches the broker
      for (
        const [bad, reason] of [
          [{ symbol: "AAPL", qty: 101, side: "buy" }, /above the limit of 100/],
          [{ symbol: "aapl; drop", qty: 1, side: "buy" }, /unknown symbol/],
          [{ symbol: "AAPL", qty: 0, side: "sell" }, /positive integer/],
          [{ symbol: "AAPL", qty: 1, side: "short" }, /side must be/],
        ] as const
      ) {
        const refused = await order(service.url, bad);
        assert.equal(refused.status, 422, JSON.stringify(bad));
        assert.equal(refused.body.error.code, "risk");
        assert.match(refused.body.error.message, reason);
      }
      assert.equal(broker.orders.length, 1, "a refused order never reaches the broker");

      // rotation: `deno task rotate alpaca/api_key` with the new pair on stdin, verified on the
      // gateway's /health; the next order uses the new key id
      const policy = `${store.dir}/keyward.rotation.json`;
      await Deno.writeTextFile(
        policy,
        JSON.stringify({
          rules: [{
            prefix: "alpaca/",
            rotator: "alpaca",
            options: { baseUrl: broker.baseUrl },
            verify: [{ service: "gateway", url: `${service.url}/health`, timeoutSeconds: 20 }],
          }],
        }),
      );
      const rotation = await rotate("alpaca/api_key", {
        ...store.env,
        NO_COLOR: "1",
        PATH: Deno.env.get("PATH") ?? "",
        HOME: Deno.env.get("HOME") ?? store.dir,
        ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
        KEYWARD_ROTATION_POLICY: policy,
        SECRET_ROTATION_LOG_FILE: `${store.dir}/rotation.jsonl`,
        SECRET_ROTATION_LOCK_DIR: `${store.dir}/locks`,
      }, `${second.key_id}\n${second.secret_key}\n`);
      assert.equal(rotation.code, 0, rotation.output);
      assert.match(rotation.output, /verify +succeeded/);
      assert.match(rotation.output, /rotated alpaca\/api_key: version 1 -> 2/);
      for (const value of [first.key_id, first.secret_key, second.key_id, second.secret_key]) {
        assert.ok(!rotation.output.includes(value), "the CLI printed a key");
      }
      const after = await fetch(`${service.url}/health`);
      assert.deepEqual(await after.json(), { status: "ok", versions: { "alpaca/api_key": "2" } });
      const next = await order(service.url, { symbol: "MSFT", qty: 2, side: "sell" });
      assert.equal(next.status, 201, JSON.stringify(next.body));
      assert.equal(next.body.keyVersion, "2");
      assert.equal(broker.orders.at(-1)!.keyId, second.key_id);
      assert.equal(broker.refusedOrders, 0);
    } finally {
      const code = await service.stop();
      assert.equal(code, 0, service.output());
      assert.match(service.output(), /execution-gateway stopped/);
      for (const value of [first.key_id, first.secret_key, second.key_id, second.secret_key]) {
        assert.ok(!service.output().includes(value), "the gateway printed a key");
      }
    }
  } finally {
    await store.close();
    await broker.close();
  }
});

Deno.test("execution-gateway: a missing secret stops the start with its name and a non-zero exit", async () => {
  const store = await openTestStore();
  try {
    await store.manager.setSecret("other/secret", "canary-gw-missing-0001");
    const { code, output } = await runToExit(SCRIPT, store.env);
    assert.notEqual(code, 0, output);
    assert.equal(code, 2, output);
    assert.match(output, /alpaca\/api_key: not found/);
    assert.ok(!output.includes("canary-gw-missing-0001"));
  } finally {
    await store.close();
  }
});

Deno.test("execution-gateway: a pair without secret_key is refused by name, the key id not printed", async () => {
  const store = await openTestStore();
  try {
    await store.manager.setSecret("alpaca/api_key", { key_id: "PKCANARYGW0000000003" });
    const { code, output } = await runToExit(SCRIPT, store.env);
    assert.notEqual(code, 0, output);
    assert.match(output, /alpaca\/api_key/);
    assert.match(output, /secret_key/);
    assert.ok(!output.includes("PKCANARYGW0000000003"));
  } finally {
    await store.close();
  }
});

Deno.test("execution-gateway: risk.ts imports nothing from keyward", async () => {
  const source = await Deno.readTextFile(`${ROOT}examples/execution-gateway/risk.ts`);
  // static imports and re-exports (`import ... from "x"`, `import "x"`, `export ... from "x"`)
  // and dynamic ones (`import("x")`)
  const specifiers = [
    ...source.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gms),
    ...source.matchAll(/^\s*import\s*["']([^"']+)["']/gm),
    ...source.matchAll(/\bimport\s*\(\s*["'`]([^"'`]+)["'`]/g),
  ].map((m) => m[1]);
  const keyward = specifiers.filter((s) =>
    s.startsWith("@keyward/") || s.startsWith("jsr:@keyward/") || s.includes("keyward") ||
    // a relative import leaving the gateway's folder reaches keyward's own modules or shared code
    s.startsWith("../") || /^(\.\/)?(mod|factory|config|rotation|cli)\.ts$/.test(s)
  );
  assert.deepEqual(keyward, [], `risk.ts imports ${keyward.join(", ")}`);
  // the reader itself is not blind: it sees a keyward import when there is one
  const probe = `import { Secret } from "@keyward/secrets";\nexport { x } from "../../mod.ts";\n`;
  const seen = [...probe.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']/gms)]
    .map((m) => m[1]);
  assert.deepEqual(seen, ["@keyward/secrets", "../../mod.ts"]);
});
