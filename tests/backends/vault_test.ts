import assert from "node:assert/strict";
import { contractSuite } from "../../testing/contract.ts";
import { runCanary } from "../../testing/canary.ts";
import {
  ConfigError,
  type KeywardError,
  SecretAccessError,
  SecretConflictError,
  SecretNotFoundError,
  SecretWriteError,
  type VaultOptions,
  VaultSecretManager,
} from "../../mod.ts";
import { build } from "../../factory/_vault.ts";
import { type FakeVaultOptions, FakeVaultServer } from "../fakes/vault_server.ts";

// ---- the contract suite, one fresh server per case ----

let contractServer: FakeVaultServer | undefined;
for (
  const c of contractSuite({
    create: async () => {
      contractServer = await FakeVaultServer.start();
      return new VaultSecretManager({
        address: contractServer.url,
        auth: { token: contractServer.rootToken },
      });
    },
    retainedVersions: 10,
    ioCount: () => contractServer!.requestCount,
    dispose: async (m) => {
      await m.close();
      await contractServer?.close();
    },
  })
) {
  Deno.test(`vault: ${c.name}`, c.fn);
}

// ---- helpers ----

/** A clock both the server and the backend read. */
function fakeClock(start = Date.UTC(2026, 10, 29, 9, 0, 0)) {
  const clock = { now: start, advance: (ms: number) => void (clock.now += ms) };
  return clock;
}

const noSleep = { sleep: () => Promise.resolve() };

async function withVault(
  serverOpts: FakeVaultOptions,
  managerOpts: Partial<VaultOptions>,
  body: (server: FakeVaultServer, m: VaultSecretManager) => Promise<void>,
): Promise<void> {
  const server = await FakeVaultServer.start(serverOpts);
  const m = new VaultSecretManager({
    address: server.url,
    auth: { token: server.rootToken },
    retry: noSleep,
    ...managerOpts,
  });
  try {
    await body(server, m);
  } finally {
    await m.close();
    await server.close();
  }
}

/** A raw request to the server, as another Vault client would send it. */
async function raw(
  server: FakeVaultServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${server.url}/v1/${path}`, {
    method,
    headers: { "X-Vault-Token": server.rootToken, ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

function paths(server: FakeVaultServer, from = 0): string[] {
  return server.requests.slice(from).map((r) => `${r.method} ${r.path}`);
}

async function rejectsWith<T extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => T,
): Promise<T> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    return err;
  }
  throw new assert.AssertionError({ message: `expected ${type.name}, nothing was thrown` });
}

const APPROLE = { roleId: "role-id-reader", secretId: "secret-id-0001", ttlSeconds: 60 };

// ---- reading what other Vault clients wrote ----

Deno.test("a secret written the way `vault kv put secret/alpaca/api_key_id value=...` writes it is read back", async () => {
  await withVault({}, {}, async (server, m) => {
    const put = await raw(server, "POST", "secret/data/alpaca/api_key_id", {
      data: { value: "PKKVPUT00000000001" },
    });
    assert.equal(put.status, 200);
    assert.equal(await m.getSecret("alpaca/api_key_id"), "PKKVPUT00000000001");
    assert.deepEqual(await m.listSecrets("alpaca/"), ["alpaca/api_key_id"]);
    await raw(server, "POST", "secret/data/db/login", {
      data: { user: "app", password: "kv-put-password-1", port: 5432 },
    });
    assert.equal(await m.getSecret("db/login", { field: "port" }), "5432");
    assert.deepEqual(JSON.parse(await m.getSecret("db/login")), {
      password: "kv-put-password-1",
      port: "5432",
      user: "app",
    });
  });
});

Deno.test("a read of the current version is one request and previous costs two", async () => {
  await withVault({}, {}, async (server, m) => {
    await m.setSecret("svc/key", "one-request-0001");
    await m.setSecret("svc/key", "one-request-0002");
    const before = server.requestCount;
    assert.equal(await m.getSecret("svc/key"), "one-request-0002");
    assert.deepEqual(paths(server, before), ["GET secret/data/svc/key"]);
    const mid = server.requestCount;
    assert.equal(await m.getSecret("svc/key", { stage: "previous" }), "one-request-0001");
    assert.equal(server.requestCount - mid, 2);
  });
});

Deno.test("setSecret() records the replaced version as keyward_previous with a merge PATCH", async () => {
  await withVault({}, {}, async (server, m) => {
    await raw(server, "POST", "secret/metadata/svc/meta", {
      custom_metadata: { owner: "payments" },
    });
    await m.setSecret("svc/meta", "meta-value-0001");
    await m.setSecret("svc/meta", "meta-value-0002");
    const patch = server.requests.filter((r) => r.method === "PATCH");
    assert.equal(patch.length, 2);
    assert.equal(patch[0].contentType, "application/merge-patch+json");
    const meta = await raw(server, "GET", "secret/metadata/svc/meta");
    const custom = (meta.json as { data: { custom_metadata: Record<string, string> } }).data
      .custom_metadata;
    assert.equal(custom.owner, "payments", "an operator's own custom_metadata survives");
    assert.equal(custom.keyward_previous, "1");
    assert.equal(custom.keyward_previous_of, "2");
  });
});

Deno.test("previous falls back to the version before the latest after another tool wrote", async () => {
  await withVault({}, {}, async (server, m) => {
    await m.setSecret("svc/foreign", "foreign-value-0001");
    await m.setSecret("svc/foreign", "foreign-value-0002");
    await raw(server, "POST", "secret/data/svc/foreign", { data: { value: "foreign-value-0003" } });
    assert.equal(await m.getSecret("svc/foreign"), "foreign-value-0003");
    assert.equal(await m.getSecret("svc/foreign", { stage: "previous" }), "foreign-value-0002");
    const stages = (await m.describeSecret("svc/foreign")).versions.filter((v) => v.stages.length);
    assert.deepEqual(stages.map((v) => [v.version, v.stages]), [
      ["2", ["previous"]],
      ["3", ["current"]],
    ]);
  });
});

Deno.test("a pending version is invisible to a plain read of the main path and to listings", async () => {
  await withVault({}, {}, async (server, m) => {
    await m.setSecret("rot/key", "visible-current-0001");
    const p = await m.setSecret("rot/key", "hidden-pending-0002", { stage: "pending" });
    assert.match(p.version, /^pending:\d+$/);
    const read = await raw(server, "GET", "secret/data/rot/key");
    assert.equal(
      (read.json as { data: { data: { value: string } } }).data.data.value,
      "visible-current-0001",
    );
    assert.equal(await m.getSecret("rot/key"), "visible-current-0001");
    assert.deepEqual(await m.listSecrets(), ["rot/key"]);
    const root = await raw(server, "GET", "secret/metadata/?list=true");
    assert.ok(
      (root.json as { data: { keys: string[] } }).data.keys.includes(".keyward/"),
      "the sibling lives under the reserved prefix",
    );
    assert.equal(
      await m.getSecret("rot/key", { version: p.version }),
      "hidden-pending-0002",
    );
  });
});

Deno.test("pending ids stay unique after a promote deletes the sibling", async () => {
  await withVault({}, {}, async (server, m) => {
    await m.setSecret("rot/ids", "ids-value-0001");
    const p1 = await m.setSecret("rot/ids", "ids-value-0002", { stage: "pending" });
    await m.promote("rot/ids", p1.version);
    const sibling = await raw(server, "GET", "secret/metadata/.keyward/pending/rot/ids");
    assert.equal(sibling.status, 404, "the promoted sibling is deleted");
    const p2 = await m.setSecret("rot/ids", "ids-value-0003", { stage: "pending" });
    assert.notEqual(p2.version, p1.version);
    // The first id still means what it meant: the value its promote made current.
    assert.equal(await m.getSecret("rot/ids", { version: p1.version }), "ids-value-0002");
    assert.equal(await m.getSecret("rot/ids", { version: p2.version }), "ids-value-0003");
    // Repeating the first promote changes nothing and leaves the new pending alone.
    await m.promote("rot/ids", p1.version);
    assert.equal(await m.getSecret("rot/ids", { stage: "pending" }), "ids-value-0003");
    await m.promote("rot/ids", p2.version);
    assert.equal(await m.getSecret("rot/ids"), "ids-value-0003");
    assert.equal(await m.getSecret("rot/ids", { stage: "previous" }), "ids-value-0002");
  });
});

Deno.test("ifVersion accepts the id a promote returned", async () => {
  await withVault({}, {}, async (_server, m) => {
    await m.setSecret("rot/if", "if-value-0001");
    const p = await m.setSecret("rot/if", "if-value-0002", { stage: "pending" });
    const promoted = await m.promote("rot/if", p.version);
    const next = await m.setSecret("rot/if", "if-value-0003", { ifVersion: promoted.version });
    assert.equal(await m.getSecret("rot/if"), "if-value-0003");
    await rejectsWith(
      m.setSecret("rot/if", "if-value-0004", { ifVersion: promoted.version }),
      SecretConflictError,
    );
    const pending = await m.setSecret("rot/if", "if-value-0005", {
      stage: "pending",
      ifVersion: next.version,
    });
    assert.deepEqual(pending.stages, ["pending"]);
  });
});

Deno.test("promote() fails with SecretConflictError when another writer lands first, and loses no write", async () => {
  const server = await FakeVaultServer.start();
  let interfered = false;
  const interfering: typeof fetch = async (input, init) => {
    const url = String(input);
    if (!interfered && init?.method === "POST" && url.endsWith("/v1/secret/data/pro/race")) {
      interfered = true;
      await raw(server, "POST", "secret/data/pro/race", { data: { value: "other-writer-0003" } });
    }
    return fetch(input, init);
  };
  const m = new VaultSecretManager({
    address: server.url,
    auth: { token: server.rootToken },
    fetch: interfering,
  });
  try {
    interfered = true;
    await m.setSecret("pro/race", "race-value-0001");
    const p = await m.setSecret("pro/race", "race-value-0002", { stage: "pending" });
    interfered = false;
    await rejectsWith(m.promote("pro/race", p.version), SecretConflictError);
    assert.equal(await m.getSecret("pro/race"), "other-writer-0003");
    assert.equal(await m.getSecret("pro/race", { stage: "pending" }), "race-value-0002");
  } finally {
    await m.close();
    await server.close();
  }
});

Deno.test("a soft-deleted or destroyed current version is SecretNotFoundError", async () => {
  await withVault({}, {}, async (server, m) => {
    await m.setSecret("del/soft", "soft-value-0001");
    await m.setSecret("del/soft", "soft-value-0002");
    assert.equal((await raw(server, "DELETE", "secret/data/del/soft")).status, 204);
    const err = await rejectsWith(m.getSecret("del/soft"), SecretNotFoundError);
    assert.equal(err.stage, "current");
    assert.equal(await m.getSecret("del/soft", { version: "1" }), "soft-value-0001");
    await raw(server, "POST", "secret/destroy/del/soft", { versions: [2] });
    await rejectsWith(m.getSecret("del/soft"), SecretNotFoundError);
    await rejectsWith(m.getSecret("del/soft", { version: "2" }), SecretNotFoundError);
    await rejectsWith(m.getSecret("del/soft", { stage: "previous" }), SecretNotFoundError);
  });
});

Deno.test("a version with a future deletion_time still reads, and describeSecret reports it", async () => {
  const clock = fakeClock();
  await withVault({ now: () => clock.now }, { now: () => clock.now }, async (server, m) => {
    await raw(server, "POST", "secret/config", { delete_version_after: "1h" });
    await m.setSecret("ttl/key", "ttl-value-0001");
    assert.equal(await m.getSecret("ttl/key"), "ttl-value-0001");
    const meta = await m.describeSecret("ttl/key");
    assert.equal(meta.deletionScheduledAt?.getTime(), clock.now + 3_600_000);
    clock.advance(3_600_001);
    await rejectsWith(m.getSecret("ttl/key"), SecretNotFoundError);
    assert.deepEqual((await m.describeSecret("ttl/key")).versions, []);
  });
});

Deno.test("writes work on a mount with cas_required", async () => {
  await withVault({}, {}, async (server, m) => {
    await raw(server, "POST", "secret/config", { cas_required: true });
    await m.setSecret("cas/req", "cas-required-0001");
    await m.setSecret("cas/req", "cas-required-0002");
    await m.setSecret("cas/req", "cas-required-0003", { stage: "pending" });
    assert.equal(await m.getSecret("cas/req"), "cas-required-0002");
    assert.equal(await m.getSecret("cas/req", { stage: "pending" }), "cas-required-0003");
    await rejectsWith(
      m.setSecret("cas/req", "cas-required-0004", { ifVersion: "1" }),
      SecretConflictError,
    );
  });
});

Deno.test("listSecrets() walks nested folders, matches partial segments and hides the reserved prefix", async () => {
  await withVault({}, {}, async (_server, m) => {
    for (const name of ["alpaca/live/key", "alpaca/paper/key", "alpaca/root", "db/password"]) {
      await m.setSecret(name, `list-value-${name.length}-000`);
    }
    await m.setSecret("db/password", "list-pending-0001", { stage: "pending" });
    assert.deepEqual(await m.listSecrets(), [
      "alpaca/live/key",
      "alpaca/paper/key",
      "alpaca/root",
      "db/password",
    ]);
    assert.deepEqual(await m.listSecrets("alp"), [
      "alpaca/live/key",
      "alpaca/paper/key",
      "alpaca/root",
    ]);
    assert.deepEqual(await m.listSecrets("alpaca/pa"), ["alpaca/paper/key"]);
    assert.deepEqual(await m.listSecrets("nothing/"), []);
  });
});

Deno.test("deleteSecret() removes every version, the metadata and the pending sibling", async () => {
  await withVault({}, {}, async (server, m) => {
    await m.setSecret("del/all", "delete-all-0001");
    await m.setSecret("del/all", "delete-all-0002", { stage: "pending" });
    await m.deleteSecret("del/all");
    assert.equal((await raw(server, "GET", "secret/metadata/del/all")).status, 404);
    assert.equal(
      (await raw(server, "GET", "secret/metadata/.keyward/pending/del/all")).status,
      404,
    );
    await m.setSecret("del/all", "delete-all-0003");
    await rejectsWith(m.getSecret("del/all", { stage: "pending" }), SecretNotFoundError);
  });
});

Deno.test("getSecret() with a version and a stage needs the version to hold the stage", async () => {
  await withVault({}, {}, async (_server, m) => {
    const v1 = await m.setSecret("vs/key", "version-stage-0001");
    const v2 = await m.setSecret("vs/key", "version-stage-0002");
    assert.equal(
      await m.getSecret("vs/key", { version: v2.version, stage: "current" }),
      "version-stage-0002",
    );
    await rejectsWith(
      m.getSecret("vs/key", { version: v1.version, stage: "current" }),
      SecretNotFoundError,
    );
    await rejectsWith(m.getSecret("vs/key", { version: "pending:99" }), SecretNotFoundError);
    await rejectsWith(m.getSecret("vs/key", { version: "abc" }), SecretNotFoundError);
    await rejectsWith(m.promote("vs/key", "pending:99"), SecretNotFoundError);
  });
});

// ---- auth ----

Deno.test("AppRole: the first call logs in and the token comes from auth.client_token", async () => {
  await withVault(
    { appRoles: { reader: APPROLE } },
    { auth: { appRole: { roleId: APPROLE.roleId, secretId: APPROLE.secretId } } },
    async (server, m) => {
      await raw(server, "POST", "secret/data/app/key", { data: { value: "approle-value-01" } });
      const before = server.requestCount;
      assert.equal(await m.getSecret("app/key"), "approle-value-01");
      assert.deepEqual(paths(server, before), [
        "POST auth/approle/login",
        "GET secret/data/app/key",
      ]);
      assert.equal(server.requests.at(-1)!.tokenVia, "header");
      assert.equal(server.loginTokens.length, 1);
      assert.equal(await m.getSecret("app/key"), "approle-value-01");
      assert.equal(server.loginTokens.length, 1, "the token is reused");
    },
  );
});

Deno.test("AppRole: the token is renewed with renew-self at two thirds of its TTL, not before", async () => {
  const clock = fakeClock();
  await withVault(
    { appRoles: { reader: APPROLE }, now: () => clock.now },
    {
      auth: { appRole: { roleId: APPROLE.roleId, secretId: APPROLE.secretId } },
      now: () => clock.now,
    },
    async (server, m) => {
      await m.setSecret("app/renew", "renew-value-0001");
      const token = server.loginTokens[0];
      clock.advance(39_000); // < 40 s = 2/3 of 60 s
      let before = server.requestCount;
      await m.getSecret("app/renew");
      assert.deepEqual(paths(server, before), ["GET secret/data/app/renew"]);
      clock.advance(2_000); // 41 s
      before = server.requestCount;
      await m.getSecret("app/renew");
      assert.deepEqual(paths(server, before), [
        "POST auth/token/renew-self",
        "GET secret/data/app/renew",
      ]);
      clock.advance(30_000); // 71 s: past the first token's expiry (60 s), inside the renewed lease
      assert.ok(server.tokenValid(token));
      before = server.requestCount;
      await m.getSecret("app/renew");
      assert.deepEqual(paths(server, before), ["GET secret/data/app/renew"]);
      assert.equal(server.loginTokens.length, 1, "no second login");
    },
  );
});

Deno.test("AppRole: a refused renewal is followed by a fresh login", async () => {
  const clock = fakeClock();
  await withVault(
    { appRoles: { reader: APPROLE }, now: () => clock.now },
    {
      auth: { appRole: { roleId: APPROLE.roleId, secretId: APPROLE.secretId } },
      now: () => clock.now,
    },
    async (server, m) => {
      await m.setSecret("app/refused", "refused-value-0001");
      server.refuseRenewal = true;
      clock.advance(45_000);
      const before = server.requestCount;
      assert.equal(await m.getSecret("app/refused"), "refused-value-0001");
      assert.deepEqual(paths(server, before), [
        "POST auth/token/renew-self",
        "POST auth/approle/login",
        "GET secret/data/app/refused",
      ]);
      assert.equal(server.loginTokens.length, 2);
    },
  );
});

Deno.test("AppRole: an expired token is replaced by a login without a renewal attempt", async () => {
  const clock = fakeClock();
  await withVault(
    { appRoles: { reader: APPROLE }, now: () => clock.now },
    {
      auth: { appRole: { roleId: APPROLE.roleId, secretId: APPROLE.secretId } },
      now: () => clock.now,
    },
    async (server, m) => {
      await m.setSecret("app/expired", "expired-value-0001");
      clock.advance(61_000);
      const before = server.requestCount;
      await m.getSecret("app/expired");
      assert.deepEqual(paths(server, before), [
        "POST auth/approle/login",
        "GET secret/data/app/expired",
      ]);
    },
  );
});

Deno.test("AppRole: a revoked token gets one fresh login and the request is retried once", async () => {
  await withVault(
    { appRoles: { reader: APPROLE } },
    { auth: { appRole: { roleId: APPROLE.roleId, secretId: APPROLE.secretId } } },
    async (server, m) => {
      await m.setSecret("app/revoked", "revoked-value-0001");
      server.revokeLoginTokens();
      const before = server.requestCount;
      assert.equal(await m.getSecret("app/revoked"), "revoked-value-0001");
      assert.deepEqual(paths(server, before), [
        "GET secret/data/app/revoked",
        "POST auth/approle/login",
        "GET secret/data/app/revoked",
      ]);
    },
  );
});

Deno.test("AppRole: a token the policy denies is re-tried once after a fresh login, then denied", async () => {
  const policy = [{ path: "secret/data/allowed/*", capabilities: ["read"] }];
  await withVault(
    { appRoles: { reader: { ...APPROLE, policy } } },
    { auth: { appRole: { roleId: APPROLE.roleId, secretId: APPROLE.secretId } } },
    async (server, m) => {
      const before = server.requestCount;
      const err = await rejectsWith(m.getSecret("forbidden/key"), SecretAccessError);
      assert.equal(err.reason, "denied");
      assert.deepEqual(paths(server, before), [
        "POST auth/approle/login",
        "GET secret/data/forbidden/key",
        "POST auth/approle/login",
        "GET secret/data/forbidden/key",
      ]);
    },
  );
});

Deno.test("AppRole: wrong credentials are SecretAccessError (denied) that names no credential", async () => {
  await withVault(
    { appRoles: { reader: APPROLE } },
    { auth: { appRole: { roleId: APPROLE.roleId, secretId: "wrong-secret-id-canary" } } },
    async (server, m) => {
      const err = await rejectsWith(m.getSecret("app/key"), SecretAccessError);
      assert.equal(err.reason, "denied");
      assert.match(err.message, /AppRole login/);
      assert.ok(!err.message.includes("wrong-secret-id-canary"));
      assert.ok(!err.message.includes(APPROLE.roleId));
      assert.equal(server.requestCount, 1, "a refused login is not retried");
    },
  );
});

Deno.test("Kubernetes: the login sends the role and the JWT the caller reads, each time", async () => {
  let reads = 0;
  const jwt = "eyJhbGciOiJSUzI1NiJ9.k8s-service-account.signature";
  await withVault(
    { kubernetesRoles: { payments: { jwts: [jwt], ttlSeconds: 60 } } },
    {
      auth: {
        kubernetes: {
          role: "payments",
          jwt: () => {
            reads += 1;
            return Promise.resolve(`${jwt}\n`);
          },
        },
      },
    },
    async (server, m) => {
      await raw(server, "POST", "secret/data/k8s/key", { data: { value: "k8s-value-00001" } });
      assert.equal(await m.getSecret("k8s/key"), "k8s-value-00001");
      assert.equal(server.requests.at(-2)!.path, "auth/kubernetes/login");
      server.revokeLoginTokens();
      assert.equal(await m.getSecret("k8s/key"), "k8s-value-00001");
      assert.equal(reads, 2);
    },
  );
  await withVault(
    { kubernetesRoles: { payments: { jwts: [jwt] } } },
    { auth: { kubernetes: { role: "payments", jwt: () => "not-the-right-jwt-canary" } } },
    async (_server, m) => {
      const err = await rejectsWith(m.getSecret("k8s/key"), SecretAccessError);
      assert.equal(err.reason, "denied");
      assert.ok(!err.message.includes("not-the-right-jwt-canary"));
    },
  );
  await withVault(
    {},
    {
      auth: {
        kubernetes: {
          role: "payments",
          jwt: () => Promise.reject(new Error("ENOENT /var/run/secrets/token")),
        },
      },
    },
    async (server, m) => {
      const err = await rejectsWith(m.getSecret("k8s/key"), SecretAccessError);
      assert.match(err.message, /service-account token could not be read/);
      assert.equal(server.requestCount, 0);
    },
  );
});

Deno.test("close() revokes a login token and the manager refuses later calls", async () => {
  await withVault(
    { appRoles: { reader: APPROLE } },
    { auth: { appRole: { roleId: APPROLE.roleId, secretId: APPROLE.secretId } } },
    async (server, m) => {
      await m.setSecret("app/close", "close-value-00001");
      const token = server.loginTokens[0];
      assert.ok(server.tokenValid(token));
      await m.close();
      assert.ok(!server.tokenValid(token));
      await assert.rejects(
        m.getSecret("app/close"),
        (e: unknown) => (e as KeywardError).code === "closed",
      );
    },
  );
});

// ---- errors, retries, timeouts ----

Deno.test("a static token Vault rejects is SecretAccessError (denied) after one request", async () => {
  await withVault({}, { auth: { token: "hvs.revoked-token-canary" } }, async (server, m) => {
    const err = await rejectsWith(m.getSecret("svc/key"), SecretAccessError);
    assert.equal(err.reason, "denied");
    assert.match(err.message, /invalid or expired/);
    assert.ok(!err.message.includes("revoked-token-canary"));
    assert.equal(server.requestCount, 1);
  });
});

Deno.test("503 is retried: exactly 3 attempts, then SecretAccessError (unreachable)", async () => {
  await withVault({}, {}, async (server, m) => {
    server.failNext(3, 503);
    const err = await rejectsWith(m.getSecret("svc/key"), SecretAccessError);
    assert.equal(err.reason, "unreachable");
    assert.match(err.message, /HTTP 503, 3 attempts/);
    assert.equal(server.requestCount, 3);
    await m.setSecret("svc/key", "after-outage-0001");
    server.failNext(2, 500);
    const before = server.requestCount;
    assert.equal(await m.getSecret("svc/key"), "after-outage-0001");
    assert.equal(server.requestCount - before, 3, "the third attempt succeeds");
  });
});

Deno.test("429 is retried: exactly 3 attempts, then SecretAccessError (throttled)", async () => {
  await withVault({}, {}, async (server, m) => {
    server.failNext(3, 429);
    const err = await rejectsWith(m.getSecret("svc/key"), SecretAccessError);
    assert.equal(err.reason, "throttled");
    assert.equal(server.requestCount, 3);
  });
});

Deno.test("network errors are retried: exactly 3 attempts, then SecretAccessError (unreachable)", async () => {
  let calls = 0;
  const counting: typeof fetch = (input, init) => {
    calls += 1;
    return fetch(input, init);
  };
  await withVault({}, { fetch: counting }, async (server, m) => {
    await m.setSecret("svc/down", "down-value-00001");
    calls = 0;
    await server.down();
    const err = await rejectsWith(m.getSecret("svc/down"), SecretAccessError);
    assert.equal(err.reason, "unreachable");
    assert.equal(calls, 3);
    server.up();
    server.dropConnections = true;
    const before = server.requestCount;
    const dropped = await rejectsWith(m.getSecret("svc/down"), SecretAccessError);
    assert.equal(dropped.reason, "unreachable");
    assert.equal(server.requestCount - before, 3, "a dropped connection is retried too");
    server.dropConnections = false;
    assert.equal(await m.getSecret("svc/down"), "down-value-00001");
  });
});

Deno.test("400, 403 and 404 are not retried", async () => {
  const policy = [{ path: "secret/data/open/*", capabilities: ["read"] }];
  await withVault({}, {}, async (server, m) => {
    let before = server.requestCount;
    await rejectsWith(m.getSecret("svc/missing"), SecretNotFoundError);
    assert.equal(server.requestCount - before, 1, "404: one request");

    await m.setSecret("svc/cas", "cas-value-00001");
    before = server.requestCount;
    await rejectsWith(
      m.setSecret("svc/cas", "cas-value-00002", { ifVersion: "7" }),
      SecretConflictError,
    );
    const writes = paths(server, before).filter((p) => p === "POST secret/data/svc/cas");
    assert.equal(writes.length, 1, "400: one write");

    const limited = new VaultSecretManager({
      address: server.url,
      auth: { token: server.createToken({ policy }) },
      retry: noSleep,
    });
    before = server.requestCount;
    const err = await rejectsWith(limited.getSecret("closed/key"), SecretAccessError);
    assert.equal(err.reason, "denied");
    assert.equal(server.requestCount - before, 1, "403: one request");
    await limited.close();
  });
});

Deno.test("backoff is exponential with full jitter and capped", async () => {
  const delays: number[] = [];
  await withVault({}, {
    retry: {
      attempts: 4,
      baseDelayMs: 100,
      maxDelayMs: 300,
      random: () => 0.5,
      sleep: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
    },
  }, async (server, m) => {
    server.failNext(4, 502);
    await rejectsWith(m.getSecret("svc/key"), SecretAccessError);
    assert.deepEqual(delays, [50, 100, 150]);
    assert.equal(server.requestCount, 4);
  });
});

Deno.test("each request has its own timeout: a slow Vault is SecretAccessError (timeout) after the attempts", async () => {
  await withVault({}, { timeoutMs: 50, retry: { ...noSleep, attempts: 2 } }, async (server, m) => {
    server.delayMs = 2_000;
    const err = await rejectsWith(m.getSecret("svc/slow"), SecretAccessError);
    assert.equal(err.reason, "timeout");
    assert.match(err.message, /within 50 ms \(2 attempts\)/);
    assert.equal(server.requestCount, 2);
    server.delayMs = 0;
  });
});

Deno.test("the caller's signal cancels a request and is not retried", async () => {
  await withVault({}, {}, async (server, m) => {
    server.delayMs = 2_000;
    const ctl = new AbortController();
    const pending = m.getSecret("svc/slow", { signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error("caller gave up")), 20);
    await assert.rejects(pending, /caller gave up/);
    assert.equal(server.requestCount, 1);
    server.delayMs = 0;
  });
});

Deno.test("the namespace is sent as X-Vault-Namespace and keeps its data apart", async () => {
  await withVault({ namespaces: ["team-a"] }, { namespace: "team-a" }, async (server, m) => {
    await m.setSecret("ns/key", "namespace-value-01");
    assert.ok(server.requests.every((r) => r.namespace === "team-a"));
    const rootRead = await raw(server, "GET", "secret/data/ns/key");
    assert.equal(rootRead.status, 404, "not in the root namespace");
    const nsRead = await raw(server, "GET", "team-a/secret/data/ns/key");
    assert.equal(nsRead.status, 200);
    assert.equal(await m.getSecret("ns/key"), "namespace-value-01");
  });
});

Deno.test("connections are reused between requests (keep-alive)", async () => {
  await withVault({}, {}, async (server, m) => {
    await m.setSecret("ka/key", "keep-alive-00001");
    const before = server.requestCount;
    for (let i = 0; i < 5; i++) await m.getSecret("ka/key");
    const ports = new Set(server.requests.slice(before).map((r) => r.clientPort));
    assert.equal(ports.size, 1, "five reads over one connection");
  });
});

Deno.test("a canary value never appears in errors or LogTape records", async () => {
  const server = await FakeVaultServer.start({ appRoles: { reader: APPROLE } });
  const m = new VaultSecretManager({
    address: server.url,
    auth: { appRole: { roleId: APPROLE.roleId, secretId: APPROLE.secretId } },
    retry: noSleep,
    timeoutMs: 50,
  });
  try {
    const report = await runCanary(async ({ canary, recordError }) => {
      const attempt = async (fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (err) {
          recordError(err);
        }
      };
      await m.setSecret(canary.name, canary.value, { stage: "pending" });
      await m.promote(canary.name, (await m.describeSecret(canary.name)).versions.at(-1)!.version);
      await attempt(() => m.getSecret(canary.name, { field: "nope" }));
      await attempt(() => m.setSecret(canary.name, canary.value, { ifVersion: "99" }));
      server.failNext(3, 503);
      await attempt(() => m.getSecret(canary.name));
      server.failNext(3, 429);
      await attempt(() => m.setSecret(canary.name, canary.value));
      server.revokeLoginTokens();
      await attempt(() => m.getSecret(canary.name));
      server.delayMs = 500;
      await attempt(() => m.getSecret(canary.name));
      server.delayMs = 0;
      return await m.getSecret(canary.name);
    }, { manager: m });
    assert.equal(report.result, report.canary.value);
    assert.ok(report.errors.length >= 5, `errors captured: ${report.errors.length}`);
    assert.ok(report.logs.some((r) => r.level === "warning"), "retries were logged");
    for (const token of server.loginTokens) {
      assert.ok(!JSON.stringify(report.logs.map((r) => r.properties)).includes(token));
      for (const err of report.errors) assert.ok(!String((err as Error).message).includes(token));
    }
  } finally {
    await m.close();
    await server.close();
  }
});

// ---- options and the factory ----

Deno.test("bad options are ConfigError naming the option, before any I/O", () => {
  const bad: unknown[] = [
    {},
    { address: "ftp://vault", auth: { token: "t" } },
    { address: "not a url", auth: { token: "t" } },
    { address: "https://user:pw@vault", auth: { token: "t" } },
    { address: "https://vault", auth: {} },
    { address: "https://vault", auth: { token: "" } },
    { address: "https://vault", auth: { token: "t", appRole: { roleId: "r", secretId: "s" } } },
    { address: "https://vault", auth: { appRole: { roleId: "r" } } },
    { address: "https://vault", auth: { kubernetes: { role: "r" } } },
    { address: "https://vault", auth: { appRole: { roleId: "r", secretId: "s", mount: "/x" } } },
    { address: "https://vault", auth: { token: "t" }, mount: "a//b" },
    { address: "https://vault", auth: { token: "t" }, namespace: "" },
    { address: "https://vault", auth: { token: "t" }, timeoutMs: 0 },
    { address: "https://vault", auth: { token: "t" }, retry: { attempts: 0 } },
  ];
  for (const options of bad) {
    assert.throws(
      () => new VaultSecretManager(options as VaultOptions),
      (err: unknown) => err instanceof ConfigError && /option|address/.test(err.message),
      JSON.stringify(options),
    );
  }
});

Deno.test("factory: VAULT_* settings build a working backend; missing ones are named", async () => {
  const server = await FakeVaultServer.start({
    appRoles: { reader: APPROLE },
    kubernetesRoles: { payments: { jwts: ["jwt-from-file"] } },
    namespaces: ["team-a"],
  });
  const readTextFile = (path: string) =>
    path === "/var/run/secrets/kubernetes.io/serviceaccount/token"
      ? Promise.resolve("jwt-from-file\n")
      : Promise.reject(new Error("no such file"));
  const settings = (env: Record<string, string>) => ({ env, readTextFile });
  try {
    const byToken = await build(settings({
      VAULT_ADDR: server.url,
      VAULT_TOKEN: server.rootToken,
      VAULT_NAMESPACE: "team-a",
      VAULT_TIMEOUT_MS: "2000",
    }));
    await byToken.setSecret("f/key", "factory-value-001");
    assert.equal(server.requests.at(-1)!.namespace, "team-a");
    await byToken.close();
    const byAppRole = await build(settings({
      VAULT_ADDR: server.url,
      VAULT_ROLE_ID: APPROLE.roleId,
      VAULT_SECRET_ID: APPROLE.secretId,
      VAULT_MOUNT: "secret",
    }));
    await byAppRole.setSecret("f/key", "factory-value-002");
    await byAppRole.close();
    const byK8s = await build(settings({ VAULT_ADDR: server.url, VAULT_K8S_ROLE: "payments" }));
    await byK8s.setSecret("f/key", "factory-value-003");
    await byK8s.close();
    assert.ok(server.requests.some((r) => r.path === "auth/kubernetes/login"));
  } finally {
    await server.close();
  }
  const cases: [Record<string, string>, RegExp][] = [
    [{}, /VAULT_ADDR/],
    [{ VAULT_ADDR: "http://127.0.0.1:8200" }, /VAULT_TOKEN.*VAULT_ROLE_ID.*VAULT_K8S_ROLE/],
    [{ VAULT_ADDR: "http://127.0.0.1:8200", VAULT_ROLE_ID: "r" }, /VAULT_SECRET_ID/],
    [{ VAULT_ADDR: "http://127.0.0.1:8200", VAULT_SECRET_ID: "s" }, /VAULT_ROLE_ID/],
    [{ VAULT_ADDR: "http://127.0.0.1:8200", VAULT_TOKEN: "t", VAULT_K8S_ROLE: "r" }, /only one/],
    [
      { VAULT_ADDR: "http://127.0.0.1:8200", VAULT_TOKEN: "t", VAULT_TIMEOUT_MS: "soon" },
      /VAULT_TIMEOUT_MS/,
    ],
    [{ VAULT_ADDR: "ftp://x", VAULT_TOKEN: "t" }, /^VAULT_ADDR/],
    [
      { VAULT_ADDR: "http://127.0.0.1:8200", VAULT_TOKEN: "t", VAULT_MOUNT: "a//b" },
      /^VAULT_MOUNT/,
    ],
  ];
  for (const [env, pattern] of cases) {
    await assert.rejects(
      build(settings(env)),
      (err: unknown) => err instanceof ConfigError && pattern.test(err.message),
      JSON.stringify(env),
    );
  }
});

// ---- the policies of docs/GETTING_STARTED/LOCAL_SETUP.md ----

/** The `path "..." { capabilities = [...] }` blocks of the HCL block marked `# <marker>`. */
async function docPolicy(marker: string): Promise<{ path: string; capabilities: string[] }[]> {
  const doc = await Deno.readTextFile(
    new URL("../../docs/GETTING_STARTED/LOCAL_SETUP.md", import.meta.url),
  );
  const block = /```hcl\n([\s\S]*?)```/g;
  for (const [, hcl] of doc.matchAll(block)) {
    if (!hcl.startsWith(`# ${marker}`)) continue;
    return [...hcl.matchAll(/path "([^"]+)" \{\s*capabilities = \[([^\]]*)\]\s*\}/g)].map((m) => ({
      path: m[1],
      capabilities: [...m[2].matchAll(/"([a-z]+)"/g)].map((c) => c[1]),
    }));
  }
  throw new Error(`no HCL block marked ${marker}`);
}

Deno.test("the documented reader policy reads and lists its prefix, and nothing more", async () => {
  const reader = await docPolicy("keyward-reader");
  assert.equal(reader.length, 2);
  await withVault({}, {}, async (server, admin) => {
    await admin.setSecret("payments/api_key", "policy-value-0001");
    await admin.setSecret("payments/api_key", "policy-value-0002");
    await admin.setSecret("payments/webhook/secret", "policy-value-0003");
    await admin.setSecret("other/key", "policy-value-0004");
    const m = new VaultSecretManager({
      address: server.url,
      auth: { token: server.createToken({ policy: reader }) },
      retry: noSleep,
    });
    try {
      assert.equal(await m.getSecret("payments/api_key"), "policy-value-0002");
      assert.equal(
        await m.getSecret("payments/api_key", { stage: "previous" }),
        "policy-value-0001",
      );
      assert.deepEqual(await m.listSecrets("payments/"), [
        "payments/api_key",
        "payments/webhook/secret",
      ]);
      for (
        const denied of [
          m.getSecret("other/key"),
          m.setSecret("payments/api_key", "policy-value-0005"),
          m.listSecrets(),
        ]
      ) {
        const err = await rejectsWith(denied, SecretAccessError);
        assert.equal(err.reason, "denied");
      }
    } finally {
      await m.close();
    }
  });
});

Deno.test("the documented rotation policy can write, rotate through pending, promote and delete its prefix", async () => {
  const rotator = await docPolicy("keyward-rotator");
  await withVault({}, {}, async (server) => {
    const m = new VaultSecretManager({
      address: server.url,
      auth: { token: server.createToken({ policy: rotator }) },
      retry: noSleep,
    });
    try {
      await m.setSecret("payments/api_key", "rotate-value-0001");
      const p = await m.setSecret("payments/api_key", "rotate-value-0002", { stage: "pending" });
      await m.promote("payments/api_key", p.version);
      assert.equal(await m.getSecret("payments/api_key"), "rotate-value-0002");
      assert.equal(
        await m.getSecret("payments/api_key", { stage: "previous" }),
        "rotate-value-0001",
      );
      const meta = await m.describeSecret("payments/api_key");
      assert.equal(meta.versions.length, 2);
      const custom = (await raw(server, "GET", "secret/metadata/payments/api_key")).json as {
        data: { custom_metadata: Record<string, string> };
      };
      assert.equal(
        custom.data.custom_metadata.keyward_promoted,
        `2=${p.version}`,
        "the policy allows the metadata PATCH that records the promote",
      );
      await m.deleteSecret("payments/api_key");
      await rejectsWith(m.getSecret("payments/api_key"), SecretNotFoundError);
      const err = await rejectsWith(
        m.setSecret("other/key", "rotate-value-0003"),
        SecretAccessError,
      );
      assert.equal(err.reason, "denied");
    } finally {
      await m.close();
    }
  });
});

Deno.test("without the patch capability a write still lands, and a promote fails safely and can be repeated", async () => {
  const noPatch = [
    { path: "secret/data/*", capabilities: ["create", "read", "update"] },
    { path: "secret/metadata/*", capabilities: ["read", "list", "delete"] },
  ];
  await withVault({}, {}, async (server, admin) => {
    const m = new VaultSecretManager({
      address: server.url,
      auth: { token: server.createToken({ policy: noPatch }) },
      retry: noSleep,
    });
    try {
      await m.setSecret("np/key", "no-patch-value-0001");
      await m.setSecret("np/key", "no-patch-value-0002");
      assert.equal(await m.getSecret("np/key", { stage: "previous" }), "no-patch-value-0001");
      const p = await m.setSecret("np/key", "no-patch-value-0003", { stage: "pending" });
      const err = await rejectsWith(m.promote("np/key", p.version), SecretWriteError);
      assert.match(err.message, /repeat the promote/);
      assert.equal(await m.getSecret("np/key"), "no-patch-value-0003");
      assert.equal(
        await m.getSecret("np/key", { stage: "pending" }),
        "no-patch-value-0003",
        "the pending sibling is kept",
      );
      await admin.promote("np/key", p.version);
      await admin.promote("np/key", p.version);
      assert.equal(await admin.getSecret("np/key"), "no-patch-value-0003");
      await rejectsWith(admin.getSecret("np/key", { stage: "pending" }), SecretNotFoundError);
    } finally {
      await m.close();
    }
  });
});
