import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { decodeBase64, encodeBase64, encodeBase64Url } from "../../core/base64.ts";

Deno.test("encodeBase64() agrees with node:buffer on any bytes and any string", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      assert.equal(encodeBase64(bytes), Buffer.from(bytes).toString("base64"));
      assert.equal(encodeBase64Url(bytes), Buffer.from(bytes).toString("base64url"));
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", maxLength: 100 }), (text) => {
      assert.equal(encodeBase64(text), Buffer.from(text, "utf8").toString("base64"));
    }),
  );
});

Deno.test("encodeBase64() handles inputs longer than one String.fromCharCode chunk", () => {
  const bytes = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
  assert.equal(encodeBase64(bytes), Buffer.from(bytes).toString("base64"));
  assert.deepEqual(decodeBase64(encodeBase64(bytes)), bytes);
});

Deno.test("decodeBase64() reverses encodeBase64() and agrees with atob", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const text = encodeBase64(bytes);
      assert.deepEqual(decodeBase64(text), bytes);
      assert.deepEqual(decodeBase64(text), Uint8Array.from(atob(text), (c) => c.charCodeAt(0)));
      assert.deepEqual(decodeBase64(text.replace(/=+$/, "")), bytes, "padding may be left out");
    }),
    { numRuns: 1000 },
  );
});

Deno.test("decodeBase64() refuses text that is not base64 without quoting it", () => {
  for (const bad of ["a", "abc!", "ab=c", "CANARY-not-base64*"]) {
    assert.throws(() => decodeBase64(bad), (e: unknown) => {
      assert.ok(e instanceof TypeError);
      assert.ok(!e.message.includes("CANARY") && !e.message.includes("!"), e.message);
      return true;
    });
  }
});
