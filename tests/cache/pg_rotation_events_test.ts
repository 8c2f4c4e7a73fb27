import assert from "node:assert/strict";
import postgres from "postgres";
import { MemorySecretManager, withCache } from "../../mod.ts";
import { PostgresRotationEvents, ROTATION_CHANNEL } from "../../postgres.ts";
import { FaultyManager } from "../../testing.ts";
import { databaseUrl, IN_CI } from "../_postgres.ts";
import { sharedView } from "./_helpers.ts";

const URL = await databaseUrl();
const WAIT_MS = 5_000;

if (!URL && !IN_CI) {
  console.warn(
    "tests/cache/pg_rotation_events_test.ts skipped: set DATABASE_URL " +
      "(postgres://<user>:<password>@127.0.0.1:5432/keyward_test) or run `bash .ci/run`",
  );
}

function pgTest(name: string, fn: (url: string) => Promise<void>): void {
  Deno.test({
    name,
    ignore: !URL && !IN_CI,
    fn: async () => {
      if (!URL) {
        throw new Error(
          "no test database (DATABASE_URL or the test store); CI must run the Postgres tests",
        );
      }
      await fn(URL);
    },
  });
}

/** Polls `check` (a cache hit, no I/O) until it holds; returns the elapsed milliseconds. */
async function waitFor(check: () => Promise<boolean>, what: string): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < WAIT_MS) {
    if (await check()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`${what} did not happen within ${WAIT_MS} ms`);
}

/**
 * A name of this run's own. The instances listen on the fixed `keyward_rotation` channel, which
 * every run against the same database shares: each reacts only to the names it caches, so
 * unique names keep other runs' events out of these tests.
 */
function unique(prefix: string): string {
  return `${prefix}/${crypto.randomUUID().slice(0, 8)}`;
}

/** Two service instances with their own caches and connections over one shared backend. */
async function twoInstances(url: string, appName: string) {
  const shared = new MemorySecretManager();
  const backend2 = new FaultyManager(shared);
  const sql1 = postgres(url, { max: 2, onnotice: () => {} });
  const sql2 = postgres(url, {
    max: 2,
    onnotice: () => {},
    connection: { application_name: appName },
  });
  const one = withCache(sharedView(shared), {
    rotationEvents: new PostgresRotationEvents(sql1),
  });
  const two = withCache(sharedView(backend2), {
    rotationEvents: new PostgresRotationEvents(sql2),
  });
  await Promise.all([one.ready, two.ready]);
  return {
    shared,
    backend2,
    one,
    two,
    sql1,
    sql2,
    async close() {
      await one.close();
      await two.close();
      await sql1.end({ timeout: 1 });
      await sql2.end({ timeout: 1 });
    },
  };
}

pgTest(
  "a promotion on one instance is read by a second instance without a restart",
  async (url) => {
    const env = await twoInstances(
      url,
      `keyward-cache-test-promote-${crypto.randomUUID().slice(0, 8)}`,
    );
    try {
      const name = unique("svc/db-password");
      await env.shared.setSecret(name, "password-v1-0001");
      assert.equal(await env.one.getSecret(name), "password-v1-0001");
      assert.equal(await env.two.getSecret(name), "password-v1-0001");
      const delays: number[] = [];
      for (let i = 2; i <= 21; i++) {
        const value = `password-v${i}-${String(i).padStart(4, "0")}`;
        const pending = await env.one.setSecret(name, value, { stage: "pending" });
        const start = performance.now();
        await env.one.promote(name, pending.version);
        await waitFor(async () => (await env.two.getSecret(name)) === value, "the refetch");
        delays.push(performance.now() - start);
      }
      // The second instance did not restart and its TTL (an hour) did not run out.
      assert.equal(env.two.stats().evictions, 0);
      delays.sort((a, b) => a - b);
      console.log(
        `promotion seen by a second instance: median ${delays[10].toFixed(1)} ms, ` +
          `max ${delays[19].toFixed(1)} ms over ${delays.length} promotions`,
      );
    } finally {
      await env.close();
    }
  },
);

pgTest(
  "a dropped listening connection is re-opened and followed by a refresh of everything cached",
  async (url) => {
    const appName = `keyward-cache-test-drop-${crypto.randomUUID().slice(0, 8)}`;
    const env = await twoInstances(url, appName);
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const a = unique("svc/a");
      const b = unique("svc/b");
      await env.shared.setSecret(a, "a-value-v1-0001");
      await env.shared.setSecret(b, "b-value-v1-0001");
      await env.two.getSecret(a);
      await env.two.getSecret(b);
      const callsBefore = env.backend2.calls.get;

      const killed = await admin<{ pid: number }[]>`
      select pg_terminate_backend(pid), pid from pg_stat_activity
      where application_name = ${appName} and query ilike 'listen%'`;
      assert.equal(killed.length, 1, "the listening connection was found");
      // Changes while the connection is down: no event reaches instance two.
      await env.shared.setSecret(a, "a-value-v2-0002");
      await env.shared.setSecret(b, "b-value-v2-0002");

      const ms = await waitFor(
        async () =>
          (await env.two.getSecret(a)) === "a-value-v2-0002" &&
          (await env.two.getSecret(b)) === "b-value-v2-0002",
        "the refresh after the reconnect",
      );
      assert.ok(env.backend2.calls.get >= callsBefore + 2);
      const [{ count }] = await admin<{ count: number }[]>`
      select count(*)::int as count from pg_stat_activity
      where application_name = ${appName} and query ilike 'listen%'`;
      assert.equal(count, 1, "one listening connection again");

      // Events flow again on the new connection.
      const pending = await env.one.setSecret(a, "a-value-v3-0003", { stage: "pending" });
      await env.one.promote(a, pending.version);
      await waitFor(async () => (await env.two.getSecret(a)) === "a-value-v3-0003", "the event");
      console.log(`refresh after a dropped connection: ${ms.toFixed(1)} ms`);
    } finally {
      await admin.end({ timeout: 1 });
      await env.close();
    }
  },
);

pgTest(
  "PostgresRotationEvents splits long name lists under the NOTIFY limit and stops on unsubscribe",
  async (url) => {
    const sql = postgres(url, { max: 2, onnotice: () => {} });
    try {
      const channel = `keyward_rotation_test_${
        crypto.randomUUID().slice(0, 8).replaceAll("-", "")
      }`;
      const events = new PostgresRotationEvents(sql, { channel });
      assert.equal(events.channel, channel);
      const seen: string[] = [];
      let batches = 0;
      const stop = await events.subscribe((names) => {
        batches++;
        seen.push(...names);
      });
      const names = Array.from({ length: 100 }, (_, i) => `svc/${"x".repeat(200)}/${i}`);
      await events.publish(names);
      await waitFor(() => Promise.resolve(seen.length === names.length), "all names");
      assert.deepEqual(seen, names);
      assert.ok(batches >= 3, `${batches} notifications`);
      // A foreign or malformed payload is ignored, invalid names are dropped.
      await sql.notify(channel, "not json");
      await sql.notify(channel, JSON.stringify(["../bad", "svc/ok"]));
      await waitFor(() => Promise.resolve(seen.at(-1) === "svc/ok"), "the valid name");
      assert.equal(seen.length, names.length + 1);
      // Unsubscribing: a second subscription on the same connection keeps the channel listened
      // to, so the stopped one is offered every later notification. postgres.js hands each
      // notification to every listener in turn, and notifications arrive in commit order, so
      // once the witness has the marker, the stopped subscription has had its chance at the
      // name sent before it: no waiting on a clock.
      const witnessed: string[] = [];
      const stopWitness = await events.subscribe((names) => witnessed.push(...names));
      await stop();
      await events.publish(["svc/after-stop"]);
      await events.publish(["svc/marker"]);
      await waitFor(() => Promise.resolve(witnessed.includes("svc/marker")), "the marker");
      assert.deepEqual(witnessed, ["svc/after-stop", "svc/marker"]);
      assert.equal(seen.length, names.length + 1, "nothing reached the stopped subscription");
      assert.ok(!seen.includes("svc/after-stop"));
      await stopWitness();
      await assert.rejects(events.publish(["../bad"]), /invalid name/);
    } finally {
      await sql.end({ timeout: 1 });
    }
  },
);

Deno.test("PostgresRotationEvents refuses a bad channel or client", () => {
  const fake = { listen() {}, notify() {} } as unknown as postgres.Sql;
  assert.equal(new PostgresRotationEvents(fake).channel, ROTATION_CHANNEL);
  assert.throws(() => new PostgresRotationEvents(fake, { channel: "Bad-Name" }), /channel/);
  assert.throws(() => new PostgresRotationEvents({} as postgres.Sql), /postgres/);
});
