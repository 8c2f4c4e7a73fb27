import assert from "node:assert/strict";
import { inspect } from "node:util";
import { fingerprint, Secret } from "../../mod.ts";

const CANARY = "CANARY-secret-wrapper-0001";

Deno.test("Secret prints [REDACTED] everywhere it could be printed", () => {
  const s = new Secret(CANARY);
  const holder = { nested: { s }, list: [s] };
  const outputs = [
    String(s),
    `${s}`,
    "" + s,
    JSON.stringify(holder),
    Deno.inspect(s),
    Deno.inspect(holder, { depth: 10 }),
    inspect(s),
    inspect(holder, { depth: 10, showHidden: true }),
  ];
  for (const out of outputs) {
    assert.ok(!out.includes(CANARY), out);
    assert.ok(out.includes("[REDACTED]"), out);
  }
  assert.equal(s.reveal(), CANARY);
});

Deno.test("Secret.fingerprint() is 8 hex digits and tells values apart", async () => {
  const a = await new Secret(CANARY).fingerprint();
  const b = await fingerprint(CANARY + "x");
  assert.match(a, /^[0-9a-f]{8}$/);
  assert.notEqual(a, b);
  assert.equal(a, await fingerprint(CANARY));
});
