import assert from "node:assert/strict";
import { withCache } from "../../mod.ts";
import { appOver, auth, makeToken, seeded } from "./_helpers.ts";

const CANARY = `canary-${crypto.randomUUID()}`;

async function setup() {
  const reader = await makeToken({ prefixes: ["database/", "alpaca/api_key"] });
  const previous = await makeToken({ prefixes: ["database/"], stages: ["current", "previous"] });
  const metricsOnly = await makeToken({ roles: ["metrics"], prefixes: ["database/"] });
  const expired = await makeToken({ expires: "2020-01-01T00:00:00Z" });
  const manager = seeded({
    "database/app": CANARY,
    "database/login": { username: "app", password: `${CANARY}-pw` },
    "alpaca/api_key": "key-0123456789",
    "admin/root": "root-0123456789",
  });
  await manager.setSecret("database/app", `${CANARY}-2`);
  const server = appOver(manager, [reader.entry, previous.entry, metricsOnly.entry, expired.entry]);
  return { ...server, reader, previous, metricsOnly, expired };
}

Deno.test("GET /v1/secrets/{name} answers name, value, version and stage, never cached by clients", async () => {
  const s = await setup();
  const res = await s.app.request("/v1/secrets/database/app", { headers: auth(s.reader.token) });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.deepEqual(await res.json(), {
    name: "database/app",
    value: `${CANARY}-2`,
    version: "2",
    stage: "current",
  });
});

Deno.test("the 401/403/404 matrix: no token, unknown or expired token, outside the policy, unknown inside it", async () => {
  const s = await setup();
  const get = (path: string, token?: string) =>
    s.app.request(path, { headers: token ? auth(token) : {} });
  const cases: [string, string | undefined, number, string][] = [
    ["/v1/secrets/database/app", undefined, 401, "unauthorized"],
    ["/v1/secrets/database/app", "kw_not-a-token", 401, "unauthorized"],
    ["/v1/secrets/database/app", s.expired.token, 401, "unauthorized"],
    ["/v1/secrets/database/app", s.metricsOnly.token, 403, "forbidden"],
    ["/v1/secrets/admin/root", s.reader.token, 403, "forbidden"],
    ["/v1/secrets/admin/nothing-here", s.reader.token, 403, "forbidden"],
    ["/v1/secrets/database/app?stage=previous", s.reader.token, 403, "forbidden"],
    ["/v1/secrets/database/nothing-here", s.reader.token, 404, "not_found"],
    ["/v1/secrets/database/app?stage=pending", s.previous.token, 403, "forbidden"],
  ];
  for (const [path, token, status, code] of cases) {
    const res = await get(path, token);
    assert.equal(res.status, status, path);
    const body = await res.json();
    assert.equal(body.error.code, code, path);
    assert.equal(typeof body.error.message, "string");
    assert.equal(Object.keys(body).join(), "error");
  }
  // 401 names the scheme; the 403 for an existing and a missing name is the same answer.
  const a = await get("/v1/secrets/admin/root", s.reader.token);
  const b = await get("/v1/secrets/admin/nothing-here", s.reader.token);
  assert.deepEqual(await a.json(), await b.json());
  assert.equal(
    (await get("/v1/secrets/database/app")).headers.get("www-authenticate"),
    'Bearer realm="keyward"',
  );
});

Deno.test("a name outside the policy never reaches the backend", async () => {
  const s = await setup();
  const before = s.backend.totalCalls;
  await s.app.request("/v1/secrets/admin/root", { headers: auth(s.reader.token) });
  await s.app.request("/v1/secrets/admin/missing", { headers: auth(s.reader.token) });
  assert.equal(s.backend.totalCalls, before);
});

Deno.test("?stage=previous and ?field= are served where the policy allows them", async () => {
  const s = await setup();
  const prev = await s.app.request("/v1/secrets/database/app?stage=previous", {
    headers: auth(s.previous.token),
  });
  assert.equal(prev.status, 200);
  assert.deepEqual(await prev.json(), {
    name: "database/app",
    value: CANARY,
    version: "1",
    stage: "previous",
  });
  const field = await s.app.request("/v1/secrets/database/login?field=username", {
    headers: auth(s.reader.token),
  });
  assert.equal(field.status, 200);
  assert.equal((await field.json()).value, "app");
  const noField = await s.app.request("/v1/secrets/database/login?field=nope", {
    headers: auth(s.reader.token),
  });
  assert.equal(noField.status, 404);
  const badStage = await s.app.request("/v1/secrets/database/app?stage=latest", {
    headers: auth(s.reader.token),
  });
  assert.equal(badStage.status, 400);
  const extra = await s.app.request("/v1/secrets/database/app?version=1", {
    headers: auth(s.reader.token),
  });
  assert.equal(extra.status, 400);
});

Deno.test("an exact-name prefix allows that name only, not its siblings", async () => {
  const s = await setup();
  const ok = await s.app.request("/v1/secrets/alpaca/api_key", { headers: auth(s.reader.token) });
  assert.equal(ok.status, 200);
  const sibling = await s.app.request("/v1/secrets/alpaca/api_key_id", {
    headers: auth(s.reader.token),
  });
  assert.equal(sibling.status, 403);
});

Deno.test("invalid names and encoding tricks answer 400 before any backend call", async () => {
  const s = await setup();
  const tricks = [
    "/v1/secrets/database%2Fapp", // encoded slash
    "/v1/secrets/database%2fapp",
    "/v1/secrets/database/%2E%2E%2Fadmin/root", // encoded dots and slash
    "/v1/secrets/database/..%2Fadmin", // mixed
    "/v1/secrets/database/app%00", // NUL
    "/v1/secrets/database/a%5Cb", // backslash
    "/v1/secrets/database%252Fapp", // double encoding: decoded once, '%2F' is not a name
    "/v1/secrets/database/%252E%252E/admin",
    "/v1/secrets/database//app", // empty segment
    "/v1/secrets/database/app/", // trailing slash
    "/v1/secrets/database/a%20b", // space
    "/v1/secrets/database/app.", // segment ending in '.'
    "/v1/secrets/database/%E0%A4%A", // malformed percent-encoding
    `/v1/secrets/database/${"a".repeat(510)}`, // 513 characters
    "/v1/secrets/.keyward/pending/database/app", // reserved
  ];
  const before = s.backend.totalCalls;
  for (const path of tricks) {
    const res = await s.app.request(path, { headers: auth(s.reader.token) });
    const body = await res.json();
    assert.equal(res.status, 400, path);
    assert.equal(body.error.code, "invalid_name", path);
  }
  assert.equal(s.backend.totalCalls, before, "no backend call for an invalid name");
  // The invalid name is never echoed, and the audit row holds a placeholder.
  const rows = s.audit.events.filter((e) => e.errorCode === "invalid_name");
  assert.equal(rows.length, tricks.length);
  assert.ok(rows.every((e) => e.secretName === "[invalid]"));
});

Deno.test("through app.request() (the Request constructor resolves dot segments first) the policy applies to the result", async () => {
  const s = await setup();
  const before = s.backend.totalCalls;
  for (
    const path of [
      "/v1/secrets/database/../admin/root",
      "/v1/secrets/database/%2E%2E/admin/root",
      "/v1/secrets/database/%2e./admin/root",
    ]
  ) {
    const res = await s.app.request(path, { headers: auth(s.reader.token) });
    assert.equal(res.status, 403, path); // read as admin/root, outside the policy
    assert.ok(!(await res.text()).includes("root-0123456789"));
  }
  assert.equal(s.backend.totalCalls, before);
  // Percent-decoding happens once: an unnecessarily encoded letter is that letter.
  const res = await s.app.request("/v1/secrets/database/%61pp", { headers: auth(s.reader.token) });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).name, "database/app");
});

Deno.test("GET /v1/secrets?prefix= lists names within the policy only", async () => {
  const s = await setup();
  const res = await s.app.request("/v1/secrets?prefix=", { headers: auth(s.reader.token) });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.deepEqual(await res.json(), {
    names: ["alpaca/api_key", "database/app", "database/login"],
  });
  const db = await s.app.request("/v1/secrets?prefix=database/", {
    headers: auth(s.reader.token),
  });
  assert.deepEqual(await db.json(), { names: ["database/app", "database/login"] });
  const admin = await s.app.request("/v1/secrets?prefix=admin/", { headers: auth(s.reader.token) });
  assert.deepEqual(await admin.json(), { names: [] });
  for (const prefix of ["/database", "a%00", "a//b", "x%20y"]) {
    const bad = await s.app.request(`/v1/secrets?prefix=${prefix}`, {
      headers: auth(s.reader.token),
    });
    assert.equal(bad.status, 400, prefix);
  }
  assert.equal((await s.app.request("/v1/secrets")).status, 401);
});

Deno.test("over the token's rate limit: 429 with Retry-After, and other tokens are unaffected", async () => {
  let now = 1_000_000;
  const slow = await makeToken({ ratePerSecond: 2 });
  const other = await makeToken();
  const s = appOver(seeded({ "database/app": CANARY }), [slow.entry, other.entry], {
    now: () => now,
  });
  const get = (t: string) => s.app.request("/v1/secrets/database/app", { headers: auth(t) });
  assert.equal((await get(slow.token)).status, 200);
  assert.equal((await get(slow.token)).status, 200);
  const limited = await get(slow.token);
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "1");
  assert.equal((await limited.json()).error.code, "rate_limited");
  assert.equal((await get(other.token)).status, 200);
  now += 1_000;
  assert.equal((await get(slow.token)).status, 200);
  assert.equal(s.audit.events.filter((e) => e.outcome === "denied").length, 1);
});

Deno.test("limits: long request line 414, large headers 431, a body 413, other methods 405", async () => {
  const s = await setup();
  const h = auth(s.reader.token);
  const long = await s.app.request(`/v1/secrets/database/app?field=${"x".repeat(5000)}`, {
    headers: h,
  });
  assert.equal(long.status, 414);
  const big = await s.app.request("/v1/secrets/database/app", {
    headers: { ...h, "x-padding": "p".repeat(20_000) },
  });
  assert.equal(big.status, 431);
  const body = await s.app.request("/v1/secrets/database/app", {
    headers: { ...h, "content-length": "5000" },
  });
  assert.equal(body.status, 413);
  for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
    const res = await s.app.request("/v1/secrets/database/app", { method, headers: h });
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get("allow"), "GET");
    assert.equal((await res.json()).error.code, "method_not_allowed");
  }
});

Deno.test("a wrong method on a path the endpoint serves is 405 naming the methods that path takes", async () => {
  const s = await setup();
  const h = auth(s.reader.token);
  const cases: [string, string, number, string | null][] = [
    ["PUT", "/v1/audit", 405, "POST"],
    ["DELETE", "/v1/audit", 405, "POST"],
    ["GET", "/v1/audit", 405, "POST"],
    ["PATCH", "/v1/events", 405, "GET, POST"],
    ["PUT", "/v1/secrets/database/app", 405, "GET"],
    ["POST", "/healthz", 405, "GET"],
    ["POST", "/no/such/route", 405, "GET"],
    ["GET", "/no/such/route", 404, null],
  ];
  for (const [method, path, status, allow] of cases) {
    const res = await s.app.request(path, { method, headers: h });
    assert.equal(res.status, status, `${method} ${path}`);
    assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
    await res.body?.cancel();
  }
});

Deno.test("limits: the body headers are found whatever their case; a small one passes, a chunked or doubled one is refused", async () => {
  const s = await setup();
  const h = auth(s.reader.token);
  const get = (headers: Record<string, string>) =>
    s.app.request("/v1/secrets/database/app", { headers: { ...h, ...headers } });
  assert.equal((await get({ "Content-Length": "5000" })).status, 413);
  assert.equal((await get({ "CONTENT-LENGTH": "0" })).status, 200);
  assert.equal((await get({ "Transfer-Encoding": "chunked" })).status, 413);
  // Two lengths are joined ("5, 7"), which is not a number within the limit.
  assert.equal((await get({ "Content-Length": "5", "content-length": "7" })).status, 413);
  // The next request is checked afresh: nothing carries over from the one before.
  assert.equal((await get({})).status, 200);
});

Deno.test("limits on Node: the header bytes are counted from @hono/node-server's raw header list", async () => {
  const s = await setup();
  const h = auth(s.reader.token);
  // What @hono/node-server hands the app as its env: the IncomingMessage,
  // whose raw list is what is counted (here it holds a header the Request
  // does not, so the test tells which one was counted).
  const asNode = (padding: number) => {
    const rawHeaders = [...Object.entries(h).flat(), "x-padding", "p".repeat(padding)];
    return s.app.fetch(
      new Request("http://localhost/v1/secrets/database/app", { headers: h }),
      // @ts-expect-error: the env argument the runtime adapters pass along
      { incoming: { rawHeaders } },
    );
  };
  const big = await asNode(20_000);
  assert.equal(big.status, 431);
  assert.equal((await big.json()).error.code, "headers_too_large");
  const fine = await asNode(10_000);
  assert.equal(fine.status, 200);
  assert.equal((await fine.json()).value, `${CANARY}-2`);
});

Deno.test("X-Forwarded-For is refused on secret routes", async () => {
  const s = await setup();
  const res = await s.app.request("/v1/secrets/database/app", {
    headers: { ...auth(s.reader.token), "x-forwarded-for": "10.0.0.1" },
  });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error.code, "forwarded");
  // Any spelling of the names; an empty value counts as present; the next request starts clean.
  const upper = await s.app.request("/v1/secrets/database/app", {
    headers: { AUTHORIZATION: `Bearer ${s.reader.token}`, "X-Forwarded-For": "" },
  });
  assert.equal((await upper.json()).error.code, "forwarded");
  const ok = await s.app.request("/v1/secrets/database/app", {
    headers: { AUTHORIZATION: `Bearer ${s.reader.token}` },
  });
  assert.equal(ok.status, 200);
  const none = await s.app.request("/v1/secrets/database/app");
  assert.equal(none.status, 401, "the previous request's token does not carry over");
});

Deno.test("every secret request is audited under the token's service, never with a value", async () => {
  const s = await setup();
  await s.app.request("/v1/secrets/database/app", { headers: auth(s.reader.token) });
  await s.app.request("/v1/secrets/database/nope", { headers: auth(s.reader.token) });
  await s.app.request("/v1/secrets/admin/root", { headers: auth(s.reader.token) });
  await s.app.request("/v1/secrets/database/app");
  const rows = s.audit.events.map((e) =>
    [e.service, e.secretName, e.action, e.outcome, e.errorCode].join(" ")
  );
  assert.deepEqual(rows, [
    "signal database/app get ok ",
    "signal database/nope get not_found not_found",
    "signal admin/root get denied forbidden",
    "anonymous [invalid] get denied unauthorized",
  ]);
  assert.equal(s.audit.events[0].version, "2");
  assert.ok(!JSON.stringify(s.audit.events).includes(CANARY));
});

Deno.test("healthz, readyz, ping and openapi.json need no token", async () => {
  const s = await setup();
  const health = await s.app.request("/healthz");
  assert.deepEqual(await health.json(), { status: "ok", versions: {} });
  assert.deepEqual(await (await s.app.request("/readyz")).json(), { status: "ready" });
  const ping = await s.app.request("/ping");
  assert.equal(await ping.text(), "healthy");
  const doc = await (await s.app.request("/openapi.json")).json();
  assert.equal(doc.openapi, "3.1.0");
  for (
    const path of [
      "/v1/secrets/{name}",
      "/v1/secrets",
      "/secretsmanager/get",
      "/healthz",
      "/readyz",
      "/metrics",
      "/ping",
    ]
  ) {
    assert.ok(doc.paths[path]?.get, path);
  }
  assert.equal((await s.app.request("/nowhere")).status, 404);
});

Deno.test("readyz: not ready with the reason while the backend is down and nothing is cached; ready once the cache is warm", async () => {
  const { FaultyManager } = await import("../../testing.ts");
  const inner = new FaultyManager(seeded({ "database/app": CANARY }));
  const reader = await makeToken();
  const cached = withCache(inner, { ttlMs: 60_000 });
  const s = appOver(cached, [reader.entry]);
  inner.fault = "down";
  const down = await s.app.request("/readyz");
  assert.equal(down.status, 503);
  const body = await down.json();
  assert.equal(body.status, "not_ready");
  assert.match(body.reason, /backend does not answer \(backend_unavailable\)/);
  inner.fault = "none";
  assert.equal(
    (await s.app.request("/v1/secrets/database/app", { headers: auth(reader.token) })).status,
    200,
  );
  inner.fault = "down";
  const warm = await s.app.request("/readyz");
  assert.equal(warm.status, 200);
  assert.match((await warm.json()).reason, /served from the cache/);
});

Deno.test("/metrics: Prometheus text; secret names only for a token with the metrics role", async () => {
  const s = await setup();
  await s.app.request("/v1/secrets/database/app", { headers: auth(s.reader.token) });
  await s.app.request("/v1/secrets/database/nope", { headers: auth(s.reader.token) });
  assert.equal((await s.app.request("/metrics")).status, 401);
  const plain = await (await s.app.request("/metrics", { headers: auth(s.reader.token) })).text();
  assert.match(
    plain,
    /keyward_http_requests_total\{route="\/v1\/secrets\/\{name\}",status="200"\} 1/,
  );
  assert.match(
    plain,
    /keyward_http_requests_total\{route="\/v1\/secrets\/\{name\}",status="404"\} 1/,
  );
  assert.match(
    plain,
    /keyward_http_request_duration_seconds_bucket\{route="\/v1\/secrets\/\{name\}",le="\+Inf"\} 2/,
  );
  // Buckets are cumulative: the widest finite bucket holds both fast requests.
  assert.match(
    plain,
    /keyward_http_request_duration_seconds_bucket\{route="\/v1\/secrets\/\{name\}",le="2.5"\} 2/,
  );
  assert.match(plain, /keyward_cache_misses_total 1/);
  assert.ok(!plain.includes("database/app"), "no name without the metrics role");
  const named = await (await s.app.request("/metrics", { headers: auth(s.metricsOnly.token) }))
    .text();
  assert.match(named, /keyward_secret_reads_total\{name="database\/app",source="backend"\} 1/);
  assert.ok(!named.includes(CANARY) && !plain.includes(CANARY));
});

Deno.test("cache hits are counted per service, name, version and minute; backend reads, errors and denials stay one event each", async () => {
  let now = 600_000 + 5_000; // in minute 10
  const signal = await makeToken({ service: "signal" });
  const orders = await makeToken({ service: "orders" });
  const backend = seeded({ "database/app": `${CANARY}-1` });
  let forward: (e: { name: string; source: "cache" | "stale" }) => void = () => {};
  const cache = withCache(backend, {
    ttlMs: 3_600_000,
    now: () => now,
    onServe: (e) => forward(e),
  });
  const s = appOver(cache, [signal.entry, orders.entry], { now: () => now });
  forward = s.onServe;
  const get = async (token: string, name = "database/app") => {
    const res = await s.app.request(`/v1/secrets/${name}`, { headers: auth(token) });
    await res.body?.cancel();
    return res.status;
  };
  assert.equal(await get(signal.token), 200); // a miss: the backend answers
  for (let i = 0; i < 3; i++) assert.equal(await get(signal.token), 200); // hits
  for (let i = 0; i < 2; i++) assert.equal(await get(orders.token), 200); // hits, another service
  assert.equal(await get(signal.token, "database/nope"), 404);
  assert.equal(await get(signal.token, "admin/root"), 403);
  const row = (e: (typeof s.audit.events)[number]) =>
    [e.service, e.secretName, e.outcome, e.source, e.version, e.count, e.accessedAtMs].join(" ");
  assert.deepEqual(s.audit.events.map(row), [
    "signal database/app ok backend 1 1 605000",
    "signal database/nope not_found backend  1 605000",
    "signal admin/root denied backend  1 605000",
  ]);
  // A new version: read once from the backend, then counted under that version.
  await cache.setSecret("database/app", `${CANARY}-2`);
  assert.equal(await get(signal.token), 200);
  assert.equal(await get(signal.token), 200);
  // The next minute's first request writes the last minute's counts, at its start.
  now += 60_000;
  assert.equal(await get(signal.token), 200);
  assert.deepEqual(s.audit.events.slice(3).map(row), [
    "signal database/app ok backend 2 1 605000",
    "signal database/app ok cache 1 3 600000",
    "signal database/app ok cache 2 1 600000",
    "orders database/app ok cache 1 2 600000",
  ]);
  await s.flush();
  assert.deepEqual(s.audit.events.slice(7).map(row), ["signal database/app ok cache 2 1 660000"]);
  assert.ok(!JSON.stringify(s.audit.events).includes(CANARY));
  await cache.close();
});
