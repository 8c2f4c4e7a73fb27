/**
 * The load benchmark's target (tests/bench/server_load.ts starts it on Deno
 * or on Node): the endpoint on one port (a memory backend behind
 * `withCache`, whose serve events reach the endpoint, so a cache hit is
 * counted for the audit as in production; the audit sink on: a JSON-lines
 * file; the token file
 * holding one benchmark token whose own rate limit is far above what is
 * measured) and a bare Hono route answering a constant JSON body on
 * another, in the same process. Prints one line: `<keyward url> <bare url> <token>`.
 */

import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Hono } from "hono";
import { type ServeListener, withCache } from "../../mod.ts";
import { MemorySecretManager } from "../../testing.ts";
import { generateToken, hashToken } from "../../server.ts";
import { listen, startServer } from "../../server/serve.ts";

const dir = await mkdtemp(join(tmpdir(), "keyward-load-"));
const token = generateToken();
await writeFile(
  join(dir, "tokens.json"),
  JSON.stringify({
    version: 1,
    tokens: [{
      id: "tok_0000000be0c4",
      sha256: await hashToken(token),
      service: "bench",
      prefixes: ["bench/"],
      stages: ["current"],
      roles: ["read"],
      created: new Date().toISOString(),
      ratePerSecond: 1e9, // the benchmark policy: the rate limit is not what is measured
    }],
  }),
);
let forward: ServeListener = () => {};
const manager = withCache(
  new MemorySecretManager({ initial: { "bench/api_key": "bench-value-0000000000000000" } }),
  { onServe: (event) => forward(event) },
);
await manager.getSecret("bench/api_key");
const keyward = await startServer(
  {
    SECRET_BACKEND: "memory",
    KEYWARD_SERVER_PORT: "0",
    KEYWARD_TOKENS_FILE: join(dir, "tokens.json"),
    KEYWARD_SERVER_AUDIT_FILE: join(dir, "audit.jsonl"),
  },
  () => {},
  { manager },
);
forward = keyward.onServe;
const bare = new Hono();
const BODY = { name: "bench/api_key", value: "bench-value-0000000000000000", version: "1" };
bare.get("/bare", (c) => c.json(BODY));
const bareServer = await listen(bare.fetch, "127.0.0.1", 0);
console.log(`${keyward.url} http://127.0.0.1:${bareServer.port} ${token}`);
