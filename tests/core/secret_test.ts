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

/** The first 8 hex digits of the unkeyed SHA-256 of `text` (what fingerprints used to be). */
async function unkeyedPrefix(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest).slice(0, 4), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

Deno.test("issue 12 item 3: a weak value's fingerprint cannot be found with a dictionary of unkeyed hashes", async () => {
  // The reproduction: "Winter2731!" was recovered from its fingerprint in under 200 ms by
  // hashing a dictionary, because the fingerprint was an unkeyed SHA-256 prefix.
  const weak = "Winter2731!";
  const fp = await new Secret(weak).fingerprint();
  assert.match(fp, /^[0-9a-f]{8}$/);
  assert.notEqual(fp, await unkeyedPrefix(weak));
  // Keyed: another key gives another fingerprint; one key gives one, so values compare.
  const k1 = crypto.getRandomValues(new Uint8Array(32));
  const k2 = crypto.getRandomValues(new Uint8Array(32));
  const a = await fingerprint(weak, { key: k1 });
  assert.equal(a, await fingerprint(weak, { key: k1 }));
  assert.notEqual(a, await fingerprint(weak, { key: k2 }));
  assert.notEqual(a, fp);
  await assert.rejects(fingerprint(weak, { key: new Uint8Array(16) }), RangeError);
});

Deno.test("issue 12 item 3: the default fingerprint key is made per process (another run differs)", async () => {
  const code =
    'import { fingerprint } from "./mod.ts"; console.log(await fingerprint("Winter2731!"));';
  const run = async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", code],
      cwd: new URL("../../", import.meta.url),
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.equal(out.code, 0);
    return new TextDecoder().decode(out.stdout).trim();
  };
  const [one, two] = [await run(), await run()];
  assert.match(one, /^[0-9a-f]{8}$/);
  assert.match(two, /^[0-9a-f]{8}$/);
  // Two runs share a fingerprint with probability 2^-32.
  assert.notEqual(one, two);
});
