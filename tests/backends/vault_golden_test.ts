/**
 * Keeps the Vault test server honest: its answers to the surprising cases of
 * REFERENCE.md A compared byte for byte with the bodies Vault sends.
 *
 * Vault writes ordinary and error bodies with Go's `json.NewEncoder(w).Encode`,
 * which appends a newline (V-RESPUTIL `RespondError`, V-HANDLER `respondOk`),
 * so `{"errors":[]}` of REFERENCE A.1 is `{"errors":[]}\n` on the wire. "Raw"
 * bodies (`RespondWithStatusCode`, V-RESP) are `json.Marshal`ed: no newline.
 * Only the random `request_id` is replaced before comparing.
 */
import assert from "node:assert/strict";
import { FakeVaultServer } from "../fakes/vault_server.ts";

const T0 = Date.UTC(2026, 10, 29, 9, 0, 0);

async function withServer(
  body: (server: FakeVaultServer, clock: { now: number }) => Promise<void>,
): Promise<void> {
  const clock = { now: T0 };
  const server = await FakeVaultServer.start({ now: () => clock.now });
  try {
    await body(server, clock);
  } finally {
    await server.close();
  }
}

async function call(
  server: FakeVaultServer,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? server.rootToken : opts.token;
  if (token !== null) headers["X-Vault-Token"] = token;
  const res = await fetch(`${server.url}/v1/${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

function withoutRequestId(text: string): string {
  return text.replace(/"request_id":"[0-9a-f-]{36}"/, '"request_id":"<id>"');
}

Deno.test('golden A.4.1: a missing path is 404 {"errors":[]}', async () => {
  await withServer(async (server) => {
    const res = await call(server, "GET", "secret/data/no/such/secret");
    assert.equal(res.status, 404);
    assert.equal(res.text, '{"errors":[]}\n');
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("cache-control"), "no-store", "REFERENCE A.1");
    await call(server, "POST", "secret/data/a/b", { body: { data: { value: "golden-1" } } });
    const version = await call(server, "GET", "secret/data/a/b?version=7");
    assert.equal(version.status, 404);
    assert.equal(version.text, '{"errors":[]}\n');
  });
});

Deno.test("golden A.4.2: a soft-deleted version is 404 with data:null, its metadata and no errors key", async () => {
  await withServer(async (server, clock) => {
    await call(server, "POST", "secret/data/a/b", { body: { data: { value: "golden-1" } } });
    clock.now += 1500;
    await call(server, "POST", "secret/data/a/b", { body: { data: { value: "golden-2" } } });
    clock.now += 2000;
    assert.equal((await call(server, "DELETE", "secret/data/a/b")).status, 204);
    const res = await call(server, "GET", "secret/data/a/b");
    assert.equal(res.status, 404);
    assert.equal(
      withoutRequestId(res.text),
      '{"request_id":"<id>","lease_id":"","renewable":false,"lease_duration":0,' +
        '"data":{"data":null,"metadata":{"created_time":"2026-11-29T09:00:01.5Z",' +
        '"custom_metadata":null,"deletion_time":"2026-11-29T09:00:03.5Z","destroyed":false,' +
        '"version":2}},"wrap_info":null,"warnings":null,"auth":null,"mount_type":""}',
    );
    assert.ok(!("errors" in JSON.parse(res.text)));
    // REFERENCE A.4.4: the older version is intact, but "latest" stays 404.
    assert.equal((await call(server, "GET", "secret/data/a/b?version=1")).status, 200);
  });
});

Deno.test("golden A.4.2: a destroyed version is 404 with destroyed:true and no errors key", async () => {
  await withServer(async (server, clock) => {
    await call(server, "POST", "secret/data/a/b", { body: { data: { value: "golden-1" } } });
    clock.now += 250;
    const destroy = await call(server, "PUT", "secret/destroy/a/b", { body: { versions: [1] } });
    assert.equal(destroy.status, 204);
    const res = await call(server, "GET", "secret/data/a/b?version=1");
    assert.equal(res.status, 404);
    assert.equal(
      withoutRequestId(res.text),
      '{"request_id":"<id>","lease_id":"","renewable":false,"lease_duration":0,' +
        '"data":{"data":null,"metadata":{"created_time":"2026-11-29T09:00:00Z",' +
        '"custom_metadata":null,"deletion_time":"","destroyed":true,"version":1}},' +
        '"wrap_info":null,"warnings":null,"auth":null,"mount_type":""}',
    );
  });
});

Deno.test("golden A.4.3: a future deletion_time is not a deletion", async () => {
  await withServer(async (server, clock) => {
    await call(server, "POST", "secret/metadata/a/b", { body: { delete_version_after: "10s" } });
    await call(server, "POST", "secret/data/a/b", { body: { data: { value: "golden-1" } } });
    const live = await call(server, "GET", "secret/data/a/b");
    assert.equal(live.status, 200);
    const meta = JSON.parse(live.text).data.metadata;
    assert.equal(meta.deletion_time, "2026-11-29T09:00:10Z");
    clock.now += 10_000;
    assert.equal((await call(server, "GET", "secret/data/a/b")).status, 404);
  });
});

Deno.test("golden A.3: a read is 200 with data and metadata, newline-terminated", async () => {
  await withServer(async (server) => {
    const write = await call(server, "POST", "secret/data/a/b", {
      body: { data: { value: "golden-1", a: "<&>" } },
    });
    assert.equal(write.status, 200);
    assert.equal(
      withoutRequestId(write.text),
      '{"request_id":"<id>","lease_id":"","renewable":false,"lease_duration":0,' +
        '"data":{"created_time":"2026-11-29T09:00:00Z","custom_metadata":null,' +
        '"deletion_time":"","destroyed":false,"version":1},"wrap_info":null,"warnings":null,' +
        '"auth":null,"mount_type":"kv"}\n',
      "the write response holds flat version metadata",
    );
    const read = await call(server, "GET", "secret/data/a/b");
    assert.equal(
      withoutRequestId(read.text),
      '{"request_id":"<id>","lease_id":"","renewable":false,"lease_duration":0,' +
        '"data":{"data":{"a":"\\u003c\\u0026\\u003e","value":"golden-1"},"metadata":{' +
        '"created_time":"2026-11-29T09:00:00Z","custom_metadata":null,"deletion_time":"",' +
        '"destroyed":false,"version":1}},"wrap_info":null,"warnings":null,"auth":null,' +
        '"mount_type":"kv"}\n',
      "Go sorts map keys and escapes <, > and &",
    );
  });
});

Deno.test("golden A.4.5: a CAS mismatch is 400 with Vault's message", async () => {
  await withServer(async (server) => {
    await call(server, "POST", "secret/data/a/b", { body: { data: { value: "golden-1" } } });
    const res = await call(server, "POST", "secret/data/a/b", {
      body: { options: { cas: 0 }, data: { value: "golden-2" } },
    });
    assert.equal(res.status, 400);
    assert.equal(
      res.text,
      '{"errors":["check-and-set parameter did not match the current version"]}\n',
    );
    const ok = await call(server, "POST", "secret/data/a/b", {
      body: { options: { cas: 1 }, data: { value: "golden-2" } },
    });
    assert.equal(ok.status, 200);
    const bad = await call(server, "POST", "secret/data/a/b", {
      body: { options: { cas: "two" }, data: { value: "golden-3" } },
    });
    assert.equal(bad.text, '{"errors":["error parsing check-and-set parameter"]}\n');
  });
});

Deno.test("golden A.4.5: cas_required without cas is 400 with Vault's message", async () => {
  await withServer(async (server) => {
    await call(server, "POST", "secret/metadata/a/b", { body: { cas_required: true } });
    const res = await call(server, "POST", "secret/data/a/b", {
      body: { data: { value: "golden-1" } },
    });
    assert.equal(res.status, 400);
    assert.equal(res.text, '{"errors":["check-and-set parameter required for this call"]}\n');
    const other = await call(server, "POST", "secret/data/c/d", {
      body: { data: { value: "golden-1" } },
    });
    assert.equal(other.status, 200, "cas_required on one key leaves the others alone");
  });
});

Deno.test("golden A.4.6: a write without data is 400 no data provided", async () => {
  await withServer(async (server) => {
    const res = await call(server, "POST", "secret/data/a/b", { body: { value: "x" } });
    assert.equal(res.status, 400);
    assert.equal(res.text, '{"errors":["no data provided"]}\n');
  });
});

Deno.test("golden A.4.7: PATCH of a path without metadata is 404 with an empty body", async () => {
  await withServer(async (server) => {
    const res = await call(server, "PATCH", "secret/data/a/b", {
      body: { data: { value: "x" } },
      headers: { "Content-Type": "application/merge-patch+json" },
    });
    assert.equal(res.status, 404);
    assert.equal(res.text, "");
  });
});

Deno.test("golden A.4.8: a KV v1-style path is 404 with the warning and no errors key", async () => {
  await withServer(async (server) => {
    const res = await call(server, "GET", "secret/foo");
    assert.equal(res.status, 404);
    assert.equal(
      withoutRequestId(res.text),
      '{"request_id":"<id>","lease_id":"","renewable":false,"lease_duration":0,"data":null,' +
        '"wrap_info":null,"warnings":["Invalid path for a versioned K/V secrets engine. See the ' +
        "API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv " +
        'get\' for this operation."],"auth":null,"mount_type":""}',
    );
    const put = await call(server, "POST", "secret/foo", { body: { value: "x" } });
    assert.match(put.text, /use 'vault kv put' for this operation/);
  });
});

Deno.test('golden A.1: an empty list is 404 {"errors":[]}, by the LIST verb and by ?list=true', async () => {
  await withServer(async (server) => {
    const verb = await call(server, "LIST", "secret/metadata/nothing");
    assert.equal(verb.status, 404);
    assert.equal(verb.text, '{"errors":[]}\n');
    const query = await call(server, "GET", "secret/metadata/nothing/?list=true");
    assert.equal(query.status, 404);
    assert.equal(query.text, '{"errors":[]}\n');
    const badFlag = await call(server, "GET", "secret/metadata/nothing/?list=maybe");
    assert.equal(badFlag.status, 400, "list must parse as a boolean");
    await call(server, "POST", "secret/data/x/y/z", { body: { data: { value: "golden-1" } } });
    await call(server, "POST", "secret/data/x/w", { body: { data: { value: "golden-1" } } });
    const listed = await call(server, "LIST", "secret/metadata/x");
    assert.equal(listed.status, 200);
    assert.deepEqual(JSON.parse(listed.text).data.keys, ["w", "y/"], "folders end in /");
  });
});

Deno.test("golden A.1: PATCH without the merge-patch content type is 415 with Vault's message", async () => {
  await withServer(async (server) => {
    await call(server, "POST", "secret/data/a/b", { body: { data: { value: "golden-1" } } });
    const res = await call(server, "PATCH", "secret/data/a/b", {
      body: { data: { value: "golden-2" } },
      headers: { "Content-Type": "application/json" },
    });
    assert.equal(res.status, 415);
    assert.equal(
      res.text,
      '{"errors":["PATCH requires Content-Type of application/merge-patch+json, provided ' +
        'application/json"]}\n',
    );
    const meta = await call(server, "PATCH", "secret/metadata/a/b", {
      body: { custom_metadata: { a: "b" } },
      headers: { "Content-Type": "text/plain" },
    });
    assert.equal(meta.status, 415);
  });
});

Deno.test("golden A.4.13: a bad token is 403 with both permission denied and invalid token", async () => {
  await withServer(async (server) => {
    const expected =
      '{"errors":["2 errors occurred:\\n\\t* permission denied\\n\\t* invalid token' +
      '\\n\\n"]}\n';
    const bad = await call(server, "GET", "secret/data/a/b", { token: "hvs.not-a-token" });
    assert.equal(bad.status, 403);
    assert.equal(bad.text, expected);
    const errors: string[] = JSON.parse(bad.text).errors;
    assert.ok(errors.some((e) => e.includes("permission denied")));
    assert.ok(errors.some((e) => e.includes("invalid token")));
    const bearer = await call(server, "GET", "secret/data/a/b", {
      token: null,
      headers: { Authorization: "Bearer hvs.not-a-token" },
    });
    assert.equal(bearer.text, expected, "REFERENCE A.1: a Bearer token is checked the same way");
    const revoked = server.createToken({ ttlSeconds: 60 });
    server.revokeToken(revoked);
    assert.equal((await call(server, "GET", "secret/data/a/b", { token: revoked })).text, expected);
    const denied = await call(server, "GET", "secret/data/a/b", {
      token: server.createToken({
        policy: [{ path: "secret/data/other", capabilities: ["read"] }],
      }),
    });
    assert.equal(denied.status, 403);
    assert.equal(denied.text, '{"errors":["1 error occurred:\\n\\t* permission denied\\n\\n"]}\n');
  });
});

Deno.test("golden A.4.10: empty version lists and no-op deletes", async () => {
  await withServer(async (server) => {
    const del = await call(server, "POST", "secret/delete/a/b", { body: { versions: [] } });
    assert.equal(del.text, '{"errors":["No version number provided"]}\n');
    const destroy = await call(server, "PUT", "secret/destroy/a/b", { body: { versions: [] } });
    assert.equal(destroy.text, '{"errors":["no version number provided"]}\n');
    assert.equal((await call(server, "DELETE", "secret/data/never/written")).status, 204);
    assert.equal(
      (await call(server, "POST", "secret/delete/a/b", { body: { versions: "1,2" } })).status,
      204,
    );
  });
});

Deno.test("golden A.4.12: versions beyond max_versions (default 10) are gone", async () => {
  await withServer(async (server) => {
    for (let i = 1; i <= 11; i++) {
      await call(server, "POST", "secret/data/a/b", { body: { data: { value: `v-${i}` } } });
    }
    assert.equal((await call(server, "GET", "secret/data/a/b?version=1")).text, '{"errors":[]}\n');
    assert.equal((await call(server, "GET", "secret/data/a/b?version=2")).status, 200);
    const text = (await call(server, "GET", "secret/metadata/a/b")).text;
    const meta = JSON.parse(text).data;
    assert.equal(meta.current_version, 11);
    assert.equal(meta.oldest_version, 2);
    assert.equal(meta.max_versions, 0, "REFERENCE A.3: the key's own setting, not the default");
    // REFERENCE A.3: version keys are strings; Go sorts map keys as strings on the wire.
    const order = [...text.matchAll(/"(\d+)":\{"created_time"/g)].map((m) => m[1]);
    assert.deepEqual(order, ["10", "11", "2", "3", "4", "5", "6", "7", "8", "9"]);
  });
});

Deno.test("golden A.4.11: metadata POST replaces custom_metadata, PATCH merges", async () => {
  await withServer(async (server) => {
    const merge = { "Content-Type": "application/merge-patch+json" };
    await call(server, "POST", "secret/metadata/a/b", {
      body: { custom_metadata: { a: "1", b: "2" } },
    });
    await call(server, "POST", "secret/metadata/a/b", { body: { custom_metadata: { c: "3" } } });
    const read = () =>
      call(server, "GET", "secret/metadata/a/b").then((r) => JSON.parse(r.text).data);
    assert.deepEqual((await read()).custom_metadata, { c: "3" });
    assert.equal((await read()).current_version, 0, "no data version is created");
    await call(server, "PATCH", "secret/metadata/a/b", {
      body: { custom_metadata: { d: "4", c: null } },
      headers: merge,
    });
    assert.deepEqual((await read()).custom_metadata, { d: "4" });
    const big = await call(server, "POST", "secret/metadata/a/b", {
      body: { custom_metadata: { k: "x".repeat(513) } },
    });
    assert.equal(big.status, 400);
    assert.match(big.text, /^\{"errors":\["custom_metadata validation failed/);
  });
});

Deno.test("golden A.7/A.6: AppRole login puts the token and TTL under auth; renew-self extends it", async () => {
  const clock = { now: T0 };
  const server = await FakeVaultServer.start({
    now: () => clock.now,
    appRoles: { app: { roleId: "rid", secretId: "sid", ttlSeconds: 1200 } },
  });
  try {
    const login = await call(server, "POST", "auth/approle/login", {
      token: null,
      body: { role_id: "rid", secret_id: "sid" },
    });
    assert.equal(login.status, 200);
    const body = JSON.parse(login.text);
    assert.equal(body.lease_duration, 0);
    assert.equal(body.renewable, false);
    assert.equal(body.data, null);
    assert.equal(body.auth.lease_duration, 1200);
    assert.equal(body.auth.renewable, true);
    assert.match(body.auth.client_token, /^hvs\./);
    const wrong = await call(server, "POST", "auth/approle/login", {
      token: null,
      body: { role_id: "rid", secret_id: "nope" },
    });
    assert.equal(wrong.status, 400);
    const token = body.auth.client_token;
    clock.now += 1_000_000;
    const lookup = JSON.parse(
      (await call(server, "GET", "auth/token/lookup-self", { token })).text,
    );
    assert.equal(lookup.data.ttl, 200);
    const renew = JSON.parse((await call(server, "POST", "auth/token/renew-self", { token })).text);
    assert.equal(renew.auth.lease_duration, 1200);
    assert.equal(renew.auth.client_token, token);
    clock.now += 1_200_000;
    const expired = await call(server, "GET", "auth/token/lookup-self", { token });
    assert.equal(expired.status, 403);
    assert.match(expired.text, /invalid token/);
    const health = await call(server, "GET", "sys/health", { token: null });
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.text).sealed, false);
    server.sealed = true;
    assert.equal((await call(server, "HEAD", "sys/health", { token: null })).status, 503);
  } finally {
    await server.close();
  }
});

Deno.test("golden A.1: X-Vault-Namespace resolves the path relative to the namespace", async () => {
  const server = await FakeVaultServer.start({ namespaces: ["ns1/ns2"] });
  try {
    await call(server, "POST", "secret/data/a/b", {
      body: { data: { value: "in-namespace" } },
      headers: { "X-Vault-Namespace": "ns1/ns2/" },
    });
    const viaPath = await call(server, "GET", "ns1/ns2/secret/data/a/b");
    assert.equal(JSON.parse(viaPath.text).data.data.value, "in-namespace");
    assert.equal((await call(server, "GET", "secret/data/a/b")).status, 404);
  } finally {
    await server.close();
  }
});
