import assert from "node:assert/strict";
import fc from "fast-check";
import { encodedForms, MIN_REDACT_BYTES, Redactor } from "../../redact/redactor.ts";

const bytesOf = (s: string): Uint8Array => new TextEncoder().encode(s);
const utf8Length = (s: string): number => bytesOf(s).byteLength;

function b64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

Deno.test("redact() replaces a registered value by [REDACTED:<name>]", () => {
  const r = new Redactor();
  assert.equal(r.register("db/password", "s3cr3t-value-42"), true);
  assert.equal(
    r.redact("login failed with s3cr3t-value-42 twice: s3cr3t-value-42"),
    "login failed with [REDACTED:db/password] twice: [REDACTED:db/password]",
  );
});

Deno.test("values shorter than 8 bytes are not registered, 8 bytes are", () => {
  const r = new Redactor();
  assert.equal(MIN_REDACT_BYTES, 8);
  assert.equal(r.register("short", "admin12"), false);
  assert.equal(r.redact("user admin12"), "user admin12");
  assert.equal(r.size, 0);
  // Four 2-byte characters are 8 bytes, though only 4 code units.
  assert.equal(r.register("greek", "αβγδ"), true);
  assert.equal(r.redact("x αβγδ y"), "x [REDACTED:greek] y");
});

Deno.test("redact() masks the JSON-escaped, URL-encoded and base64 forms", () => {
  const value = 'p@ss "wörd"/+1';
  const r = new Redactor();
  r.register("api/key", value);
  const encodings = [
    JSON.stringify(value).slice(1, -1),
    JSON.stringify(value).slice(1, -1).replace("ö", "\\u00f6"),
    encodeURIComponent(value),
    encodeURIComponent(value).replaceAll("%20", "+"),
    new URLSearchParams({ v: value }).toString().slice(2),
    b64(bytesOf(value)),
    b64(bytesOf(`x${value}`)),
    b64(bytesOf(`xy${value}`)),
    b64(bytesOf(`x${value}`)).replaceAll("+", "-").replaceAll("/", "_"),
  ];
  for (const encoded of encodings) {
    const out = r.redact(`before ${encoded} after`);
    assert.ok(out.includes("[REDACTED:api/key]"), `not masked: ${out}`);
    assert.ok(!out.includes(encoded), `still present: ${out}`);
  }
});

Deno.test("the longest match wins where several values start at one place", () => {
  const r = new Redactor();
  r.register("short", "abcdefgh");
  r.register("long", "abcdefgh-ijkl");
  assert.equal(r.redact("[abcdefgh-ijkl] [abcdefgh]"), "[[REDACTED:long]] [[REDACTED:short]]");
});

Deno.test("the leftmost of two overlapping values wins", () => {
  const r = new Redactor();
  r.register("a", "12345678xx");
  r.register("b", "xxabcdefgh");
  assert.equal(r.redact("12345678xxabcdefgh"), "[REDACTED:a]abcdefgh");
});

Deno.test("a value shared by two names stays registered until both are forgotten", () => {
  const r = new Redactor();
  r.register("one", "shared-value-1");
  r.register("two", "shared-value-1");
  r.forget("one");
  assert.equal(r.redact("shared-value-1"), "[REDACTED:two]");
  r.forget("two");
  assert.equal(r.redact("shared-value-1"), "shared-value-1");
  assert.equal(r.has("two"), false);
});

Deno.test("registrations after a redaction are picked up (lazy rebuild)", () => {
  const r = new Redactor();
  assert.equal(r.redact("first-value-1 second-value-2"), "first-value-1 second-value-2");
  r.register("a", "first-value-1");
  assert.equal(r.redact("first-value-1 second-value-2"), "[REDACTED:a] second-value-2");
  r.register("b", "second-value-2");
  assert.equal(r.redact("first-value-1 second-value-2"), "[REDACTED:a] [REDACTED:b]");
  r.clear();
  assert.equal(r.redact("first-value-1"), "first-value-1");
});

Deno.test("matches() says where and how each value was written", () => {
  const r = new Redactor();
  r.register("api/key", "k3y-0123456789");
  const text = `a k3y-0123456789 b ${b64(bytesOf("k3y-0123456789"))} c k3y-0123456789%21`;
  assert.deepEqual(r.matches(text).map((m) => [m.name, m.form, text.slice(m.start, m.end)]), [
    ["api/key", "plain", "k3y-0123456789"],
    ["api/key", "base64", b64(bytesOf("k3y-0123456789")).slice(0, 18)],
    ["api/key", "plain", "k3y-0123456789"],
  ]);
});

Deno.test("encodedForms() keeps only the base64 characters the value alone decides", () => {
  for (const align of [0, 1, 2]) {
    const value = "0123456789";
    for (let fill = 0; fill < 256; fill += 51) {
      const before = new Uint8Array(align).fill(fill);
      const after = new Uint8Array(3).fill(255 - fill);
      const blob = b64(new Uint8Array([...before, ...bytesOf(value), ...after]));
      assert.ok(
        encodedForms(value).some((f) => f.form === "base64" && blob.includes(f.text)),
        `alignment ${align}, fill ${fill}`,
      );
    }
  }
});

// --- properties -------------------------------------------------------------

const NAME = "prop/secret";
const MARKER = `[REDACTED:${NAME}]`;

/** Arbitrary unicode of at least 8 UTF-8 bytes (well-formed: no lone surrogates). */
const valueArb = fc.string({ unit: "grapheme", minLength: 1, maxLength: 24 })
  .filter((s) => utf8Length(s) >= MIN_REDACT_BYTES && s.isWellFormed());
const textArb = fc.string({ unit: "grapheme", maxLength: 60 });

/** No piece of `out` outside the markers holds `form`. */
function exposed(out: string, form: string): boolean {
  return out.split(MARKER).some((piece) => piece.includes(form));
}

Deno.test("property: a registered value inside arbitrary text is masked in every text encoding", () => {
  fc.assert(
    fc.property(valueArb, textArb, textArb, (value, before, after) => {
      const r = new Redactor();
      r.register(NAME, value);
      const forms = [
        value,
        JSON.stringify(value).slice(1, -1),
        encodeURIComponent(value),
        encodeURIComponent(value).replaceAll("%20", "+"),
      ];
      for (const form of forms) {
        const out = r.redact(before + form + after);
        assert.ok(out.includes(MARKER));
        assert.ok(!exposed(out, form), "the value is still readable");
      }
    }),
    { numRuns: 300 },
  );
});

/** Whether any base64 run in `text`, decoded at any character offset, holds `needle`. */
function decodesTo(text: string, needle: Uint8Array): boolean {
  for (const run of text.match(/[A-Za-z0-9+/]+/g) ?? []) {
    for (let offset = 0; offset < 4; offset++) {
      const part = run.slice(offset);
      const usable = part.slice(0, part.length - (part.length % 4));
      let bytes: Uint8Array;
      try {
        bytes = Uint8Array.from(atob(usable), (c) => c.charCodeAt(0));
      } catch {
        continue;
      }
      for (let i = 0; i + needle.length <= bytes.length; i++) {
        if (needle.every((b, j) => bytes[i + j] === b)) return true;
      }
    }
  }
  return false;
}

Deno.test("property: a registered value base64-encoded at any byte alignment is masked", () => {
  fc.assert(
    fc.property(
      valueArb,
      fc.uint8Array({ maxLength: 7 }),
      fc.uint8Array({ maxLength: 7 }),
      textArb,
      (value, before, after, around) => {
        const r = new Redactor();
        r.register(NAME, value);
        const needle = bytesOf(value);
        const blob = b64(new Uint8Array([...before, ...needle, ...after]));
        for (const encoded of [blob, blob.replaceAll("+", "-").replaceAll("/", "_")]) {
          const out = r.redact(`${around} ${encoded} ${around}`);
          assert.ok(out.includes(MARKER));
          const urlSafeBack = out.replaceAll("-", "+").replaceAll("_", "/");
          assert.ok(!decodesTo(urlSafeBack.split(MARKER).join(" "), needle), "still decodable");
        }
      },
    ),
    { numRuns: 300 },
  );
});

/** Text that cannot hold any form of a value containing an ASCII letter or digit. */
const cleanTextArb = fc.string({
  unit: fc.constantFrom(..." \n\t!\"#$&'()*,.:;<=>?@[]^`{|}~éü中文ß😀"),
  maxLength: 200,
});

Deno.test("property: text without any registered value is returned unchanged", () => {
  fc.assert(
    fc.property(
      fc.array(valueArb.map((v) => `${v}a`), { minLength: 1, maxLength: 20 }),
      cleanTextArb,
      (values, text) => {
        const r = new Redactor();
        values.forEach((v, i) => r.register(`s/${i}`, v));
        assert.equal(r.redact(text), text);
        assert.deepEqual(r.matches(text), []);
      },
    ),
    { numRuns: 300 },
  );
});
