/**
 * `/openapi.json` against the app itself: every route the app registers has
 * a definition in the document and every operation of the document is
 * served (the route list is read from the app, so a future route without a
 * definition fails here); the roles the document names are the ones the
 * routes demand; the documented request examples and limits are the ones
 * the handlers take; the event stream (which schemathesis cannot consume)
 * answers what the document says.
 */

import assert from "node:assert/strict";
import { Hono } from "hono";
import { InMemoryRotationEvents } from "../../mod.ts";
import { RecordingAuditSink } from "../../testing.ts";
import { TOKEN_ROLES, type TokenRole } from "../../server.ts";
import { EventRelay, registerEventRoutes } from "../../server/events.ts";
import { appOver, auth, makeToken, seeded } from "./_helpers.ts";
import { consoleWorld } from "./_console_fixture.ts";

// deno-lint-ignore no-explicit-any
type Doc = any;
type Operation = {
  parameters?: { name: string; in: string; required?: boolean }[];
  security?: Record<string, string[]>[];
  requestBody?: { description?: string; content: Record<string, { schema: { $ref: string } }> };
  responses: Record<string, { content?: Record<string, unknown>; headers?: Doc }>;
};

const METHODS = ["get", "post", "put", "patch", "delete", "head", "options"];

/** `GET /v1/secrets/{}`: path parameters (`{name}`, `:name`, a trailing `*`) made alike. */
const shape = (method: string, path: string) =>
  `${method.toUpperCase()} ${
    path.replace(/\{[^}]+\}/g, "{}").replace(/:[A-Za-z0-9_]+/g, "{}").replace(/\/\*$/, "/{}")
  }`;

async function documentOf(app: { request(path: string): Response | Promise<Response> }) {
  const res = await app.request("/openapi.json");
  assert.equal(res.status, 200);
  return await res.json() as Doc;
}

function operationsOf(doc: Doc): { method: string; path: string; op: Operation }[] {
  const out = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Doc>)) {
    for (const method of METHODS) {
      if (item[method]) out.push({ method, path, op: item[method] as Operation });
    }
  }
  return out;
}

/** The schema a `$ref` names. */
const schemaOf = (doc: Doc, ref: string) =>
  doc.components.schemas[ref.replace("#/components/schemas/", "")];

Deno.test("every route the app registers is in /openapi.json, and every operation there is served", async () => {
  // Built with the console, so its routes are registered too; the fleet routes are
  // registered whether or not they are configured (they answer 404 when not).
  const w = await consoleWorld();
  try {
    const routes = (w.server.app as unknown as { routes: { method: string; path: string }[] })
      .routes;
    // The console is HTML for people (sign-in form, session cookie, CSRF-checked forms;
    // docs/CONSOLE.md), off unless configured: not part of the API the document describes.
    const isConsole = (path: string) => path === "/console" || path.startsWith("/console/");
    assert.ok(routes.some((r) => isConsole(r.path)), "the console's routes are registered");
    const served = new Set(
      routes.filter((r) => !isConsole(r.path)).map((r) => shape(r.method, r.path)),
    );
    const doc = await documentOf(w.server.app);
    const documented = new Set(operationsOf(doc).map(({ method, path }) => shape(method, path)));
    const undocumented = [...served].filter((r) => !documented.has(r));
    const unserved = [...documented].filter((r) => !served.has(r));
    assert.deepEqual(undocumented, [], "routes without a definition in /openapi.json");
    assert.deepEqual(unserved, [], "operations in /openapi.json no route serves");
    // The fleet routes of issue 16 are among them.
    for (const r of ["GET /v1/events", "POST /v1/events", "POST /v1/audit", "GET /openapi.json"]) {
      assert.ok(documented.has(r), r);
    }
  } finally {
    await w.close();
  }
});

/** Sends `method path` as the document describes it: the token where its scheme says, the documented example body. */
function call(
  app: { request(input: string, init?: RequestInit): Response | Promise<Response> },
  doc: Doc,
  { method, path, op }: { method: string; path: string; op: Operation },
  token: string | undefined,
): Promise<Response> {
  const headers: Record<string, string> = {};
  const [schemeName] = Object.keys(op.security?.[0] ?? {});
  const scheme = schemeName === undefined ? undefined : doc.components.securitySchemes[schemeName];
  if (token !== undefined && scheme) {
    if (scheme.type === "http") headers.authorization = `Bearer ${token}`;
    else headers[scheme.name.toLowerCase()] = token;
  }
  const json = op.requestBody?.content["application/json"];
  let body: string | undefined;
  if (json) {
    const example = schemaOf(doc, json.schema.$ref).example;
    assert.ok(example, `${method} ${path}: the request body has an example`);
    body = JSON.stringify(example);
    headers["content-type"] = "application/json";
    headers["content-length"] = String(new TextEncoder().encode(body).length);
  }
  // Path parameters and required query parameters: the one seeded name.
  const query = (op.parameters ?? []).filter((p) => p.in === "query" && p.required)
    .map((p) => `${p.name}=database/app`).join("&");
  const url = path.replace(/\{[^}]+\}/g, "database/app") + (query ? `?${query}` : "");
  return Promise.resolve(app.request(url, { method: method.toUpperCase(), headers, body }));
}

/** The status, the body dropped (an event stream never ends). */
async function statusOf(res: Promise<Response>): Promise<number> {
  const r = await res;
  await r.body?.cancel();
  return r.status;
}

Deno.test("the roles the document names are the ones the routes demand; documented examples are accepted", async () => {
  const events = new InMemoryRotationEvents();
  const ingested = new RecordingAuditSink();
  const options = {
    events,
    auditIngest: { sink: ingested, lastStored: () => Promise.resolve(0) },
    eventHeartbeatMs: 60_000,
  };
  const doc = await documentOf(appOver(seeded(), [], options).app);
  let checked = 0;
  for (const operation of operationsOf(doc)) {
    const { method, path, op } = operation;
    const what = `${method.toUpperCase()} ${path}`;
    const requirement = Object.entries(op.security?.[0] ?? {});
    if (requirement.length === 0) continue;
    const [[schemeName, roles]] = requirement;
    const scheme = doc.components.securitySchemes[schemeName];
    assert.ok(scheme, `${what}: the scheme ${schemeName} is defined`);
    const role = roles[0] as TokenRole | undefined;
    const without = await makeToken({
      prefixes: ["*"],
      roles: TOKEN_ROLES.filter((r) => r !== role),
      ratePerSecond: 10_000,
    });
    const holder = await makeToken({ prefixes: ["*"], roles: role ? [role] : [] });
    const s = appOver(seeded({ "database/app": "pw-openapi-0001" }), [
      without.entry,
      holder.entry,
    ], options);
    try {
      // No token: 401 (the agent's header: 403, as the agent answers), and documented.
      const refusal = scheme.type === "http" ? 401 : 403;
      assert.equal(await statusOf(call(s.app, doc, operation, undefined)), refusal, what);
      assert.ok(op.responses[String(refusal)], `${what} documents ${refusal}`);
      if (role === undefined) continue;
      assert.ok(TOKEN_ROLES.includes(role), `${what}: ${role} is a token role`);
      assert.equal(roles.length, 1, `${what}: one role`);
      // Every role but the documented one: 403. The documented one alone: 200.
      assert.equal(await statusOf(call(s.app, doc, operation, without.token)), 403, what);
      assert.ok(op.responses["403"], `${what} documents 403`);
      assert.equal(await statusOf(call(s.app, doc, operation, holder.token)), 200, what);
      assert.ok(op.responses["200"], `${what} documents 200`);
      checked += 1;
    } finally {
      await s.close();
    }
  }
  // read: the secret, the list, the agent route; events: the stream and publish; audit-write.
  assert.equal(checked, 6);
  // The documented audit example was taken, under the token's service.
  assert.deepEqual(ingested.events.map((e) => [e.secretName, e.service]), [
    ["database/password", "signal"],
  ]);
});

Deno.test("GET /v1/events answers the documented stream: status, content type, headers, events", async () => {
  const events = new InMemoryRotationEvents();
  const t = await makeToken({ roles: ["events"], prefixes: ["database/"] });
  const s = appOver(seeded(), [t.entry], { events, eventHeartbeatMs: 60_000 });
  try {
    const op = (await documentOf(s.app)).paths["/v1/events"].get as Operation;
    const res = await s.app.request("/v1/events", { headers: auth(t.token) });
    assert.equal(res.status, 200);
    const documented = op.responses["200"];
    const type = res.headers.get("content-type")!.split(";")[0];
    assert.deepEqual(Object.keys(documented.content!), [type]);
    for (const [name, header] of Object.entries(documented.headers as Record<string, Doc>)) {
      assert.ok(header.schema.enum.includes(res.headers.get(name)), name);
    }
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await reader.read()).value, "retry: 1000\nevent: ready\ndata: {}\n\n");
    // Names only, within the token's prefixes, as the documented example shows.
    await events.publish(["payments/key", "database/password"]);
    assert.equal(
      (await reader.read()).value,
      'id: 1\nevent: rotated\ndata: ["database/password"]\n\n',
    );
    await reader.cancel();
  } finally {
    await s.close();
  }
});

Deno.test("HEAD /v1/events answers the stream's headers without leaving a stream open in the relay", async () => {
  // Regression: Hono answers HEAD through the GET handler and drops the body unread, so a
  // stream opened for a HEAD was never cancelled and its client stayed in the relay for good.
  const relay = new EventRelay(new InMemoryRotationEvents(), { heartbeatMs: 60_000 });
  const t = await makeToken({ roles: ["events"], prefixes: ["*"] });
  const app = new Hono();
  registerEventRoutes({
    add: (definition, handler) => app.on(definition.method.toUpperCase(), definition.path, handler),
    authenticate: () => t.entry,
  }, relay);
  try {
    const head = await app.request("/v1/events", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(head.body, null);
    assert.equal(relay.clients, 0);
    // A GET does hold a client until it goes.
    const get = await app.request("/v1/events");
    assert.equal(relay.clients, 1);
    await get.body!.cancel();
    assert.equal(relay.clients, 0);
  } finally {
    await relay.close();
  }
});

Deno.test("an endpoint without events or audit ingest answers the documented 404 on the fleet routes, before any token", async () => {
  const s = appOver(seeded(), []);
  try {
    const doc = await documentOf(s.app);
    const fleet = operationsOf(doc).filter(({ op }) =>
      op.responses["404"] !== undefined && /answered before the token is checked/.test(
        (op.responses["404"] as { description: string }).description,
      )
    );
    assert.deepEqual(fleet.map(({ method, path }) => shape(method, path)), [
      "GET /v1/events",
      "POST /v1/events",
      "POST /v1/audit",
    ]);
    for (const operation of fleet) {
      const res = await call(s.app, doc, operation, undefined);
      assert.equal(res.status, 404);
      const body = await res.json();
      assert.deepEqual(Object.keys(body.error), ["code", "message"]);
    }
  } finally {
    await s.close();
  }
});

Deno.test("the documented body limits are the enforced ones: most items, bytes", async () => {
  const t = await makeToken({ roles: [...TOKEN_ROLES], prefixes: ["*"], ratePerSecond: 10_000 });
  const s = appOver(seeded(), [t.entry], {
    events: new InMemoryRotationEvents(),
    auditIngest: { sink: new RecordingAuditSink(), lastStored: () => Promise.resolve(0) },
  });
  try {
    const doc = await documentOf(s.app);
    const posts = operationsOf(doc).filter(({ op }) => op.requestBody !== undefined);
    assert.equal(posts.length, 2);
    for (const { path, op } of posts) {
      const schema = schemaOf(doc, op.requestBody!.content["application/json"].schema.$ref);
      const [list] = Object.entries(schema.properties as Record<string, Doc>)
        .filter(([, p]) => p.type === "array").map(([k]) => k);
      const max: number = schema.properties[list].maxItems;
      const bytes = Number(/at most (\d+) bytes/.exec(op.requestBody!.description!)![1]);
      const example = schema.example;
      const item = example[list][0];
      const vary = (i: number) =>
        typeof item === "string" ? `${item}-${i}` : { ...item, seq: i + 1 };
      const post = (body: string) =>
        s.app.request(path, {
          method: "POST",
          headers: {
            ...auth(t.token),
            "content-type": "application/json",
            "content-length": String(new TextEncoder().encode(body).length),
          },
          body,
        });
      const batch = (n: number) =>
        JSON.stringify({ ...example, [list]: Array.from({ length: n }, (_, i) => vary(i)) });
      assert.equal((await post(batch(max))).status, 200, `${path}: ${max} ${list}`);
      const over = await post(batch(max + 1));
      assert.equal(over.status, 400, `${path}: ${max + 1} ${list}`);
      assert.match((await over.json()).error.message, new RegExp(`1 to ${max}`));
      const padded = JSON.stringify({ ...example, pad: "x".repeat(bytes) });
      assert.equal((await post(padded)).status, 413, `${path}: over ${bytes} bytes`);
      const fits = JSON.stringify(example);
      const filler = bytes - new TextEncoder().encode(fits).length - ',"pad":""'.length;
      const exact = fits.slice(0, -1) + `,"pad":"${"x".repeat(filler)}"}`;
      assert.equal(new TextEncoder().encode(exact).length, bytes);
      assert.equal((await post(exact)).status, 200, `${path}: exactly ${bytes} bytes`);
    }
  } finally {
    await s.close();
  }
});

Deno.test("every operation documents the limits' refusals it answers: 414, 431, 413", async () => {
  const s = appOver(seeded(), [], {
    events: new InMemoryRotationEvents(),
    auditIngest: { sink: new RecordingAuditSink(), lastStored: () => Promise.resolve(0) },
  });
  try {
    const doc = await documentOf(s.app);
    for (const { method, path, op } of operationsOf(doc)) {
      const what = `${method.toUpperCase()} ${path}`;
      const url = path.replace(/\{[^}]+\}/g, "database/app");
      const refusals: [number, RequestInit & { url?: string }][] = [
        [414, { url: `${url}?pad=${"p".repeat(5000)}` }],
        [431, { headers: { "x-pad": "p".repeat(20_000) } }],
        // A length over any route's body limit (the request carries none: a GET cannot).
        [413, { headers: { "content-length": String(10_000_000) } }],
      ];
      for (const [status, init] of refusals) {
        const res = await s.app.request(init.url ?? url, { method: method.toUpperCase(), ...init });
        await res.body?.cancel();
        assert.equal(res.status, status, `${what}: ${status}`);
        assert.ok(op.responses[String(status)], `${what} documents ${status}`);
      }
    }
  } finally {
    await s.close();
  }
});
