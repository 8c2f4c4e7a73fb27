import assert from "node:assert/strict";
import { sleep } from "../../core/retry.ts";

/** A signal that counts its abort listeners. */
function countingSignal(): { controller: AbortController; listeners: () => number } {
  const controller = new AbortController();
  const signal = controller.signal;
  let count = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, fn: EventListener, opts?: unknown) => {
    if (type === "abort") count++;
    add(type, fn, opts as AddEventListenerOptions);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, fn: EventListener, opts?: unknown) => {
    if (type === "abort") count--;
    remove(type, fn, opts as EventListenerOptions);
  }) as typeof signal.removeEventListener;
  return { controller, listeners: () => count };
}

Deno.test("sleep() resolves, and removes its abort listener when it does", async () => {
  const { controller, listeners } = countingSignal();
  await sleep(1, controller.signal);
  assert.equal(listeners(), 0);
  await sleep(0);
});

Deno.test("sleep() rejects with the signal's reason when aborted while waiting", async () => {
  const { controller } = countingSignal();
  const reason = new Error("shutting down");
  const waiting = sleep(3_600_000, controller.signal);
  controller.abort(reason);
  await assert.rejects(waiting, (e) => e === reason);
  // The test ends without waiting an hour: the timer was cleared (Deno's sanitizer checks it).
});

Deno.test("sleep() rejects at once, with no timer, when the signal has already aborted", async () => {
  const reason = new Error("already aborted");
  const { controller, listeners } = countingSignal();
  controller.abort(reason);
  await assert.rejects(sleep(3_600_000, controller.signal), (e) => e === reason);
  assert.equal(listeners(), 0);
});
