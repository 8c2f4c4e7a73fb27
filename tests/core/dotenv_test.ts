import assert from "node:assert/strict";
import fc from "fast-check";
import { parse as dotenvParse } from "dotenv";
import { parseDotenv } from "../../core/_dotenv.ts";

const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,15}$/);
const plain = fc.stringMatching(/^[A-Za-z0-9_./:@+=-]{0,20}$/);
const spaced = fc.stringMatching(/^[A-Za-z0-9_ ./:@+=-]{0,20}$/);
const inner = (q: string) =>
  fc.stringMatching(
    new RegExp(`^[A-Za-z0-9_ .\\/:@+=#\\n${q === '"' ? "'`" : q === "'" ? '"`' : "'\""}-]{0,20}$`),
  );
const blanks = fc.constantFrom("", " ", "  ", "\t");
const comment = fc.constantFrom("", " # a comment", "\t#c", " #");

const line = fc.oneof(
  fc.tuple(
    blanks,
    fc.constantFrom("", "export "),
    key,
    fc.constantFrom("=", " = ", "= ", ": "),
    plain,
    blanks,
    comment,
  )
    .map(([a, e, k, eq, v, b, c]) => `${a}${e}${k}${eq}${v}${b}${c}`),
  fc.tuple(key, spaced).map(([k, v]) => `${k}=${v}`),
  fc.tuple(key, fc.constantFrom("'", '"', "`"), comment).chain(([k, q, c]) =>
    inner(q).map((v) => `${k}=${q}${v}${q}${c}`)
  ),
  fc.tuple(key, fc.stringMatching(/^[a-z\\nr ]{0,12}$/)).map(([k, v]) => `${k}="${v}"`),
  fc.constantFrom("", "# only a comment", "   ", "not a line", "=novalue", "1NUM=ok"),
);

const file = fc.tuple(
  fc.constantFrom("", "\uFEFF"),
  fc.array(line, { maxLength: 12 }),
  fc.constantFrom("\n", "\r\n", "\r"),
).map(([bom, lines, eol]) => bom + lines.join(eol));

/**
 * The two deliberate differences (core/_dotenv.ts): a key alone on its line
 * with a later line starting with `=` (dotenv's `\s*=` spans line breaks), and
 * `KEY:` with nothing after the colon (dotenv's `:\s+?` takes the line break
 * and makes the next line the value). Generated files holding either are left
 * out of the comparison; the tests below pin both differences.
 */
const SPANS_A_LINE = /^[ \t]*(?:export[ \t]+)?[\w.-]+(?:[ \t]*\n\s*=|:\n)/m;

Deno.test("parseDotenv() agrees with npm:dotenv on generated .env files", () => {
  fc.assert(
    fc.property(file, (text) => {
      fc.pre(!SPANS_A_LINE.test(text.replace(/\r\n?/g, "\n")));
      assert.deepEqual(parseDotenv(text), { ...dotenvParse(text) }, JSON.stringify(text));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("parseDotenv() agreed with npm:dotenv on this generated file once a KEY: at a line end is left out", () => {
  // fast-check's seed 1724316382 found it: dotenv reads `a:` and the next line as a = "`".
  const text = 'A="\\"\nsJ_=`"\na:\n` # a comment';
  assert.equal(dotenvParse(text).a, "`");
  assert.equal(parseDotenv(text).a, "");
  assert.ok(SPANS_A_LINE.test(text), "the property leaves such a file out");
  const { a: _ours, ...restOurs } = parseDotenv(text);
  const { a: _theirs, ...restTheirs } = { ...dotenvParse(text) };
  assert.deepEqual(restOurs, restTheirs, "everything else agrees");
});

Deno.test("a KEY: with nothing after it is empty; the next line stays a variable of its own", () => {
  // Deliberate difference: dotenv gives { a: "B=1", C: "2" }, losing B into a's value.
  assert.deepEqual({ ...dotenvParse("a:\nB=1\nC=2") }, { a: "B=1", C: "2" });
  assert.deepEqual({ ...parseDotenv("a:\nB=1\nC=2") }, { a: "", B: "1", C: "2" });
  assert.deepEqual({ ...parseDotenv("a: \nB=1") }, { ...dotenvParse("a: \nB=1") });
});

Deno.test("a key alone on its line is skipped, also before a line starting with =", () => {
  // Deliberate difference: dotenv joins them ({ ".": "x" }); found by fast-check as well.
  const text = ".\n=x\nB=1";
  assert.deepEqual({ ...dotenvParse(text) }, { ".": "x", B: "1" });
  assert.deepEqual({ ...parseDotenv(text) }, { B: "1" });
  assert.ok(SPANS_A_LINE.test(text), "the property leaves such a file out");
});

Deno.test("parseDotenv() reads the usual shapes of a .env file", () => {
  const text = [
    "# broker",
    "export ALPACA_API_KEY_ID=PKEXAMPLE0000000000",
    "ALPACA_API_SECRET_KEY = 'single quoted # not a comment'  # comment",
    'DATABASE_URL="postgres://app@db/prod"',
    'MULTI="line one\\nline two"',
    'REAL_MULTI="first',
    'second"',
    "EMPTY=",
    "TRAILING=value # comment",
    "DUP=first",
    "DUP=second",
  ].join("\r\n");
  assert.deepEqual(parseDotenv(text), {
    ALPACA_API_KEY_ID: "PKEXAMPLE0000000000",
    ALPACA_API_SECRET_KEY: "single quoted # not a comment",
    DATABASE_URL: "postgres://app@db/prod",
    MULTI: "line one\nline two",
    REAL_MULTI: "first\nsecond",
    EMPTY: "",
    TRAILING: "value",
    DUP: "second",
  });
  assert.deepEqual(parseDotenv(text), { ...dotenvParse(text) });
});

Deno.test("parseDotenv() keeps the first variable of a file that starts with a byte order mark", () => {
  // Regression (issue 12 item 13): a .env saved with a UTF-8 BOM lost its first variable.
  const bytes = new Uint8Array([
    0xef,
    0xbb,
    0xbf,
    ...new TextEncoder().encode("FIRST=one\nSECOND=two\n"),
  ]);
  const text = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
  assert.equal(text.charCodeAt(0), 0xfeff);
  assert.deepEqual(parseDotenv(text), { FIRST: "one", SECOND: "two" });
  assert.deepEqual(parseDotenv(text), { ...dotenvParse(text) });
  assert.deepEqual(parseDotenv("\uFEFFexport FIRST='q'\r\n"), { FIRST: "q" });
});

Deno.test("parseDotenv() gives no prototype keys special meaning", () => {
  const parsed = parseDotenv("__proto__=x\nconstructor=y\n");
  assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
  assert.equal(Object.hasOwn(parsed, "constructor"), true);
});

Deno.test("the env backend reads the first variable of a .env text that starts with a BOM", async () => {
  const { EnvSecretManager } = await import("../../mod.ts");
  const env = new EnvSecretManager({
    lookup: () => undefined,
    dotenv: "\uFEFFALPACA_API_KEY_ID=PKBOM0000000000\nOTHER_KEY=x\n",
  });
  assert.equal(await env.getSecret("alpaca/api_key_id"), "PKBOM0000000000");
});
