/**
 * Rotation events through the endpoint (issue 16): `GET /v1/events` relays
 * names filtered by the token's prefixes, `POST /v1/events` publishes, a
 * token without the `events` role is refused, and a cache subscribed with
 * `EndpointRotationEvents` refreshes what it holds after the endpoint was
 * down (and after the endpoint's own subscription was re-opened).
 */

import assert from "node:assert/strict";
import { ConfigError, InMemoryRotationEvents, MemorySecretManager, withCache } from "../../mod.ts";
import { EndpointRotationEvents } from "../../fleet.ts";
import { makeToken } from "../server/_helpers.ts";
import { fleetTokens, startEndpoint, until } from "./_fleet.ts";

const PERMS: Deno.PermissionOptions = { net: ["127.0.0.1"] };

Deno.test({
  name: "GET /v1/events relays names within the token's prefixes; POST /v1/events publishes",
  permissions: PERMS,
}, async () => {
  const source = new InMemoryRotationEvents();
  const { token, entries } = await fleetTokens();
  const endpoint = await startEndpoint(entries, () => ({ events: source }));
  const seen: string[][] = [];
  const events = new EndpointRotationEvents({ url: endpoint.url, token });
  const stop = await events.subscribe((names) => seen.push(names));
  try {
    await source.publish(["database/password", "payments/key"]);
    await until(() => seen.length === 1, 5_000, "the relayed event");
    assert.deepEqual(seen[0], ["database/password"]);
    // Only names outside the prefixes: nothing goes to this client.
    await source.publish(["payments/key"]);
    await source.publish(["database/other"]);
    await until(() => seen.length === 2, 5_000, "the second event");
    assert.deepEqual(seen[1], ["database/other"]);
    // Publishing through the endpoint reaches the endpoint's subscription.
    const published: string[] = [];
    const stopSource = await source.subscribe((n) => published.push(...n));
    await events.publish(["database/rotated"]);
    assert.deepEqual(published, ["database/rotated"]);
    await assert.rejects(events.publish(["payments/key"]), /HTTP 403/);
    await stopSource();
  } finally {
    await stop();
    await endpoint.stop();
  }
});

Deno.test({
  name:
    "a token without the events role is refused on /v1/events; an endpoint without events answers 404",
  permissions: PERMS,
}, async () => {
  const reader = await makeToken({ roles: ["read"], ratePerSecond: 1000 });
  const withEvents = await startEndpoint([reader.entry], () => ({
    events: new InMemoryRotationEvents(),
  }));
  const without = await startEndpoint([reader.entry], () => ({}));
  try {
    const events = new EndpointRotationEvents({ url: withEvents.url, token: reader.token });
    await assert.rejects(events.subscribe(() => {}), ConfigError);
    const res = await fetch(`${without.url}/v1/events`, {
      headers: { authorization: `Bearer ${reader.token}` },
    });
    await res.body?.cancel();
    assert.equal(res.status, 404);
    const anon = await fetch(`${withEvents.url}/v1/events`);
    await anon.body?.cancel();
    assert.equal(anon.status, 401);
  } finally {
    await withEvents.stop();
    await without.stop();
  }
});

Deno.test({
  name:
    "the endpoint down and back: the cache keeps serving, resubscribes and refreshes what it holds",
  permissions: PERMS,
}, async () => {
  const { token, entries } = await fleetTokens();
  let source = new InMemoryRotationEvents();
  const endpoint = await startEndpoint(
    entries,
    () => ({ events: source = new InMemoryRotationEvents() }),
  );
  const backend = new MemorySecretManager({ initial: { "database/password": "pw-0001" } });
  const events = new EndpointRotationEvents({
    url: endpoint.url,
    token,
    retryMinMs: 50,
    retryMaxMs: 200,
  });
  const cache = withCache(backend, { ttlMs: 3_600_000, rotationEvents: events });
  try {
    await cache.ready;
    assert.equal(await cache.getSecret("database/password"), "pw-0001");
    await until(() => source.subscriberCount === 1, 5_000, "the endpoint's subscription");
    await endpoint.stop();
    // Changed while the endpoint is down: the event is missed.
    await backend.setSecret("database/password", "pw-0002");
    assert.equal(await cache.getSecret("database/password"), "pw-0001", "served from the cache");
    await endpoint.start();
    await until(
      async () => (await cache.getSecret("database/password")) === "pw-0002",
      10_000,
      "the refresh after the reconnect",
    );
    // The endpoint's own subscription re-opened: its clients refresh too.
    await backend.setSecret("database/password", "pw-0003");
    await until(() => source.subscriberCount === 1, 5_000, "the new subscription");
    source.simulateReconnect();
    await until(
      async () => (await cache.getSecret("database/password")) === "pw-0003",
      10_000,
      "the refresh after a resync",
    );
  } finally {
    await cache.close();
    await endpoint.stop();
  }
});

Deno.test({
  name: "the endpoint's subscription failing at first: 503, then the next request subscribes",
  permissions: PERMS,
}, async () => {
  const inner = new InMemoryRotationEvents();
  let failures = 1;
  const flaky = {
    publish: (names: string[]) => inner.publish(names),
    subscribe: (listener: (names: string[]) => void, onReconnect?: () => void) =>
      failures-- > 0
        ? Promise.reject(new Error("connection refused"))
        : inner.subscribe(listener, onReconnect),
  };
  const { token, entries } = await fleetTokens();
  const endpoint = await startEndpoint(entries, () => ({ events: flaky }));
  try {
    const get = () =>
      fetch(`${endpoint.url}/v1/events`, { headers: { authorization: `Bearer ${token}` } });
    const first = await get();
    await first.body?.cancel();
    assert.equal(first.status, 503);
    const second = await get();
    assert.equal(second.status, 200);
    assert.equal(second.headers.get("content-type"), "text/event-stream; charset=utf-8");
    await second.body?.cancel();
    assert.equal(inner.subscriberCount, 1);
  } finally {
    await endpoint.stop();
  }
});
