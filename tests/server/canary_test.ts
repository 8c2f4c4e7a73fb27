/**
 * The leak canary through every route of the endpoint: the value appears in
 * the bodies of the successful reads and nowhere else: not in another
 * response (errors, lists, metrics, readiness, the document), not in a log
 * record, an audit event or a metric line.
 */

import assert from "node:assert/strict";
import { withCache } from "../../mod.ts";
import { FaultyManager, MemorySecretManager, runCanary } from "../../testing.ts";
import { appOver, auth, makeToken } from "./_helpers.ts";

Deno.test("the canary value appears only in the bodies of successful reads", async () => {
  const inner = new FaultyManager(new MemorySecretManager());
  const reader = await makeToken({
    prefixes: ["canary/"],
    stages: ["current", "previous"],
    roles: ["read", "metrics"],
  });
  const limited = await makeToken({ prefixes: ["canary/"], ratePerSecond: 1 });
  let s: ReturnType<typeof appOver> | undefined;
  const report = await runCanary(async ({ canary, io }) => {
    s = appOver(withCache(inner, { ttlMs: 60_000 }), [reader.entry, limited.entry]);
    const h = auth(reader.token);
    const agentH = { "X-Aws-Parameters-Secrets-Token": reader.token };
    const withValue = [
      `/v1/secrets/${canary.name}`,
      `/v1/secrets/${canary.name}?stage=previous`,
      `/secretsmanager/get?secretId=${canary.name}`,
      `/secretsmanager/get?secretId=${canary.name}&versionStage=AWSPREVIOUS`,
    ];
    // A previous version holding the canary too.
    await inner.setSecret(canary.name, `${canary.value}-next`);
    for (const path of withValue) {
      const res = await s.app.request(path, { headers: path.startsWith("/v1") ? h : agentH });
      assert.equal(res.status, 200, path);
      assert.ok((await res.text()).includes(canary.value), path);
    }
    const first = await s.app.request(`/v1/secrets/${canary.name}`, {
      headers: auth(limited.token),
    });
    assert.equal(first.status, 200);
    await first.body?.cancel();
    const withoutValue: [string, Record<string, string>][] = [
      [`/v1/secrets/${canary.name}?field=nope`, h],
      [`/v1/secrets/${canary.name}?stage=pending`, h],
      [`/v1/secrets/${canary.name}%2F`, h],
      [`/v1/secrets/${canary.name}`, {}],
      [`/v1/secrets/${canary.name}`, auth(limited.token)], // 429: its one request is spent
      [`/v1/secrets?prefix=canary/`, h],
      [`/secretsmanager/get?secretId=${canary.name}&versionId=nope`, agentH],
      [`/secretsmanager/get?secretId=${canary.name}&bogus=1`, agentH],
      [`/secretsmanager/get?secretId=${canary.name}`, { ...agentH, "x-forwarded-for": "1.2.3.4" }],
      ["/healthz", {}],
      ["/ping", {}],
      ["/openapi.json", {}],
    ];
    for (const [path, headers] of withoutValue) {
      const res = await s.app.request(path, { headers });
      io.stdout(`${res.status} ${[...res.headers].join(" ")} ${await res.text()}\n`);
    }
    // The backend down: a backend error for a name the cache does not hold (the cached ones
    // are served stale, with their value), readiness with its reason.
    inner.fault = "down";
    for (const path of ["/v1/secrets/canary/never-read", "/readyz"]) {
      const res = await s.app.request(`${path}`, { headers: h });
      io.stdout(`${res.status} ${await res.text()}\n`);
    }
    inner.fault = "none";
    const metrics = await s.app.request("/metrics", { headers: h });
    io.stdout(await metrics.text());
    await s.app.request(`/v1/secrets/${canary.name}`, {
      method: "POST",
      headers: h,
      body: canary.value,
    });
  }, {
    manager: inner,
    name: `canary/leak-${crypto.randomUUID().slice(0, 8)}`,
    audit: () => s?.audit.events ?? [],
  });
  assert.equal(report.thrown, undefined, String(report.thrown));
  assert.ok(report.stdout.includes("keyward_http_requests_total"));
  assert.ok(report.audit.length >= 15, `audited: ${report.audit.length}`);
});
