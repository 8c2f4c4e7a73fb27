/**
 * The `alpaca` rotator's error paths an operator meets: a broker that
 * refuses (401/403), fails (500), answers without an account id or does not
 * answer; standard input that is empty, not two lines or the current key
 * again; a secret without the pair's fields; a policy without `baseUrl`.
 * Every failure leaves `current` as it was and prints no secret key.
 */

import assert from "node:assert/strict";
import { CliHarness, type Feed } from "../cli/_capture.ts";
import { startFakeBroker } from "../fakes/alpaca_broker.ts";
import { alpacaRotator, parsePair } from "../../rotation/rotators/alpaca.ts";
import { ConfigError } from "../../core/errors.ts";

const NAME = "alpaca/api_key";
const OLD = { key_id: "PKOLD000000000000011", secret_key: "canary-old-secret-0000000000000011" };
const NEW = { key_id: "PKNEW000000000000012", secret_key: "canary-new-secret-0000000000000012" };
const ACCOUNT = "b3f1c2d4-0000-4000-8000-00000000a011";

function scan(text: string): void {
  for (const v of [OLD.secret_key, NEW.secret_key]) {
    assert.ok(!text.includes(v), "no secret key printed or logged");
  }
}

/**
 * A broker that answers the current pair as Alpaca does (200, the account)
 * and the new pair with `answer` (a broker outage, a changed API, ...).
 */
function startOddBroker(answer: () => Response): { baseUrl: string; close: () => Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    if (req.headers.get("APCA-API-KEY-ID") === OLD.key_id) {
      return Response.json({ id: ACCOUNT, status: "ACTIVE" });
    }
    return answer();
  });
  return { baseUrl: `http://127.0.0.1:${server.addr.port}`, close: () => server.shutdown() };
}

async function harness(options: Record<string, unknown>, value?: string): Promise<CliHarness> {
  const h = await CliHarness.create();
  Object.assign(h.env, {
    SECRET_ROTATION_LOG_FILE: `${h.dir}/rotation.jsonl`,
    SECRET_ROTATION_LOCK_DIR: `${h.dir}/locks`,
    KEYWARD_ROTATION_POLICY: `${h.dir}/policy.json`,
    USER: "ops-broker",
  });
  await Deno.writeTextFile(
    `${h.dir}/policy.json`,
    JSON.stringify({ rules: [{ prefix: "alpaca/", rotator: "alpaca", options }] }),
  );
  const set = value === undefined
    ? await h.run(["set", NAME, "--field", "key_id", "--field", "secret_key"], {
      stdin: `key_id=${OLD.key_id}\nsecret_key=${OLD.secret_key}\n`,
    })
    : await h.run(["set", NAME], { stdin: value });
  assert.equal(set.code, 0, set.stderr);
  return h;
}

async function currentKeyId(h: CliHarness): Promise<string> {
  return (await h.run(["get", NAME, "--field", "key_id"])).stdout.trim();
}

/** Rotates with the new pair on stdin; the test step fails, current is untouched. */
async function refusedAtTest(baseUrl: string, message: RegExp, code: string): Promise<void> {
  const h = await harness({ baseUrl });
  try {
    const run = await h.run(["rotate", NAME], { stdin: `${NEW.key_id}\n${NEW.secret_key}\n` });
    assert.equal(run.code, 4, run.stderr);
    assert.match(run.stderr, message);
    assert.equal(await currentKeyId(h), OLD.key_id, "current is untouched");
    const log = await Deno.readTextFile(`${h.dir}/rotation.jsonl`);
    assert.match(log, new RegExp(`"errorCode":"${code}"`));
    scan(run.stdout + run.stderr + log);
  } finally {
    await h.dispose();
  }
}

Deno.test("alpaca: a new key the broker refuses (403, revoked) fails the test step", async () => {
  const broker = startFakeBroker();
  broker.addPair(OLD.key_id, OLD.secret_key, ACCOUNT);
  // NEW is not (or no longer) known to the broker: Alpaca answers 403.
  try {
    await refusedAtTest(
      broker.baseUrl,
      /the broker refused the new key pair \(HTTP 403\)/,
      "broker_refused",
    );
  } finally {
    await broker.close();
  }
});

Deno.test("alpaca: a broker answering 401 is a refusal of the key", async () => {
  const broker = startOddBroker(() =>
    Response.json({ code: 40110000, message: "request is not authorized" }, { status: 401 })
  );
  try {
    await refusedAtTest(
      broker.baseUrl,
      /the broker refused the new key pair \(HTTP 401\)/,
      "broker_refused",
    );
  } finally {
    await broker.close();
  }
});

Deno.test("alpaca: a broker answering 500 is not reported as a refused key (regression)", async () => {
  const broker = startOddBroker(() =>
    Response.json({ message: "internal server error" }, { status: 500 })
  );
  try {
    await refusedAtTest(
      broker.baseUrl,
      /the broker answered HTTP 500 to the new key pair's account request; it did not judge the key/,
      "broker_error",
    );
  } finally {
    await broker.close();
  }
});

Deno.test("alpaca: an account answer without an id (or not JSON) fails the test step", async () => {
  for (const answer of [() => Response.json({ status: "ACTIVE" }), () => new Response("<html>")]) {
    const broker = startOddBroker(answer);
    try {
      await refusedAtTest(broker.baseUrl, /the broker's account answer has no id/, "broker_answer");
    } finally {
      await broker.close();
    }
  }
});

Deno.test("alpaca: a broker that does not answer fails the test step with its address", async () => {
  const gone = startOddBroker(() => new Response("unused"));
  await gone.close(); // nothing listens on that port now
  await refusedAtTest(
    gone.baseUrl,
    new RegExp(`the broker at ${gone.baseUrl.replaceAll(".", "\\.")} did not answer`),
    "broker_unreachable",
  );
});

Deno.test("alpaca: standard input that is not one new pair writes nothing", async () => {
  const broker = startFakeBroker();
  broker.addPair(OLD.key_id, OLD.secret_key, ACCOUNT);
  broker.addPair(NEW.key_id, NEW.secret_key, ACCOUNT);
  const h = await harness({ baseUrl: broker.baseUrl });
  try {
    const feeds: [string, Feed, RegExp][] = [
      ["empty", { stdin: "" }, /standard input must hold the new key id and secret key/],
      ["one line", { stdin: `${NEW.key_id}\n` }, /must hold the new key id and secret key/],
      [
        "three lines",
        { stdin: `${NEW.key_id}\n${NEW.secret_key}\nextra\n` },
        /must hold the new key id and secret key/,
      ],
      [
        "the current key again",
        { stdin: `${OLD.key_id}\n${OLD.secret_key}\n` },
        /the new key id is the current one; create a new key in the dashboard/,
      ],
      [
        "not UTF-8",
        { stdinBytes: new Uint8Array([0x50, 0x4b, 0xff, 0xfe, 0x0a]) },
        /UTF-8/,
      ],
    ];
    for (const [what, feed, message] of feeds) {
      const run = await h.run(["rotate", NAME], feed);
      assert.equal(run.code, 2, `${what}: ${run.stderr}`);
      assert.match(run.stderr, message, what);
      scan(run.stdout + run.stderr);
    }
    await assert.rejects(Deno.stat(`${h.dir}/rotation.jsonl`), Deno.errors.NotFound);
    assert.equal(broker.requests, 0, "the broker was not asked");
    assert.equal(await currentKeyId(h), OLD.key_id);
  } finally {
    await h.dispose();
    await broker.close();
  }
});

Deno.test("alpaca: the pair as key_id= / secret_key= lines, in either order, is accepted", async () => {
  const broker = startFakeBroker();
  broker.addPair(OLD.key_id, OLD.secret_key, ACCOUNT);
  broker.addPair(NEW.key_id, NEW.secret_key, ACCOUNT);
  const h = await harness({ baseUrl: broker.baseUrl });
  try {
    const run = await h.run(["rotate", NAME], {
      stdin: `secret_key=${NEW.secret_key}\r\nkey_id=${NEW.key_id}\r\n`,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await currentKeyId(h), NEW.key_id);
    assert.equal(
      (await h.run(["get", NAME, "--field", "secret_key"])).stdout.trim(),
      NEW.secret_key,
    );
    scan(run.stdout + run.stderr);
  } finally {
    await h.dispose();
    await broker.close();
  }
  // A secret key with '=' (base64 padding) keeps it; a lower-case key id is not one.
  assert.deepEqual(parsePair(`key_id=${NEW.key_id}\nsecret_key=abcdefghijklmnopqrstuv==\n`), {
    key_id: NEW.key_id,
    secret_key: "abcdefghijklmnopqrstuv==",
  });
  assert.equal(parsePair(`pknew000000000000012\n${NEW.secret_key}\n`), undefined);
  assert.equal(parsePair(`key_id=${NEW.key_id}\n`), undefined, "no secret key");
});

Deno.test("alpaca: a secret without key_id and secret_key fields is refused before any input is read", async () => {
  const broker = startFakeBroker();
  const h = await harness({ baseUrl: broker.baseUrl }, "a-plain-string-value");
  try {
    const run = await h.run(["rotate", NAME], { stdin: `${NEW.key_id}\n${NEW.secret_key}\n` });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /must hold fields key_id and secret_key for the alpaca rotator/);
    await assert.rejects(Deno.stat(`${h.dir}/rotation.jsonl`), Deno.errors.NotFound);
    assert.equal(broker.requests, 0);
  } finally {
    await h.dispose();
    await broker.close();
  }
});

Deno.test("alpaca: a policy without baseUrl or with an unknown option names both", async () => {
  const h = await harness({ baseUrl: "http://127.0.0.1:9" });
  try {
    await Deno.writeTextFile(
      `${h.dir}/policy.json`,
      JSON.stringify({
        rules: [{ prefix: "alpaca/", rotator: "alpaca", options: { baseURL: "https://x" } }],
      }),
    );
    const run = await h.run(["rotate", NAME], { stdin: `${NEW.key_id}\n${NEW.secret_key}\n` });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /baseURL: unknown option/);
    assert.match(run.stderr, /baseUrl: required/);
    await assert.rejects(Deno.stat(`${h.dir}/rotation.jsonl`), Deno.errors.NotFound);
    assert.equal(await currentKeyId(h), OLD.key_id);
  } finally {
    await h.dispose();
  }
});

Deno.test("alpaca: a library caller that skips prepare gets a clear error, not an empty pair", async () => {
  const rotator = alpacaRotator({
    stdout: () => {},
    stderr: () => {},
    readStdin: () => Promise.resolve(""),
    stdinIsTerminal: false,
    env: {},
  });
  await assert.rejects(
    () => rotator.generate({ name: NAME, current: OLD, options: { baseUrl: "http://x" } }),
    (err) => err instanceof ConfigError && /needs the new pair on standard input/.test(err.message),
  );
});
