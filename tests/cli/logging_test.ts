import assert from "node:assert/strict";
import { configure, getConfig, reset } from "@logtape/logtape";
import { MemorySecretManager } from "../../backends/memory.ts";
import { keywardLogger } from "../../core/log.ts";
import type { SecretManager } from "../../core/types.ts";
import { runMain, withHarness } from "./_capture.ts";

const CANARY = "CANARY-cli-log-5e0c91d2";
const AWS_KEY = "AKIA" + "Q3EXAMP1E7K2M4ZP";

Deno.test("a library warning reaches standard error, without the value (file store, stale lock)", async () => {
  await withHarness(async (h) => {
    const lock = `${h.env.KEYWARD_FILE_PATH}.lock`;
    await Deno.writeTextFile(lock, "left over by a crashed writer");
    const hourAgo = new Date(Date.now() - 3_600_000);
    await Deno.utime(lock, hourAgo, hourAgo);
    const r = await h.run(["set", "db/password"], { stdin: `${CANARY}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "set db/password: version 1 (current)\n");
    assert.match(r.stderr, /^warning \(keyward[.\w]*\): Broke a stale lock on the file store /m);
    assert.ok(!r.stderr.includes(CANARY));
    assert.equal(getConfig(), null, "the CLI undoes its logging configuration");
  });
});

/** A manager that logs a warning holding the value it served and a credential. */
function chattyManager(): SecretManager {
  const inner = new MemorySecretManager({ initial: { "app/key": CANARY } });
  const log = keywardLogger("test", "chatty");
  return Object.assign(Object.create(inner) as SecretManager, {
    getSecret: inner.getSecret.bind(inner),
    async close() {
      log.warn("closing after serving {value} with {credential}", {
        value: CANARY,
        credential: `AWS_ACCESS_KEY_ID=${AWS_KEY}`,
      });
      await inner.close();
    },
  });
}

Deno.test("warnings pass through the redactor: values the run read and credentials are masked", async () => {
  const deps = { createManager: () => Promise.resolve(chattyManager()) };
  const text = await runMain(["get", "app/key"], {}, {}, deps);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout, `${CANARY}\n`, "get prints the value on stdout, as asked");
  assert.match(text.stderr, /^warning \(keyward\.test\.chatty\): closing after serving /);
  assert.match(text.stderr, /\[REDACTED:app\/key\]/);
  assert.ok(!text.stderr.includes(CANARY), text.stderr);
  assert.ok(!text.stderr.includes(AWS_KEY), text.stderr);

  const json = await runMain(["get", "app/key", "--json"], {}, {}, deps);
  assert.equal(json.code, 0);
  const line = JSON.parse(json.stderr.trim());
  assert.equal(line.log.level, "warning");
  assert.equal(line.log.category, "keyward.test.chatty");
  assert.ok(!json.stderr.includes(CANARY));
});

Deno.test("the not-found warning is left to the error line, which says the same", async () => {
  await withHarness(async (h) => {
    const r = await h.run(["get", "no/such"]);
    assert.equal(r.code, 3);
    assert.equal(r.stderr.split("\n").filter((l) => l !== "").length, 1, r.stderr);
    assert.match(r.stderr, /^error: secret "no\/such" \(stage current\) not found/);
  });
});

Deno.test("a LogTape configuration the application made is left alone", async () => {
  const seen: string[] = [];
  await configure({
    sinks: { app: (record) => void seen.push(record.category.join(".")) },
    loggers: [
      { category: ["keyward"], sinks: ["app"], lowestLevel: "warning" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  try {
    const deps = { createManager: () => Promise.resolve(chattyManager()) };
    const r = await runMain(["get", "app/key"], {}, {}, deps);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, "");
    assert.deepEqual(seen, ["keyward.test.chatty"]);
    assert.notEqual(getConfig(), null);
  } finally {
    await reset();
  }
});
