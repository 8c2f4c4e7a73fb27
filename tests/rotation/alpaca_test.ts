import assert from "node:assert/strict";
import { CliHarness } from "../cli/_capture.ts";
import { startFakeBroker } from "../fakes/alpaca_broker.ts";

const NAME = "alpaca/api_key";
const OLD = { key_id: "PKOLD000000000000001", secret_key: "canary-old-secret-0000000000000001" };
const NEW = { key_id: "PKNEW000000000000002", secret_key: "canary-new-secret-0000000000000002" };
const OTHER = { key_id: "PKOTHER00000000000003", secret_key: "canary-oth-secret-000000000000003" };
const ACCOUNT = "b3f1c2d4-0000-4000-8000-00000000a001";

async function setup() {
  const broker = startFakeBroker();
  broker.addPair(OLD.key_id, OLD.secret_key, ACCOUNT);
  broker.addPair(NEW.key_id, NEW.secret_key, ACCOUNT);
  broker.addPair(OTHER.key_id, OTHER.secret_key, "c9e8d7f6-0000-4000-8000-00000000b002");
  const h = await CliHarness.create();
  Object.assign(h.env, {
    SECRET_ROTATION_LOG_FILE: `${h.dir}/rotation.jsonl`,
    SECRET_ROTATION_LOCK_DIR: `${h.dir}/locks`,
    KEYWARD_ROTATION_POLICY: `${h.dir}/policy.json`,
    USER: "ops-broker",
  });
  await Deno.writeTextFile(
    `${h.dir}/policy.json`,
    JSON.stringify({
      rules: [{ prefix: "alpaca/", rotator: "alpaca", options: { baseUrl: broker.baseUrl } }],
    }),
  );
  const set = await h.run(["set", NAME, "--field", "key_id", "--field", "secret_key"], {
    stdin: `key_id=${OLD.key_id}\nsecret_key=${OLD.secret_key}\n`,
  });
  assert.equal(set.code, 0, set.stderr);
  return {
    broker,
    h,
    async dispose() {
      await broker.close();
      await h.dispose();
    },
  };
}

function scan(text: string): void {
  for (const v of [OLD.secret_key, NEW.secret_key, OTHER.secret_key]) {
    assert.ok(!text.includes(v), "no secret key printed or logged");
  }
}

Deno.test("alpaca: a pair of the same account, given on standard input, is tested and promoted", async () => {
  const { h, dispose } = await setup();
  try {
    const run = await h.run(["rotate", NAME, "--grace", "0s"], {
      stdin: `${NEW.key_id}\n${NEW.secret_key}\n`,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /test_pending +succeeded/);
    assert.match(
      run.stdout,
      /deprecate_previous +succeeded .*revoke the previous key in the Alpaca dashboard/,
    );
    assert.equal((await h.run(["get", NAME, "--field", "key_id"])).stdout.trim(), NEW.key_id);
    scan(run.stdout + run.stderr + await Deno.readTextFile(`${h.dir}/rotation.jsonl`));
  } finally {
    await dispose();
  }
});

Deno.test("alpaca: a pair of another account is refused at test_pending; current is untouched", async () => {
  const { h, dispose } = await setup();
  try {
    const run = await h.run(["rotate", NAME], { stdin: `${OTHER.key_id}\n${OTHER.secret_key}\n` });
    assert.equal(run.code, 4, run.stderr);
    assert.match(run.stderr, /another account/);
    assert.match(run.stderr, /rotation rollback [0-9a-f-]{36}/);
    assert.equal((await h.run(["get", NAME, "--field", "key_id"])).stdout.trim(), OLD.key_id);
    const log = await Deno.readTextFile(`${h.dir}/rotation.jsonl`);
    assert.match(log, /"errorCode":"account_mismatch"/);
    scan(run.stdout + run.stderr + log);
    const id = /rotation rollback ([0-9a-f-]{36})/.exec(run.stderr)![1];
    assert.equal((await h.run(["rotation", "rollback", id])).code, 8);
  } finally {
    await dispose();
  }
});

Deno.test("alpaca: standard input only; echo off on a terminal; bad input writes nothing", async () => {
  const { h, dispose } = await setup();
  try {
    const asArg = await h.run(["rotate", NAME, NEW.key_id]);
    assert.equal(asArg.code, 2, "a pair as an argument is refused");
    scan(asArg.stderr);
    const garbage = await h.run(["rotate", NAME], { stdin: "not a pair\n" });
    assert.equal(garbage.code, 2);
    assert.match(garbage.stderr, /standard input must hold the new key id and secret key/);
    const noPrompt = await h.run(["rotate", NAME], { terminalWithoutPrompt: true });
    assert.notEqual(noPrompt.code, 0);
    await assert.rejects(Deno.stat(`${h.dir}/rotation.jsonl`), Deno.errors.NotFound);
    const typed = await h.run(["rotate", NAME], { typed: [NEW.key_id, NEW.secret_key] });
    assert.equal(typed.code, 0, typed.stderr);
    assert.equal(typed.prompts.length, 2, "both asked at the hidden prompt");
    scan(typed.stdout + typed.stderr);
  } finally {
    await dispose();
  }
});
