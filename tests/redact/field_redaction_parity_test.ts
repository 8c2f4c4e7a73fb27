// keyward's port of @logtape/redaction's field redaction (redact/_field_redaction.ts,
// issue 18: mod.ts no longer imports LogTape) against the package itself.
import assert from "node:assert/strict";
import fc from "fast-check";
import type { LogRecord } from "@logtape/logtape";
import {
  DEFAULT_REDACT_FIELDS as PACKAGE_FIELDS,
  JWT_PATTERN as PACKAGE_JWT,
  redactByField,
} from "@logtape/redaction";
import {
  DEFAULT_REDACT_FIELDS,
  type FieldPatterns,
  JWT_PATTERN,
  redactFields,
} from "../../redact/_field_redaction.ts";
import { KEYWARD_REDACT_FIELDS } from "../../logging.ts";

/** What the package's sink hands on, for the same record and patterns. */
function packageRedacts(record: LogRecord, fieldPatterns: FieldPatterns): LogRecord {
  let out: LogRecord | undefined;
  redactByField((r) => void (out = r), {
    fieldPatterns: [...fieldPatterns],
    action: () => "[REDACTED]",
  })(record);
  return out!;
}

function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (err) {
    return { threw: (err as Error).name };
  }
}

Deno.test("the copied constants are the package's", () => {
  assert.deepEqual(
    DEFAULT_REDACT_FIELDS.map(String),
    (PACKAGE_FIELDS as (string | RegExp)[]).map(String),
  );
  assert.equal(JWT_PATTERN.pattern.source, PACKAGE_JWT.pattern.source);
  assert.equal(JWT_PATTERN.pattern.flags, PACKAGE_JWT.pattern.flags);
  assert.equal(JWT_PATTERN.replacement, PACKAGE_JWT.replacement);
});

const fieldName = fc.oneof(
  fc.constantFrom("password", "token", "secret", "name", "user", "apiKey", "nested", "list", "*"),
  fc.string({ maxLength: 8 }),
);
const leaf = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null));
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fieldName, tie("value"), { maxKeys: 4 }),
    fc.constant(new Date(0)),
  ),
}));

const record = fc.record({
  properties: fc.dictionary(fieldName, value, { maxKeys: 6 }),
  placeholders: fc.array(
    fc.oneof(fieldName, fc.constantFrom("nested.password", "list[0]", 'nested["token"]')),
    { maxLength: 4 },
  ),
  tagged: fc.boolean(),
}).map(({ properties, placeholders, tagged }): LogRecord => {
  const message: unknown[] = [];
  let raw = "";
  placeholders.forEach((p, i) => {
    message.push(`t${i} `, properties[p] ?? `v${i}`);
    raw += `t${i} {${p}}`;
  });
  message.push("end");
  raw += "end";
  const rawMessage = tagged
    ? Object.assign([...message.filter((_, i) => i % 2 === 0)] as string[], {
      raw: [] as string[],
    }) as unknown as TemplateStringsArray
    : raw;
  return {
    category: ["app"],
    level: "info",
    timestamp: 0,
    message,
    rawMessage,
    properties,
  };
});

Deno.test("the port redacts every generated record as the package does", () => {
  fc.assert(
    fc.property(
      record,
      fc.constantFrom<FieldPatterns>(
        DEFAULT_REDACT_FIELDS,
        KEYWARD_REDACT_FIELDS,
        ["password", /^api/i],
      ),
      (r, patterns) => {
        // A template whose placeholders do not match its values (a generated name with a
        // brace) makes both throw the same way: compare outcomes, not only results.
        assert.deepEqual(
          outcome(() => redactFields(r, patterns)),
          outcome(() => packageRedacts(r, patterns)),
        );
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("the port stops at the package's limits (depth 20, 1,000 properties) as it does", () => {
  let deep: Record<string, unknown> = { password: "canary-deep-0001" };
  for (let i = 0; i < 25; i++) deep = { level: deep };
  const wide = Object.fromEntries(Array.from({ length: 1_005 }, (_, i) => [`k${i}`, i]));
  const records: LogRecord[] = [
    {
      category: ["app"],
      level: "info",
      timestamp: 0,
      message: ["a ", deep, " b ", wide, ""],
      rawMessage: "a {deep} b {wide}",
      properties: { deep, wide },
    },
  ];
  for (const r of records) {
    const ours = redactFields(r, DEFAULT_REDACT_FIELDS);
    assert.deepEqual(ours, packageRedacts(r, DEFAULT_REDACT_FIELDS));
    assert.ok(!JSON.stringify(ours).includes("canary-deep-0001"));
  }
});
