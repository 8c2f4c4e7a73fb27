import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { MemorySecretManager } from "../../backends/memory.ts";
import { CanaryLeakError, captureIo, runCanary } from "../../testing/canary.ts";

const leaksInto = (channel: string, form?: string) => (err: unknown): true => {
  assert.ok(err instanceof CanaryLeakError, String(err));
  assert.equal(err.channel, channel, err.message);
  if (form) assert.equal(err.form, form, err.message);
  return true;
};

Deno.test("runCanary() plants the value, runs the code and passes when nothing leaks", async () => {
  const manager = new MemorySecretManager();
  const report = await runCanary(async ({ canary, io }) => {
    const value = await manager.getSecret(canary.name);
    io.stdout(`read ${value.length} characters\n`);
    getLogger(["keyward", "test"]).info("read {secret}", { secret: canary.name });
    return value;
  }, { manager });
  assert.match(report.canary.value, /^canary-[0-9a-f-]{36}$/);
  assert.equal(report.result, report.canary.value);
  assert.equal(report.stdout, "read 43 characters\n");
  assert.ok(report.logs.some((r) => r.properties.secret === report.canary.name));
});

Deno.test("runCanary() fails naming the log record when a log line holds the value", async () => {
  await assert.rejects(
    runCanary(({ canary }) => {
      getLogger(["keyward", "backend"]).warn("got {v}", { v: canary.value });
    }),
    (err) => {
      leaksInto("log", "plain")(err);
      assert.match(
        (err as Error).message,
        /log record \d+ \(keyward\.backend, warning\), message/,
      );
      return true;
    },
  );
});

Deno.test("runCanary() finds the value down an error's cause chain, base64-encoded", async () => {
  await assert.rejects(
    runCanary(({ canary }) => {
      const body = btoa(JSON.stringify({ token: canary.value }));
      throw new Error("outer", { cause: new Error("middle", { cause: new Error(body) }) });
    }),
    (err) => {
      leaksInto("error", "base64")(err);
      assert.match((err as Error).message, /error 1, cause 2/);
      return true;
    },
  );
});

Deno.test("runCanary() scans recorded errors' JSON and own properties", async () => {
  await assert.rejects(
    runCanary(({ canary, recordError }) => {
      recordError(Object.assign(new Error("request failed"), { body: { echo: canary.value } }));
    }),
    leaksInto("error", "plain"),
  );
});

Deno.test("runCanary() fails on stdout, stderr, audit events and metric lines", async () => {
  await assert.rejects(
    runCanary(({ canary, io }) => io.stdout(`v=${encodeURIComponent(canary.value)}`)),
    leaksInto("stdout"),
  );
  await assert.rejects(
    runCanary(({ canary, io }) => io.stderr(JSON.stringify({ v: canary.value }))),
    leaksInto("stderr"),
  );
  const events: unknown[] = [];
  await assert.rejects(
    runCanary(({ canary }) => void events.push({ action: "get", note: canary.value }), {
      audit: { events },
    }),
    leaksInto("audit"),
  );
  await assert.rejects(
    runCanary(({ canary, metric }) => metric(`secret_reads{value="${canary.value}"} 1`)),
    leaksInto("metric"),
  );
  await assert.rejects(
    runCanary(() => {}, {
      metrics: () => ["ok 1", `bad{v="canary-fixed-value-01"} 1`],
      value: "canary-fixed-value-01",
    }),
    leaksInto("metric"),
  );
});

Deno.test("runCanary() skips the channels where the value is expected", async () => {
  const io = captureIo();
  const report = await runCanary(({ canary }) => io.stdout(`${canary.value}\n`), {
    io,
    expectIn: ["stdout"],
  });
  assert.equal(report.stdout, `${report.canary.value}\n`);
});

Deno.test("runCanary() plants through a custom planter and refuses short canaries", async () => {
  let planted = "";
  await runCanary(() => {}, {
    name: "custom/name",
    plant: ({ value }) => {
      planted = value;
    },
  });
  assert.match(planted, /^canary-/);
  await assert.rejects(runCanary(() => {}, { value: "short" }), RangeError);
});

Deno.test("runCanary() resets LogTape afterwards, also when the code throws", async () => {
  await runCanary(() => {
    throw new Error("plain failure");
  }).then((r) => assert.equal((r.thrown as Error).message, "plain failure"));
  // LogTape is unconfigured again: configuring without reset works.
  const { configure, reset } = await import("@logtape/logtape");
  await configure({ sinks: {}, loggers: [] });
  await reset();
});
