import assert from "node:assert/strict";
import { backoffDelayMs, DEFAULT_RETRY, retry, validateRetryPolicy } from "../../core/retry.ts";

Deno.test("retry() stops at the first success and passes the attempt number", async () => {
  const seen: number[] = [];
  const result = await retry((attempt) => {
    seen.push(attempt);
    return attempt < 2 ? Promise.reject(new Error("transient")) : Promise.resolve("done");
  }, { retryable: () => true, sleep: () => Promise.resolve() });
  assert.equal(result, "done");
  assert.deepEqual(seen, [1, 2]);
});

Deno.test("retry() makes 3 attempts by default, then throws the last error", async () => {
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls += 1;
      return Promise.reject(new Error(`failure ${calls}`));
    }, { retryable: () => true, sleep: () => Promise.resolve() }),
    /failure 3/,
  );
  assert.equal(calls, DEFAULT_RETRY.attempts);
});

Deno.test("retry() throws an error that is not retryable at once", async () => {
  let calls = 0;
  const retries: number[] = [];
  await assert.rejects(
    retry(() => {
      calls += 1;
      return Promise.reject(new TypeError("permanent"));
    }, {
      retryable: (err) => !(err instanceof TypeError),
      onRetry: ({ attempt }) => void retries.push(attempt),
    }),
    TypeError,
  );
  assert.equal(calls, 1);
  assert.deepEqual(retries, []);
});

Deno.test("backoff has full jitter under an exponential, capped ceiling", () => {
  const top = () => 0.999999;
  const ceilings = [1, 2, 3, 4, 5, 6].map((a) =>
    backoffDelayMs(a, { baseDelayMs: 100, maxDelayMs: 1000, random: top })
  );
  assert.deepEqual(ceilings, [99, 199, 399, 799, 999, 999]);
  assert.equal(backoffDelayMs(3, { random: () => 0 }), 0, "full jitter reaches zero");
  assert.ok(backoffDelayMs(1) < DEFAULT_RETRY.baseDelayMs);
});

Deno.test("retry() reports each backoff and waits with the injected sleep", async () => {
  const waits: number[] = [];
  const reported: [number, number][] = [];
  await assert.rejects(
    retry(() => Promise.reject(new Error("down")), {
      attempts: 3,
      baseDelayMs: 10,
      random: () => 0.5,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
      retryable: () => true,
      onRetry: ({ attempt, delayMs }) => void reported.push([attempt, delayMs]),
    }),
  );
  assert.deepEqual(waits, [5, 10]);
  assert.deepEqual(reported, [[1, 5], [2, 10]]);
});

Deno.test("the default sleep is cut short by an aborted signal", async () => {
  const ctl = new AbortController();
  let calls = 0;
  const pending = retry(() => {
    calls += 1;
    return Promise.reject(new Error("down"));
  }, { retryable: () => true, baseDelayMs: 60_000, random: () => 0.9, signal: ctl.signal });
  setTimeout(() => ctl.abort(new Error("stop waiting")), 10);
  await assert.rejects(pending, /stop waiting/);
  assert.equal(calls, 1);
  const already = new AbortController();
  already.abort(new Error("already aborted"));
  await assert.rejects(
    retry(() => Promise.reject(new Error("down")), {
      retryable: () => true,
      signal: already.signal,
    }),
    /already aborted/,
  );
});

Deno.test("the default sleep waits and resolves", async () => {
  let calls = 0;
  const result = await retry(() => {
    calls += 1;
    return calls === 1 ? Promise.reject(new Error("once")) : Promise.resolve(calls);
  }, { retryable: () => true, baseDelayMs: 5, random: () => 0.5 });
  assert.equal(result, 2);
});

Deno.test("validateRetryPolicy() names the bad option", () => {
  validateRetryPolicy({});
  validateRetryPolicy({ attempts: 1, baseDelayMs: 0, maxDelayMs: 10 });
  assert.throws(() => validateRetryPolicy({ attempts: 0 }), /retry\.attempts/);
  assert.throws(() => validateRetryPolicy({ attempts: 1.5 }), /retry\.attempts/);
  assert.throws(() => validateRetryPolicy({ baseDelayMs: -1 }), /retry\.baseDelayMs/);
  assert.throws(
    () => validateRetryPolicy({ maxDelayMs: Infinity }, "vault.retry"),
    /vault\.retry\.maxDelayMs/,
  );
});
