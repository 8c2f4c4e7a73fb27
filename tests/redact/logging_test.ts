import assert from "node:assert/strict";
import { getLogger, type LogRecord, reset } from "@logtape/logtape";
import { SecretAccessError } from "../../core/errors.ts";
import { Secret } from "../../core/secret.ts";
import { redactConsole, redactingSink, redactLogValue } from "../../redact/logging.ts";
import { configureRedactedLogging } from "../../logging.ts";
import { Redactor } from "../../redact/redactor.ts";
import { fakes } from "./_fakes.ts";

const VALUE = "log-secret-0123456789";

function redactorWithValue(): Redactor {
  const r = new Redactor();
  r.register("api/token", VALUE);
  return r;
}

async function capture(
  fn: () => void,
  options: Parameters<typeof configureRedactedLogging>[1] = {},
): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  await configureRedactedLogging(redactorWithValue(), {
    sinks: { memory: (r) => records.push(r) },
    categories: [["app"], ["keyward"]],
    lowestLevel: "debug",
    reset: true,
    ...options,
  });
  try {
    fn();
  } finally {
    await reset();
  }
  return records;
}

Deno.test("a logged value is masked in the message, template and properties", async () => {
  const [structured, tagged] = await capture(() => {
    getLogger(["app"]).info("calling {url} with {header}", {
      url: `https://api.example.test/?t=${encodeURIComponent(VALUE)}`,
      header: `Bearer ${VALUE}`,
      nested: { list: [VALUE, { deeper: btoa(VALUE) }] },
    });
    getLogger(["app"]).warn`token ${VALUE} refused`;
  });
  const text = JSON.stringify([structured.message, structured.properties, tagged.message]);
  assert.ok(!text.includes(VALUE) && !text.includes(btoa(VALUE).slice(0, 20)), text);
  assert.equal(structured.properties.header, "Bearer [REDACTED:api/token]");
  assert.deepEqual(structured.properties.nested, {
    list: ["[REDACTED:api/token]", { deeper: "[REDACTED:api/token]" }],
  });
  assert.equal(tagged.message.join(""), "token [REDACTED:api/token] refused");
});

Deno.test("properties named like credentials are masked whatever they hold, names are kept", async () => {
  const [record] = await capture(() => {
    getLogger(["keyward", "cache"]).warn("stale {secret}", {
      secret: "db/password",
      password: "short",
      apiToken: "anything",
      stage: "current",
      backend: "vault",
    });
  });
  assert.equal(record.properties.secret, "db/password");
  assert.equal(record.properties.stage, "current");
  assert.equal(record.properties.backend, "vault");
  assert.equal(record.properties.password, "[REDACTED]");
  assert.equal(record.properties.apiToken, "[REDACTED]");
  assert.equal(record.message.join(""), "stale db/password");
});

Deno.test("well-known credentials and JWTs are masked without being registered", async () => {
  const jwt = ["eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiIxMjM0In0", "c2lnbmF0dXJlLXZhbHVl"].join(".");
  const [record] = await capture(() => {
    getLogger(["app"]).error("upstream said {body}", {
      body: `aws ${fakes.awsKey} vault ${fakes.vaultToken} jwt ${jwt} db ${fakes.connectionString}`,
    });
  });
  const body = String(record.properties.body);
  for (const leaked of [fakes.awsKey, fakes.vaultToken, jwt, "T4v9-Qm2xLp7Z"]) {
    assert.ok(!body.includes(leaked), body);
  }
  assert.match(body, /\[REDACTED:aws-access-key\].*\[REDACTED:vault-token\].*\[JWT REDACTED\]/);
});

Deno.test("an error property is copied with its message, stack and cause chain masked", async () => {
  const inner = new Error(`upstream echoed ${VALUE}`);
  const outer = new Error(`wrapper saw ${VALUE}`, { cause: inner });
  const keyward = new SecretAccessError(
    { secret: "api/token", backend: "vault" },
    "denied",
    "denied",
  );
  const [record] = await capture(() => {
    getLogger(["app"]).error("failed: {error}", { error: outer, failure: keyward });
  });
  const error = record.properties.error as Error;
  assert.ok(error instanceof Error);
  assert.equal(error.message, "wrapper saw [REDACTED:api/token]");
  assert.ok(!String(error.stack).includes(VALUE));
  assert.equal((error.cause as Error).message, "upstream echoed [REDACTED:api/token]");
  assert.ok(record.properties.failure instanceof SecretAccessError);
  assert.equal((record.properties.failure as SecretAccessError).reason, "denied");
  // The original objects are untouched.
  assert.equal(outer.message, `wrapper saw ${VALUE}`);
});

Deno.test("redactLogValue() handles cycles, maps, sets and keeps Secret objects", () => {
  const cyclic: Record<string, unknown> = { v: VALUE };
  cyclic.self = cyclic;
  const out = redactLogValue(
    { cyclic, map: new Map([["k", VALUE]]), set: new Set([VALUE]), secret: new Secret(VALUE) },
    redactorWithValue(),
  ) as {
    cyclic: Record<string, unknown>;
    map: Map<string, string>;
    set: Set<string>;
    secret: Secret;
  };
  assert.equal(out.cyclic.v, "[REDACTED:api/token]");
  assert.equal(out.cyclic.self, out.cyclic);
  assert.equal(out.map.get("k"), "[REDACTED:api/token]");
  assert.deepEqual([...out.set], ["[REDACTED:api/token]"]);
  assert.equal(String(out.secret), "[REDACTED]");
});

Deno.test("redactingSink() keeps the wrapped sink's dispose hooks", () => {
  let disposed = false;
  const sink = Object.assign((_r: LogRecord) => {}, {
    [Symbol.dispose]: () => {
      disposed = true;
    },
  });
  const wrapped = redactingSink(sink, new Redactor()) as typeof sink;
  wrapped[Symbol.dispose]();
  assert.equal(disposed, true);
});

Deno.test("configureRedactedLogging() routes the meta logger unless a category covers it", async () => {
  const records = await capture(() => {
    getLogger(["logtape", "meta"]).warn(`meta with ${VALUE}`);
    getLogger(["other"]).warn("not routed");
  });
  assert.deepEqual(records.map((r) => r.message.join("")), ["meta with [REDACTED:api/token]"]);
});

Deno.test("redactConsole() masks every argument of log/info/warn/error/debug and restores", () => {
  const printed: [string, unknown[]][] = [];
  const fake = {
    log: (...a: unknown[]) => void printed.push(["log", a]),
    info: (...a: unknown[]) => void printed.push(["info", a]),
    warn: (...a: unknown[]) => void printed.push(["warn", a]),
    error: (...a: unknown[]) => void printed.push(["error", a]),
    debug: (...a: unknown[]) => void printed.push(["debug", a]),
  };
  const originalLog = fake.log;
  const restore = redactConsole(redactorWithValue(), { console: fake });
  fake.log("value %s", VALUE);
  fake.info({ header: `Bearer ${VALUE}` });
  fake.warn(new Error(`echo ${VALUE}`));
  fake.error(`db ${fakes.connectionString}`);
  fake.debug([JSON.stringify({ v: VALUE })]);
  restore();
  assert.equal(fake.log, originalLog);
  fake.log(VALUE);
  assert.deepEqual(printed.map(([m]) => m), ["log", "info", "warn", "error", "debug", "log"]);
  const redacted = printed.slice(0, 5);
  for (const [method, args] of redacted) {
    const text = args.map((a) => a instanceof Error ? a.message + a.stack : JSON.stringify(a))
      .join(" ");
    assert.ok(!text.includes(VALUE) && !text.includes("T4v9-Qm2xLp7Z"), `${method}: ${text}`);
  }
  assert.deepEqual(printed[5][1], [VALUE], "restored console prints as before");
});

Deno.test("redactConsole() wraps the global console by default", () => {
  const original = console.log;
  const restore = redactConsole(redactorWithValue());
  try {
    assert.notEqual(console.log, original);
  } finally {
    restore();
  }
  assert.equal(console.log, original);
});
