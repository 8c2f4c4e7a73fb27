import assert from "node:assert/strict";
import fc from "fast-check";
import {
  InvalidSecretNameError,
  InvalidSecretValueError,
  KeywardError,
  MAX_VALUE_BYTES,
} from "../../mod.ts";
import {
  nameProblem,
  normalizeValue,
  quoteName,
  selectValue,
  validateName,
  validateReadOptions,
  validateWriteOptions,
} from "../../backend_kit.ts";

const segmentChar = fc.constantFrom(
  ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.".split(""),
);
const segment = fc.string({ unit: segmentChar, minLength: 1, maxLength: 20 }).filter((s) =>
  s !== "." && s !== ".." && !s.endsWith(".")
);
const validName = fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => s.join("/"))
  .filter((n) => !n.startsWith(".keyward") && n.length <= 512);

Deno.test("names: every name built from the rules is accepted", () => {
  fc.assert(fc.property(validName, (name) => {
    validateName(name);
  }));
});

Deno.test("names: any character outside the alphabet is refused", () => {
  const bad = fc.string({ minLength: 1, maxLength: 3 }).filter((s) => /[^A-Za-z0-9_./-]/.test(s));
  fc.assert(fc.property(validName, bad, (name, junk) => {
    assert.throws(() => validateName(name + junk), InvalidSecretNameError);
  }));
});

Deno.test("names: empty, dot and dot-ending segments and outer slashes are refused", () => {
  fc.assert(fc.property(validName, validName, (a, b) => {
    for (
      const bad of [`${a}//${b}`, `/${a}`, `${a}/`, `${a}/./${b}`, `${a}/../${b}`, `${a}./${b}`]
    ) {
      assert.throws(() => validateName(bad), InvalidSecretNameError, bad);
    }
  }));
});

Deno.test("names: the length limit is 512 characters", () => {
  assert.equal(nameProblem("a".repeat(512)), undefined);
  assert.match(nameProblem("a".repeat(513))!, /512/);
  assert.match(nameProblem("")!, /empty/);
  assert.match(nameProblem(".keyward/x")!, /reserved/);
  assert.match(nameProblem(".keywardish/x")!, /reserved/);
  assert.equal(nameProblem("x/.keyward"), undefined, "only the first segment is reserved");
  assert.match(nameProblem(42)!, /string/);
});

Deno.test("names: the error states the rule, the length and the position, never the name", () => {
  assert.throws(() => validateName("a//b"), (e: unknown) => {
    assert.ok(e instanceof InvalidSecretNameError);
    assert.equal(e.code, "invalid_name");
    assert.equal(
      e.message,
      "invalid secret name (4 characters): a name must not start or end with '/' nor hold an empty segment ('//') (position 2)",
    );
    assert.equal(e.secret, "(invalid name, 4 characters)");
    return true;
  });
  assert.match(
    nameProblem("ab/c$d")!,
    /only letters, digits, '_', '\.', '-' and '\/' \(position 5\)$/,
  );
  assert.match(nameProblem("a/")!, /empty segment \('\/\/'\) \(position 2\)$/);
  assert.match(nameProblem("a/../b")!, /'\.' or '\.\.' nor end in '\.' \(position 4\)$/);
  assert.match(nameProblem("a/bc./d")!, /end in '\.' \(position 5\)$/);
});

Deno.test("names: no error, option check or quote echoes a name that breaks the rules", () => {
  const pasted = "sk_live_CANARY0123 pasted";
  fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 40 }), (junk) => {
    const name = `${pasted}${junk}`;
    for (
      const fn of [
        () => validateName(name),
        () => validateReadOptions(name, { stage: "bad" }),
        () => validateWriteOptions(name, { stage: "previous" }),
        () => normalizeValue(name, ""),
      ]
    ) {
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof KeywardError);
        assert.ok(!e.message.includes("CANARY"), e.message);
        assert.ok(!String(e.secret).includes("CANARY"), e.secret);
        return true;
      });
    }
  }));
  assert.equal(quoteName(pasted), `(invalid name, ${pasted.length} characters)`);
  assert.equal(quoteName("db/password"), '"db/password"');
});

Deno.test("values: any well-formed string of 1 to 65,536 UTF-8 bytes is accepted", () => {
  fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 200, unit: "grapheme" }), (s) => {
    assert.deepEqual(normalizeValue("a", s), { value: s });
  }));
});

Deno.test("values: the byte limit counts UTF-8 bytes, not characters", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("a", "é", "€", "😀"),
      fc.integer({ min: -3, max: 3 }),
      (ch, delta) => {
        const bytes = new TextEncoder().encode(ch).length;
        const count = Math.floor(MAX_VALUE_BYTES / bytes) + delta;
        const value = ch.repeat(count);
        const size = count * bytes;
        if (size <= MAX_VALUE_BYTES) normalizeValue("a", value);
        else assert.throws(() => normalizeValue("a", value), InvalidSecretValueError);
      },
    ),
  );
});

Deno.test("values: refusals say why and never hold the value", () => {
  const canary = "CANARY-value-do-not-print-0001";
  for (const bad of [canary + "\ud800", { f: canary, g: 5 }, { "bad key": canary }]) {
    assert.throws(() => normalizeValue("svc/key", bad), (e: unknown) => {
      assert.ok(e instanceof InvalidSecretValueError);
      assert.ok(!e.message.includes(canary));
      assert.match(e.message, /svc\/key/);
      return true;
    });
  }
  assert.throws(() => normalizeValue("a", ""), /empty/);
  assert.throws(() => normalizeValue("a", {}), /at least one field/);
  assert.throws(() => normalizeValue("a", new Map()), /plain object/);
  assert.throws(() => normalizeValue("a", null), /null/);
});

Deno.test("values: a field record's JSON form must fit the limit", () => {
  assert.throws(
    () => normalizeValue("a", { a: "x".repeat(40000), b: "y".repeat(30000) }),
    /JSON form/,
  );
  const ok = normalizeValue("a", { b: "2", a: "1" });
  assert.deepEqual(Object.keys(ok), ["a", "b"]);
});

Deno.test("values: selectValue returns a single value field, a field, or all fields as JSON", () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), fc.string({ minLength: 1 }), { minKeys: 1 }),
      (rec) => {
        const fields = normalizeValue("a", rec);
        const text = selectValue(fields, undefined, { secret: "a" });
        if (Object.keys(rec).length === 1 && "value" in rec) assert.equal(text, rec.value);
        else assert.deepEqual(JSON.parse(text), { ...rec });
        for (const k of Object.keys(rec)) {
          assert.equal(selectValue(fields, k, { secret: "a" }), rec[k]);
        }
      },
    ),
  );
});

Deno.test("options: unknown stages and malformed versions are ConfigError naming the option", () => {
  assert.throws(() => validateReadOptions("a", { stage: "latest" }), /option stage/);
  assert.throws(() => validateReadOptions("a", { version: "" }), /option version/);
  assert.throws(() => validateReadOptions("a", { field: "a b" }), /option field/);
  assert.throws(() => validateWriteOptions("a", { stage: "previous" }), /current or pending/);
  assert.throws(() => validateWriteOptions("a", { ifVersion: 3 }), /ifVersion/);
});
