import assert from "node:assert/strict";
import { join } from "node:path";
import { generateToken, hashToken, type TokenEntry, tokenFileSource } from "../../server.ts";
import { constantTimeEqual, parseTokenFile } from "../../server/tokens.ts";
import { ConfigError } from "../../mod.ts";
import { appOver, auth, makeToken, seeded } from "./_helpers.ts";
import { createServerApp } from "../../server.ts";
import { RecordingAuditSink } from "../../testing.ts";

async function writeTokens(path: string, tokens: TokenEntry[]): Promise<void> {
  // Written beside and renamed, as `token revoke` does.
  await Deno.writeTextFile(`${path}.tmp`, JSON.stringify({ version: 1, tokens }));
  await Deno.rename(`${path}.tmp`, path);
}

/** Polls `condition` until it holds or `withinMs` passes; returns how long it took. */
async function within(withinMs: number, condition: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < withinMs) {
    if (await condition()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the condition did not hold within ${withinMs} ms`);
}

Deno.test("a revoked token stops working within a second, without a restart; a new one starts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "tokens.json");
    const a = await makeToken();
    const b = await makeToken();
    await writeTokens(path, [a.entry]);
    const audit = new RecordingAuditSink();
    const { app } = createServerApp({
      manager: seeded({ "database/app": "pw-0123456789" }),
      tokens: tokenFileSource(path),
      audit,
    });
    const status = async (t: string) =>
      (await app.request("/v1/secrets/database/app", { headers: auth(t) })).status;
    assert.equal(await status(a.token), 200);
    assert.equal(await status(b.token), 401);
    await writeTokens(path, [b.entry]);
    await within(1_000, async () => (await status(a.token)) === 401);
    assert.equal(await status(b.token), 200);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing or broken token file fails closed: 503 and readyz says why", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "tokens.json");
    const a = await makeToken();
    const { app } = createServerApp({
      manager: seeded({ "database/app": "pw-0123456789" }),
      tokens: tokenFileSource(path, { checkEveryMs: 0 }),
      audit: new RecordingAuditSink(),
    });
    const res = await app.request("/v1/secrets/database/app", { headers: auth(a.token) });
    assert.equal(res.status, 503);
    assert.equal((await res.json()).error.code, "tokens_unavailable");
    const ready = await app.request("/readyz");
    assert.equal(ready.status, 503);
    assert.match((await ready.json()).reason, /token file/);
    await writeTokens(path, [a.entry]);
    assert.equal(
      (await app.request("/v1/secrets/database/app", { headers: auth(a.token) })).status,
      200,
    );
    await Deno.writeTextFile(path, "{ not json");
    assert.equal(
      (await app.request("/v1/secrets/database/app", { headers: auth(a.token) })).status,
      503,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the token file holds hashes only and its entries are checked", async () => {
  const token = generateToken();
  assert.match(token, /^kw_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(generateToken(), token);
  const hash = await hashToken(token);
  assert.match(hash, /^[0-9a-f]{64}$/);
  const base = {
    id: "tok_0123456789ab",
    sha256: hash,
    service: "signal",
    prefixes: ["database/"],
    stages: ["previous"],
    roles: ["read"],
    created: "2026-12-07T00:00:00Z",
  };
  const parsed = parseTokenFile(JSON.stringify({ version: 1, tokens: [base] }));
  assert.deepEqual(parsed.tokens[0].stages, ["current", "previous"]);
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ ...base, sha256: token }, /sha256/],
    [{ ...base, id: "x" }, /id/],
    [{ ...base, roles: ["root"] }, /roles/],
    [{ ...base, stages: ["latest"] }, /stages/],
    [{ ...base, prefixes: ["../x"] }, /prefix/],
    [{ ...base, service: "" }, /service/],
    [{ ...base, expires: "soon" }, /expires/],
  ];
  for (const [entry, rule] of bad) {
    assert.throws(
      () => parseTokenFile(JSON.stringify({ version: 1, tokens: [entry] })),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, rule);
        assert.ok(!err.message.includes(token), "never the token");
        return true;
      },
    );
  }
  assert.throws(() => parseTokenFile(JSON.stringify({ version: 1, tokens: [base, base] })), /dup/);
});

Deno.test("constantTimeEqual compares whole strings", () => {
  assert.ok(constantTimeEqual("abc", "abc"));
  assert.ok(!constantTimeEqual("abc", "abd"));
  assert.ok(!constantTimeEqual("abc", "ab"));
  assert.ok(!constantTimeEqual("", "a"));
});

Deno.test("an expired entry is refused at its expiry, by the server's clock", async () => {
  let now = Date.parse("2026-12-07T00:00:00Z");
  const t = await makeToken({ expires: "2026-12-08T00:00:00Z" });
  const s = appOver(seeded({ "database/app": "pw-0123456789" }), [t.entry], { now: () => now });
  const status = async () =>
    (await s.app.request("/v1/secrets/database/app", { headers: auth(t.token) })).status;
  assert.equal(await status(), 200);
  now = Date.parse("2026-12-08T00:00:00Z");
  assert.equal(await status(), 401);
});
