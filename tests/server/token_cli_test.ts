import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../cli.ts";
import { createServerApp, tokenFileSource } from "../../server.ts";
import { captureIo, MemorySecretManager, RecordingAuditSink } from "../../testing.ts";

async function run(args: string[], env: Record<string, string>) {
  const io = captureIo({ env });
  const code = await main(args, io);
  return { code, stdout: io.stdoutText, stderr: io.stderrText };
}

Deno.test("token create prints the token once and stores its hash; list never shows it; revoke removes it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = { KEYWARD_TOKENS_FILE: join(dir, "sub", "tokens.json") };
    const made = await run([
      "token",
      "create",
      "--service",
      "signal",
      "--prefix",
      "database/",
      "--prefix",
      "alpaca/",
      "--stage",
      "previous",
      "--role",
      "read",
      "--role",
      "metrics",
      "--expires",
      "90d",
    ], env);
    assert.equal(made.code, 0, made.stderr);
    const token = made.stdout.trim();
    assert.match(token, /^kw_[A-Za-z0-9_-]{43}$/);
    assert.match(made.stderr, /only time it is shown/);
    const fileText = await Deno.readTextFile(env.KEYWARD_TOKENS_FILE);
    assert.ok(!fileText.includes(token), "the file holds no token");
    const stat = await Deno.stat(env.KEYWARD_TOKENS_FILE);
    assert.equal(stat.mode! & 0o777, 0o600);
    const entry = JSON.parse(fileText).tokens[0];
    assert.deepEqual(entry.prefixes, ["database/", "alpaca/"]);
    assert.deepEqual(entry.stages, ["current", "previous"]);
    assert.deepEqual(entry.roles, ["read", "metrics"]);
    const days = (Date.parse(entry.expires) - Date.parse(entry.created)) / 86_400_000;
    assert.equal(days, 90);

    // The endpoint accepts the token from the file.
    const { app } = createServerApp({
      manager: new MemorySecretManager({ initial: { "database/app": "pw-0123456789" } }),
      tokens: tokenFileSource(env.KEYWARD_TOKENS_FILE, { checkEveryMs: 0 }),
      audit: new RecordingAuditSink(),
    });
    const read = () =>
      app.request("/v1/secrets/database/app", { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await read()).status, 200);

    const listed = await run(["token", "list"], env);
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, new RegExp(`${entry.id}  signal  prefixes=database/,alpaca/`));
    const listedJson = await run(["token", "list", "--json"], env);
    assert.ok(!listedJson.stdout.includes(token) && !listedJson.stdout.includes(entry.sha256));
    assert.equal(JSON.parse(listedJson.stdout).tokens[0].id, entry.id);

    const revoked = await run(["token", "revoke", entry.id], env);
    assert.equal(revoked.code, 0);
    assert.equal((await read()).status, 401);
    assert.equal((await run(["token", "revoke", entry.id], env)).code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("token create refuses a missing service or prefix, an unknown role or stage", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = { KEYWARD_TOKENS_FILE: join(dir, "tokens.json") };
    const cases = [
      ["token", "create", "--prefix", "a/"],
      ["token", "create", "--service", "s"],
      ["token", "create", "--service", "s", "--prefix", "a/", "--role", "root"],
      ["token", "create", "--service", "s", "--prefix", "a/", "--stage", "latest"],
      ["token", "create", "--service", "s", "--prefix", "../", "--role", "read"],
      ["token", "create", "--service", "s", "--prefix", "a/", "--expires", "soon"],
      ["token", "frobnicate"],
    ];
    for (const args of cases) {
      const r = await run(args, env);
      assert.notEqual(r.code, 0, args.join(" "));
      assert.equal(r.stdout, "", args.join(" "));
    }
    await assert.rejects(Deno.stat(env.KEYWARD_TOKENS_FILE));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
