// Regression (issue 12 item 2): an invalid name (a value pasted where a name belongs) was echoed
// in the error message and written to the JSON-lines audit as `secret_name`. It must reach no
// error message, stack, error field, log record or audit row: only its length and the rule.
import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import {
  EnvSecretManager,
  InvalidSecretNameError,
  JsonLinesAuditSink,
  MemorySecretManager,
  type SecretManager,
  withAudit,
  withCache,
} from "../../mod.ts";
import { createSecretManager } from "../../factory.ts";
import { generateFileKey } from "../../backends/file.ts";

const CANARY = "CANARYpasted7f3a9c";
/** Values an operator could paste as a name: each holds the canary and breaks a naming rule. */
const PASTED = [
  `${CANARY}+Zx/QkT==`,
  `postgres://app:${CANARY}@db.internal/prod`,
  `${CANARY} with a space`,
  `export DB_PASSWORD=${CANARY}`,
  `${CANARY}${"x".repeat(600)}`,
  `/${CANARY}`,
  `${CANARY}//b`,
];

/** Everything an error exposes: message, stack, fields, causes. */
function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; depth++) {
    if (e instanceof Error) {
      parts.push(String(e), e.message, e.stack ?? "", JSON.stringify({ ...e }));
      e = e.cause;
    } else {
      parts.push(String(e));
      e = undefined;
    }
  }
  return parts.join("\n");
}

async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; logs: string }> {
  const records: LogRecord[] = [];
  await configure({
    sinks: { memory: (r) => records.push(r) },
    loggers: [
      { category: ["keyward"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
    reset: true,
  });
  try {
    const result = await fn();
    return {
      result,
      logs: records.map((r) => JSON.stringify([r.message, r.rawMessage, r.properties])).join("\n"),
    };
  } finally {
    await reset();
  }
}

/** Calls every operation with every pasted name; returns the text of every error. */
async function callWithPastedNames(m: SecretManager): Promise<string[]> {
  const texts: string[] = [];
  const expectRefusal = async (p: Promise<unknown>) => {
    const err = await p.then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof InvalidSecretNameError, `expected InvalidSecretNameError: ${err}`);
    assert.equal(err.code, "invalid_name");
    texts.push(errorText(err));
  };
  for (const name of PASTED) {
    await expectRefusal(m.getSecret(name));
    await expectRefusal(m.getSecret(name, { stage: "pending" }));
    await expectRefusal(m.describeSecret(name));
    await expectRefusal(m.setSecret(name, "some-value-0123"));
    await expectRefusal(m.promote(name, "1"));
    await expectRefusal(m.deleteSecret(name));
    await expectRefusal(m.listSecrets(name));
  }
  return texts;
}

function collectLines(): { stream: WritableStream<Uint8Array>; text: () => string } {
  let text = "";
  const dec = new TextDecoder();
  return {
    stream: new WritableStream({ write: (c) => void (text += dec.decode(c)) }),
    text: () => text,
  };
}

for (
  const [label, make] of [
    ["memory", () => new MemorySecretManager({ initial: { "db/password": "pw-0123456789" } })],
    ["env", () => new EnvSecretManager({ lookup: () => undefined, keys: () => [] })],
  ] as const
) {
  Deno.test(`${label}: a value pasted as a name reaches no error, log or audit row`, async () => {
    const out = collectLines();
    const sink = new JsonLinesAuditSink(out.stream);
    const audited = withAudit(make(), sink, { service: "canary-svc" });
    const cached = withCache(audited, { onServe: audited.recordServe });
    const { result: texts, logs } = await captureLogs(async () => {
      const texts = [
        ...await callWithPastedNames(audited),
        ...await callWithPastedNames(cached),
      ];
      await cached.close();
      return texts;
    });
    const rows = out.text().trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(rows.length >= PASTED.length * 7, `the refusals are audited (${rows.length} rows)`);
    for (const text of texts) assert.ok(!text.includes(CANARY), text);
    assert.ok(!logs.includes(CANARY), logs);
    assert.ok(!out.text().includes(CANARY), out.text());
    const refused = rows.filter((r) => r.error_code === "invalid_name");
    assert.ok(refused.length >= PASTED.length * 6);
    for (const row of refused) assert.match(row.secret_name, /^\(invalid name, \d+ characters\)$/);
  });
}

Deno.test("the error states the rule, the length and the position, never the text", () => {
  const err = new EnvSecretManager({ lookup: () => undefined }).getSecret(PASTED[0]).catch((e) =>
    e
  );
  return err.then((e) => {
    assert.ok(e instanceof InvalidSecretNameError);
    assert.equal(
      e.message,
      `invalid secret name (${PASTED[0].length} characters): a name holds only letters, ` +
        `digits, '_', '.', '-' and '/' (position ${CANARY.length + 1})`,
    );
    assert.equal(e.secret, `(invalid name, ${PASTED[0].length} characters)`);
  });
});

Deno.test({
  name: "file backend through createSecretManager: a pasted name reaches no error or audit row",
  permissions: { read: true, write: true, env: true },
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const auditPath = `${dir}/audit.jsonl`;
      const env = {
        SECRET_BACKEND: "file",
        KEYWARD_FILE_PATH: `${dir}/store/secrets.json`,
        KEYWARD_FILE_KEY: generateFileKey(),
        SECRET_AUDIT: "jsonl",
        SECRET_AUDIT_FILE: auditPath,
        SECRET_AUDIT_SERVICE: "canary-svc",
      };
      const { result: texts, logs } = await captureLogs(async () => {
        const m = await createSecretManager({ env });
        await m.setSecret("db/password", "file-value-0123456789");
        const texts = await callWithPastedNames(m);
        await m.close();
        return texts;
      });
      for (const text of texts) assert.ok(!text.includes(CANARY), text);
      assert.ok(!logs.includes(CANARY), logs);
      const audit = await Deno.readTextFile(auditPath);
      assert.ok(audit.includes('"error_code":"invalid_name"'), "the refusals are audited");
      assert.ok(!audit.includes(CANARY), audit);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("CLI: a value pasted as a name is refused before any prompt, and never printed", async () => {
  const { main } = await import("../../cli.ts");
  const { captureIo } = await import("../../testing.ts");
  for (const args of [["set", PASTED[0]], ["delete", PASTED[0]], ["get", PASTED[2]]]) {
    const questions: string[] = [];
    const io = captureIo({
      stdinIsTerminal: true,
      promptHidden: (q) => (questions.push(q), Promise.resolve("value-0123456789")),
    });
    // The CLI refuses SECRET_BACKEND=memory; a manager given through deps is used as it is.
    const { MemorySecretManager } = await import("../../mod.ts");
    const createManager = () => Promise.resolve(new MemorySecretManager());
    assert.equal(await main(args, io, { createManager }), 2, io.stderrText);
    assert.deepEqual(questions, [], "no prompt for a refused name");
    assert.match(io.stderrText, /invalid secret name \(\d+ characters\)/);
    assert.ok(!(io.stdoutText + io.stderrText).includes(CANARY), io.stderrText);
  }
});
