/**
 * The AWS Secrets Manager Agent compatible route, compared field by field
 * with the golden shape of REFERENCE.md section E.
 */

import assert from "node:assert/strict";
import { appOver, makeToken, seeded } from "./_helpers.ts";

// REFERENCE.md E's example answer: the shape every answer must have.
const GOLDEN = {
  "ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:MySecret-abc123",
  "Name": "MySecret",
  "VersionId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
  "SecretString": "...",
  "VersionStages": ["AWSCURRENT"],
  "CreatedDate": "1699900000.000",
};

async function setup() {
  const reader = await makeToken({ prefixes: ["database/"], stages: ["current", "previous"] });
  const currentOnly = await makeToken({ prefixes: ["database/"] });
  const manager = seeded({ "database/app": "pw-first-0123456", "admin/root": "root-0123456789" });
  await manager.setSecret("database/app", "pw-second-0123456");
  const s = appOver(manager, [reader.entry, currentOnly.entry]);
  const agent = (query: string, headers: Record<string, string> = {
    "X-Aws-Parameters-Secrets-Token": reader.token,
  }, method = "GET") => s.app.request(`/secretsmanager/get?${query}`, { headers, method });
  return { ...s, manager, reader, currentOnly, agent };
}

Deno.test("the agent route answers GetSecretValue with the golden shape's fields, types and formats", async () => {
  const s = await setup();
  const meta = await s.manager.describeSecret("database/app");
  const res = await s.agent("secretId=database/app");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.headers.get("cache-control"), "no-store");
  const body = await res.json();
  assert.deepEqual(Object.keys(body).sort(), Object.keys(GOLDEN).sort());
  for (const [key, golden] of Object.entries(GOLDEN)) {
    assert.equal(typeof body[key], typeof golden, key);
    assert.equal(Array.isArray(body[key]), Array.isArray(golden), key);
  }
  assert.equal(body.ARN, "arn:keyward:secretsmanager:memory:000000000000:secret:database/app");
  assert.match(body.ARN, /^arn:[a-z]+:secretsmanager:[^:]+:\d{12}:secret:.+$/);
  assert.equal(body.Name, "database/app");
  assert.equal(body.VersionId, "2");
  assert.equal(body.SecretString, "pw-second-0123456");
  assert.deepEqual(body.VersionStages, ["AWSCURRENT"]);
  // CreatedDate: epoch seconds with three decimals, as a string, like the golden one.
  assert.match(body.CreatedDate, /^\d+\.\d{3}$/);
  assert.match(GOLDEN.CreatedDate, /^\d+\.\d{3}$/);
  const created = meta.versions.find((v) => v.version === "2")!.createdAt;
  assert.equal(body.CreatedDate, (created.getTime() / 1000).toFixed(3));
});

Deno.test("versionStage, versionId and refreshNow select what the agent would", async () => {
  const s = await setup();
  const prev = await (await s.agent("secretId=database/app&versionStage=AWSPREVIOUS")).json();
  assert.equal(prev.VersionId, "1");
  assert.equal(prev.SecretString, "pw-first-0123456");
  assert.deepEqual(prev.VersionStages, ["AWSPREVIOUS"]);
  const byId = await (await s.agent("secretId=database/app&versionId=1")).json();
  assert.equal(byId.SecretString, "pw-first-0123456");
  assert.deepEqual(byId.VersionStages, ["AWSPREVIOUS"]);
  const refreshed = await s.agent("secretId=database/app&refreshNow=true");
  assert.equal(refreshed.status, 200);
  const byArn = await s.agent(
    "secretId=arn:keyward:secretsmanager:memory:000000000000:secret:database/app",
  );
  assert.equal((await byArn.json()).Name, "database/app");
  const pending = await s.manager.setSecret("database/app", "pw-third-0123456", {
    stage: "pending",
  });
  const denied = await s.agent(`secretId=database/app&versionStage=AWSPENDING`);
  assert.equal(denied.status, 403, "pending is outside this token's stages");
  const byPendingId = await s.agent(`secretId=database/app&versionId=${pending.version}`);
  assert.equal(byPendingId.status, 403, "a version id cannot reach a stage the policy forbids");
  const currentOnly = await s.agent("secretId=database/app&versionStage=AWSPREVIOUS", {
    "X-Aws-Parameters-Secrets-Token": s.currentOnly.token,
  });
  assert.equal(currentOnly.status, 403);
});

Deno.test("the agent's errors: 400, 403, 404, 405, and X-Vault-Token is accepted", async () => {
  const s = await setup();
  const status = async (p: Response | Promise<Response>) => (await p).status;
  assert.equal(await status(s.agent("")), 400, "missing secretId");
  assert.equal(await status(s.agent("secretId=database/app&color=blue")), 400, "unknown parameter");
  assert.equal(
    await status(s.agent("secretId=database/app&refreshNow=yes")),
    400,
    "bad refreshNow",
  );
  assert.equal(await status(s.agent("secretId=database%2F..%2Fadmin")), 400, "not a name");
  assert.equal(await status(s.agent("secretId=database/app", {})), 403, "no token");
  assert.equal(
    await status(s.agent("secretId=database/app", { "X-Aws-Parameters-Secrets-Token": "kw_x" })),
    403,
    "wrong token",
  );
  assert.equal(await status(s.agent("secretId=admin/root")), 403, "outside the policy");
  assert.equal(await status(s.agent("secretId=admin/missing")), 403, "outside, missing");
  assert.equal(await status(s.agent("secretId=database/missing")), 404, "inside, missing");
  assert.equal(await status(s.agent("secretId=database/app&versionId=99")), 404, "no version");
  assert.equal(
    await status(s.agent("secretId=database/app&versionStage=CUSTOM")),
    404,
    "a label no version holds",
  );
  assert.equal(
    await status(s.agent("secretId=database/app", {
      "X-Aws-Parameters-Secrets-Token": s.reader.token,
    }, "POST")),
    405,
  );
  assert.equal(
    await status(s.agent("secretId=database/app", {
      "X-Aws-Parameters-Secrets-Token": s.reader.token,
      "X-Forwarded-For": "203.0.113.9",
    })),
    400,
    "X-Forwarded-For refused",
  );
  assert.equal(
    await status(s.agent("secretId=database/app", { "X-Vault-Token": s.reader.token })),
    200,
  );
  s.backend.fault = "deny";
  const denied = await s.agent("secretId=database/app");
  assert.equal(denied.status, 403, "access denied upstream");
  assert.equal((await denied.json()).error.code, "backend_denied");
  s.backend.fault = "down";
  assert.equal(await status(s.agent("secretId=database/app")), 503, "backend unreachable");
  s.backend.fault = "none";
  const ping = await s.app.request("/ping");
  assert.equal(ping.status, 200);
  assert.equal(await ping.text(), "healthy");
});
