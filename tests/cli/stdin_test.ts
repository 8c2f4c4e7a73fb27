import assert from "node:assert/strict";
import fc from "fast-check";
import { invalidUtf8Offset } from "../../cli/_stdin.ts";

Deno.test("invalidUtf8Offset agrees with a fatal TextDecoder on any bytes", () => {
  const fatal = new TextDecoder("utf-8", { fatal: true });
  const decodes = (b: Uint8Array) => {
    try {
      fatal.decode(b);
      return true;
    } catch {
      return false;
    }
  };
  // Bytes biased towards UTF-8's lead and continuation ranges, and real text.
  const byte = fc.oneof(
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 0x80, max: 0xbf }),
    fc.constantFrom(0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff),
  );
  const text = fc.string({ unit: "grapheme" }).map((s) => new TextEncoder().encode(s));
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 12 }),
    fc.array(byte, { maxLength: 12 }).map((a) => new Uint8Array(a)),
    fc.tuple(text, fc.array(byte, { maxLength: 3 }), text).map(([a, b, c]) =>
      new Uint8Array([...a, ...b, ...c])
    ),
  );
  fc.assert(
    fc.property(input, (bytes) => {
      const offset = invalidUtf8Offset(bytes);
      assert.equal(offset === -1, decodes(bytes));
      if (offset >= 0) {
        assert.ok(decodes(bytes.subarray(0, offset)), "everything before the offset is UTF-8");
        assert.ok(!decodes(bytes.subarray(offset)), "the rest starts with the bad sequence");
      }
    }),
    { numRuns: 3000 },
  );
});
