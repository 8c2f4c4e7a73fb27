// The audit chain's own HMAC-SHA-256 (audit/_hmac.ts; issue 18 replaced @noble/hashes in
// mod.ts's graph with it) against RFC 4231's vectors and against @noble/hashes.
import assert from "node:assert/strict";
import fc from "fast-check";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { Hmac256, sha256, toHex } from "../../audit/_hmac.ts";

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
const text = (s: string) => new TextEncoder().encode(s);

Deno.test("HMAC-SHA-256 gives RFC 4231's test vectors", () => {
  const cases: [Uint8Array, Uint8Array, string][] = [
    [
      hex("0b".repeat(20)),
      text("Hi There"),
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ],
    [
      text("Jefe"),
      text("what do ya want for nothing?"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ],
    [
      hex("aa".repeat(20)),
      hex("dd".repeat(50)),
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    ],
    [
      hex("aa".repeat(131)),
      text("Test Using Larger Than Block-Size Key - Hash Key First"),
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ],
    [
      hex("aa".repeat(131)),
      text(
        "This is a test using a larger than block-size key and a larger than block-size data. " +
          "The key needs to be hashed before being used by the HMAC algorithm.",
      ),
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ],
  ];
  for (const [key, msg, mac] of cases) assert.equal(toHex(new Hmac256(key).sign(msg)), mac);
});

Deno.test("SHA-256 gives FIPS 180-4's examples, at every padding boundary too", () => {
  assert.equal(
    toHex(sha256(text(""))),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    toHex(sha256(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  for (let n = 50; n <= 200; n++) {
    const data = new Uint8Array(n).map((_, i) => i * 7);
    assert.equal(toHex(sha256(data)), toHex(nobleSha256(data)), `length ${n}`);
  }
});

Deno.test("HMAC-SHA-256 agrees with @noble/hashes for any key and message, one key many messages", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 200 }),
      fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 }),
      (key, messages) => {
        const mine = new Hmac256(key);
        for (const msg of messages) {
          assert.equal(toHex(mine.sign(msg)), toHex(hmac(nobleSha256, key, msg)));
        }
      },
    ),
    { numRuns: 500 },
  );
});
