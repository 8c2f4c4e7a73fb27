/**
 * keyward on the edge: `mod.ts` bundled for the browser platform with esbuild
 * and run inside Cloudflare's workerd (through miniflare, no `nodejs_compat`),
 * reading from the Vault test server on 127.0.0.1.
 */

import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { VaultSecretManager } from "../../mod.ts";
import { FakeVaultServer } from "../fakes/vault_server.ts";
import { bundle, nodeModulesInstalled, NPM_CI_HINT } from "./_bundle.ts";
import { STALE_IF_ERROR_MS, TTL_MS } from "./_worker_settings.ts";

const installed = await nodeModulesInstalled();
const CI = Deno.env.get("CI") === "true";
if (!installed && !CI) console.warn(`tests/edge skipped: ${NPM_CI_HINT}`);
const ignore = !installed && !CI;

/**
 * Dependency modules that mention the `Deno` global only behind a feature
 * test, and so run unchanged where there is none: LogTape's formatter picks
 * `Deno.inspect` for values only when `"Deno" in globalThis`.
 */
const DENO_FEATURE_DETECTION = new Set(["npm:@logtape/logtape/dist/formatter.js"]);

/** The edge entry, whole: what `import ... from "@keyward/secrets"` brings into a worker. */
const modBundle = () => bundle("mod.ts", { platform: "browser" });

Deno.test({
  name: "the mod.ts bundle for the browser imports no node: module and never refers to Deno",
  ignore,
  async fn() {
    assert.ok(installed, NPM_CI_HINT);
    const b = await modBundle();
    assert.deepEqual(
      b.builtins,
      [],
      `mod.ts pulls in Node built-ins: ${b.builtins.join(", ")}`,
    );
    const refs = Object.keys(b.denoReferences);
    const own = refs.filter((input) => !input.startsWith("npm:"));
    assert.deepEqual(
      own,
      [],
      `keyward modules in the edge bundle refer to Deno: ${own.join(", ")}`,
    );
    const foreign = refs.filter((input) => !DENO_FEATURE_DETECTION.has(input));
    assert.deepEqual(foreign, [], `dependencies in the edge bundle refer to Deno: ${foreign}`);
    assert.ok(
      b.inputs.includes("backends/vault.ts") && b.inputs.includes("cache/cached_manager.ts"),
    );
  },
});

Deno.test({
  name:
    "a worker in workerd reads a secret from Vault, serves it from the cache, rides out an outage in the stale window, and no error response carries the value",
  ignore,
  async fn() {
    assert.ok(installed, NPM_CI_HINT);
    const [lib, worker] = await Promise.all([
      modBundle(),
      bundle("tests/edge/worker.ts", {
        platform: "browser",
        externalAs: { "mod.ts": "./keyward.js" },
      }),
    ]);
    assert.ok(!worker.inputs.includes("mod.ts"), "the worker uses the mod.ts bundle, not a copy");

    const canary = `edge-canary-${crypto.randomUUID()}`;
    const token = `edge-token-${crypto.randomUUID()}`;
    const server = await FakeVaultServer.start({ rootToken: token });
    const seed = new VaultSecretManager({ address: server.url, auth: { token } });
    await seed.setSecret("edge/api_key", canary);
    await seed.close();

    const mf = new Miniflare({
      modules: [
        { type: "ESModule", path: "worker.js", contents: worker.code },
        { type: "ESModule", path: "keyward.js", contents: lib.code },
      ],
      compatibilityDate: "2026-01-01",
      bindings: { VAULT_ADDR: server.url, VAULT_TOKEN: token },
    });
    const bodies: string[] = [];
    const call = async (path: string, method = "GET") => {
      const res = await mf.dispatchFetch(`http://worker.test${path}`, { method });
      const text = await res.text();
      bodies.push(text);
      return { status: res.status, body: JSON.parse(text) };
    };
    const reads = () =>
      server.requests.filter((r) => r.method === "GET" && r.path === "secret/data/edge/api_key")
        .length;
    try {
      const first = await call("/secret?name=edge/api_key");
      assert.equal(first.status, 200, JSON.stringify(first.body.error));
      assert.equal(first.body.value, canary);
      assert.equal(reads(), 1, "the first read goes to Vault");

      const second = await call("/secret?name=edge/api_key");
      assert.equal(second.body.value, canary);
      assert.equal(reads(), 1, "the second read is served by the cache");
      assert.equal(second.body.stats.hits, 1);

      await server.down();
      await call(`/clock?advanceMs=${TTL_MS + 1}`, "POST");
      const stale = await call("/secret?name=edge/api_key");
      assert.equal(stale.status, 200, JSON.stringify(stale.body.error));
      assert.equal(stale.body.value, canary, "the last good value is served while Vault is down");
      assert.equal(stale.body.stats.staleServes, 1);

      await call(`/clock?advanceMs=${STALE_IF_ERROR_MS}`, "POST");
      const gone = await call("/secret?name=edge/api_key");
      assert.equal(gone.status, 503);
      assert.equal(gone.body.error.code, "access");
      assert.match(gone.body.error.message, /edge\/api_key/);

      server.up();
      const missing = await call("/secret?name=edge/not_there");
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, "not_found");
      const back = await call("/secret?name=edge/api_key");
      assert.equal(back.body.value, canary, "Vault is read again once it is back");

      for (const text of bodies.filter((b) => b.includes('"error"'))) {
        assert.ok(!text.includes(canary), `an error response carries the value: ${text}`);
        assert.ok(!text.includes(token), `an error response carries the token: ${text}`);
      }
    } finally {
      await mf.dispose();
      await server.close();
    }
  },
});
