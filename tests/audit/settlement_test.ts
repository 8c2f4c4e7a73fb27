import assert from "node:assert/strict";
import { Settlement } from "../../audit/_buffer.ts";

/** Whether `p` has settled (after pending microtasks ran). */
async function state(p: Promise<unknown>): Promise<"pending" | "resolved" | "rejected"> {
  let out: "pending" | "resolved" | "rejected" = "pending";
  p.then(() => (out = "resolved"), () => (out = "rejected"));
  await new Promise((r) => setTimeout(r, 0));
  return out;
}

Deno.test("a waiter resolves once its count of accesses is settled, not before", async () => {
  const s = new Settlement();
  const flush = s.until(3, false);
  const confirm = s.until(5, true);
  s.add(2);
  assert.equal(await state(flush), "pending");
  s.add(1);
  assert.equal(await state(flush), "resolved");
  assert.equal(await state(confirm), "pending");
  s.add(2);
  assert.equal(await state(confirm), "resolved");
  assert.equal(s.settled, 5);
  assert.equal(
    await state(s.until(4, true)),
    "resolved",
    "a count already reached resolves at once",
  );
});

Deno.test("a failed write rejects confirm() waiters only; flush() waiters wait for the retry", async () => {
  const s = new Settlement();
  const flush = s.until(1, false);
  const confirm = s.until(1, true);
  s.fail(new Error("insert failed"));
  assert.equal(await state(confirm), "rejected");
  await assert.rejects(confirm, /insert failed/);
  assert.equal(await state(flush), "pending");
  s.add(1);
  assert.equal(await state(flush), "resolved");
});

Deno.test("releaseAll resolves every waiter, whatever its count (the sink closed)", async () => {
  const s = new Settlement();
  const a = s.until(10, false);
  const b = s.until(20, true);
  s.releaseAll();
  assert.equal(await state(a), "resolved");
  assert.equal(await state(b), "resolved");
});

Deno.test("flush() and confirm() wake the writer only while accesses are pending", async () => {
  const s = new Settlement();
  let kicks = 0;
  const kick = () => void kicks++;
  s.add(2);
  assert.equal(await state(s.flush(2, kick)), "resolved");
  assert.equal(await state(s.confirm(2, kick)), "resolved");
  assert.equal(kicks, 0, "nothing pending: the writer is left alone");
  const flush = s.flush(3, kick);
  const confirm = s.confirm(3, kick);
  assert.equal(kicks, 2);
  s.fail(new Error("write failed"));
  assert.equal(await state(confirm), "rejected");
  assert.equal(await state(flush), "pending");
  s.add(1);
  assert.equal(await state(flush), "resolved");
});
