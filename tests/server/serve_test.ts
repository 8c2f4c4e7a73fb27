/**
 * `deno task serve` as a subprocess on Deno and on Node 20 (tsx and
 * @hono/node-server), the start-up refusals, and graceful shutdown.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { FileSecretManager, generateFileKey, writeKeyFile } from "../../backends/file.ts";
import { FaultyManager, MemorySecretManager } from "../../testing.ts";
import { startServer } from "../../server/serve.ts";
import { type ServeListener, withCache } from "../../mod.ts";
import { main } from "../../cli.ts";
import { captureIo } from "../../testing.ts";
import { nodeModulesInstalled, NPM_CI_HINT } from "../edge/_bundle.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const NODE_DIR = new URL("../node/", import.meta.url).pathname;
const CI = Deno.env.get("CI") === "true";
const nodeReady = await nodeModulesInstalled();
if (!nodeReady && !CI) console.warn(`tests/server/serve_test.ts (Node): skipped: ${NPM_CI_HINT}`);

interface Fixture {
  dir: string;
  env: Record<string, string>;
  token: string;
  canary: string;
}

/** A file store holding a canary, a key file, and a token made with `token create`. */
async function fixture(): Promise<Fixture> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-serve-" });
  const keyFile = join(dir, "file.key");
  await writeKeyFile(keyFile, generateFileKey());
  const canary = `serve-canary-${crypto.randomUUID()}`;
  const env: Record<string, string> = {
    KEYWARD_FILE_PATH: join(dir, "secrets.json"),
    KEYWARD_FILE_KEY_FILE: keyFile,
    KEYWARD_TOKENS_FILE: join(dir, "tokens.json"),
    KEYWARD_SERVER_AUDIT_FILE: join(dir, "audit.jsonl"),
    KEYWARD_SERVER_PORT: "0",
  };
  const store = new FileSecretManager({
    path: env.KEYWARD_FILE_PATH,
    key: await Deno.readTextFile(keyFile).then((t) => t.trim()),
  });
  await store.setSecret("database/app", canary);
  await store.close();
  const io = captureIo({ env });
  const code = await main(
    ["token", "create", "--service", "signal", "--prefix", "database/"],
    io,
  );
  assert.equal(code, 0, io.stderrText);
  return { dir, env, token: io.stdoutText.trim(), canary };
}

/** Runs a server process until it prints its URL; returns the URL and the process. */
async function spawn(cmd: string, args: string[], cwd: string, env: Record<string, string>) {
  const child = new Deno.Command(cmd, {
    args,
    cwd,
    env: { ...env, NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let out = "";
  const reader = child.stdout.getReader();
  let url: string | undefined;
  while (url === undefined) {
    const { value, done } = await reader.read();
    if (done) break;
    out += decoder.decode(value);
    url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
  }
  if (url === undefined) {
    const err = await new Response(child.stderr).text();
    throw new Error(`the server did not start:\n${out}\n${err}`);
  }
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return out;
      out += decoder.decode(value);
    }
  })();
  return {
    child,
    url,
    output: async () => `${await rest}${await new Response(child.stderr).text()}`,
  };
}

async function exercise(f: Fixture, url: string): Promise<void> {
  const res = await fetch(`${url}/v1/secrets/database/app`, {
    headers: { authorization: `Bearer ${f.token}` },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const body = await res.json();
  assert.equal(body.value, f.canary);
  assert.equal(body.stage, "current");
  const agent = await fetch(`${url}/secretsmanager/get?secretId=database/app`, {
    headers: { "X-Aws-Parameters-Secrets-Token": f.token },
  });
  assert.equal(agent.status, 200);
  assert.equal((await agent.json()).SecretString, f.canary);
  const denied = await fetch(`${url}/v1/secrets/admin/root`, {
    headers: { authorization: `Bearer ${f.token}` },
  });
  assert.equal(denied.status, 403);
  await denied.body?.cancel();
  const ping = await fetch(`${url}/ping`);
  assert.equal(await ping.text(), "healthy");
}

async function stopAndCheck(
  f: Fixture,
  proc: { child: Deno.ChildProcess; output: () => Promise<string> },
): Promise<string> {
  proc.child.kill("SIGTERM");
  const status = await proc.child.status;
  const out = await proc.output();
  assert.equal(status.code, 0, out);
  assert.match(out, /stopped; audit flushed/);
  const audit = await Deno.readTextFile(f.env.KEYWARD_SERVER_AUDIT_FILE);
  assert.equal(audit.trim().split("\n").length, 3, "one audit line per secret request");
  assert.match(audit, /"service":"signal"/);
  for (const text of [out, audit]) {
    assert.ok(!text.includes(f.canary), "no value in the output or the audit file");
    assert.ok(!text.includes(f.token), "no token in the output or the audit file");
  }
  return out;
}

Deno.test("deno task serve: the embedded file store when SECRET_BACKEND is unset, saying so; graceful stop", async () => {
  const f = await fixture();
  try {
    const proc = await spawn("deno", ["task", "serve"], ROOT, f.env);
    assert.match(proc.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    await exercise(f, proc.url);
    const out = await stopAndCheck(f, proc);
    assert.match(out, /backend: the embedded file store at .*SECRET_BACKEND is not set/);
    assert.match(out, /token file: .*tokens\.json \(1 tokens\)/);
  } finally {
    await Deno.remove(f.dir, { recursive: true });
  }
});

Deno.test({
  name: "on Node 20, server/serve.ts runs with @hono/node-server and answers the same",
  ignore: !nodeReady && !CI,
  async fn() {
    assert.ok(nodeReady, NPM_CI_HINT);
    const f = await fixture();
    try {
      const proc = await spawn(
        "node",
        ["--import", "./register.mjs", "--import", "tsx", "../../server/serve.ts"],
        NODE_DIR,
        { ...f.env, SECRET_BACKEND: "file" },
      );
      await exercise(f, proc.url);
      const out = await stopAndCheck(f, proc);
      assert.match(out, /backend: file \(SECRET_BACKEND\)/);
    } finally {
      await Deno.remove(f.dir, { recursive: true });
    }
  },
});

Deno.test("serve refuses a non-loopback address without TLS settings, and half a TLS setting", async () => {
  const lines: string[] = [];
  const base = { SECRET_BACKEND: "memory", KEYWARD_SERVER_PORT: "0" };
  await assert.rejects(
    startServer({ ...base, KEYWARD_SERVER_HOST: "0.0.0.0" }, (l) => lines.push(l)),
    /not a loopback address: set KEYWARD_SERVER_TLS_CERT_FILE/,
  );
  await assert.rejects(
    startServer({ ...base, KEYWARD_SERVER_TLS_CERT_FILE: "/x.pem" }, (l) => lines.push(l)),
    /set both/,
  );
  await assert.rejects(
    startServer({ ...base, KEYWARD_SERVER_PORT: "http" }, (l) => lines.push(l)),
    /KEYWARD_SERVER_PORT/,
  );
  assert.deepEqual(lines, [], "nothing started");
});

Deno.test("shutdown finishes the request in flight, then flushes the audit sink", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const io = captureIo({ env: { KEYWARD_TOKENS_FILE: join(dir, "tokens.json") } });
    await main(["token", "create", "--service", "slow", "--prefix", "database/"], io);
    const token = io.stdoutText.trim();
    const slow = new FaultyManager(
      new MemorySecretManager({ initial: { "database/app": "pw-0123456789" } }),
    );
    const running = await startServer(
      {
        SECRET_BACKEND: "memory",
        KEYWARD_SERVER_PORT: "0",
        KEYWARD_TOKENS_FILE: join(dir, "tokens.json"),
        KEYWARD_SERVER_AUDIT_FILE: join(dir, "audit.jsonl"),
      },
      () => {},
      { manager: slow },
    );
    slow.delayMs = 300;
    const pending = fetch(`${running.url}/v1/secrets/database/app`, {
      headers: { authorization: `Bearer ${token}` },
    });
    // Wait until the request is inside the app, then stop.
    while (running.inFlight() === 0) await new Promise((r) => setTimeout(r, 5));
    const stopped = running.shutdown();
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal((await res.json()).value, "pw-0123456789");
    await stopped;
    const audit = await Deno.readTextFile(join(dir, "audit.jsonl"));
    assert.match(
      audit,
      /"service":"slow","secret_name":"database\/app","action":"get","outcome":"ok"/,
    );
    await assert.rejects(fetch(`${running.url}/healthz`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("served by startServer: cache hits become one counted line, written on shutdown", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const io = captureIo({ env: { KEYWARD_TOKENS_FILE: join(dir, "tokens.json") } });
    await main(["token", "create", "--service", "signal", "--prefix", "database/"], io);
    const token = io.stdoutText.trim();
    let forward: ServeListener = () => {};
    const manager = withCache(
      new MemorySecretManager({ initial: { "database/app": "pw-0123456789" } }),
      { onServe: (e) => forward(e) },
    );
    const running = await startServer(
      {
        SECRET_BACKEND: "memory",
        KEYWARD_SERVER_PORT: "0",
        KEYWARD_TOKENS_FILE: join(dir, "tokens.json"),
        KEYWARD_SERVER_AUDIT_FILE: join(dir, "audit.jsonl"),
      },
      () => {},
      { manager },
    );
    forward = running.onServe;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${running.url}/v1/secrets/database/app`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
    await running.shutdown();
    const rows = (await Deno.readTextFile(join(dir, "audit.jsonl"))).trim().split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      rows.map((r) => `${r.service} ${r.secret_name} ${r.outcome} ${r.source} ${r.count}`),
      ["signal database/app ok backend 1", "signal database/app ok cache 4"],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const opensslFound = await new Deno.Command("openssl", { args: ["version"], stdout: "null" })
  .output().then((o) => o.success, () => false);
if (!opensslFound && !CI) console.warn("tests/server/serve_test.ts (TLS): skipped: no openssl");

Deno.test({
  name: "with TLS files the endpoint serves https, and may then bind a non-loopback address",
  ignore: !opensslFound && !CI,
}, async () => {
  const dir = await Deno.makeTempDir();
  const client = { current: undefined as Deno.HttpClient | undefined };
  try {
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    const ca = join(dir, "ca.pem");
    const caKey = join(dir, "ca-key.pem");
    const csr = join(dir, "leaf.csr");
    const ext = join(dir, "leaf.ext");
    await Deno.writeTextFile(
      ext,
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    );
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    for (
      const args of [
        ["req", "-x509", ...ec, "-keyout", caKey, "-out", ca, "-days", "1", "-subj", "/CN=test-ca"],
        ["req", ...ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"],
        [
          "x509",
          "-req",
          "-in",
          csr,
          "-CA",
          ca,
          "-CAkey",
          caKey,
          "-CAcreateserial",
          "-out",
          cert,
          "-days",
          "1",
          "-extfile",
          ext,
        ],
      ]
    ) {
      const made = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" })
        .output();
      assert.ok(made.success, new TextDecoder().decode(made.stderr));
    }
    const io = captureIo({ env: { KEYWARD_TOKENS_FILE: join(dir, "tokens.json") } });
    await main(["token", "create", "--service", "tls", "--prefix", "database/"], io);
    const running = await startServer(
      {
        SECRET_BACKEND: "memory",
        KEYWARD_SERVER_HOST: "127.0.0.1",
        KEYWARD_SERVER_PORT: "0",
        KEYWARD_SERVER_TLS_CERT_FILE: cert,
        KEYWARD_SERVER_TLS_KEY_FILE: key,
        KEYWARD_TOKENS_FILE: join(dir, "tokens.json"),
        KEYWARD_SERVER_AUDIT_FILE: join(dir, "audit.jsonl"),
      },
      () => {},
      {
        manager: new MemorySecretManager({ initial: { "database/app": "pw-0123456789" } }),
      },
    );
    try {
      assert.match(running.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      client.current = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(ca)] });
      const res = await fetch(`${running.url}/v1/secrets/database/app`, {
        headers: { authorization: `Bearer ${io.stdoutText.trim()}` },
        client: client.current,
      });
      assert.equal(res.status, 200);
      assert.equal((await res.json()).value, "pw-0123456789");
    } finally {
      await running.shutdown();
    }
    // The same settings with a non-loopback host pass the check (not bound here).
    const { readServerSettings } = await import("../../server/_settings.ts");
    const settings = readServerSettings({
      KEYWARD_SERVER_HOST: "0.0.0.0",
      KEYWARD_SERVER_TLS_CERT_FILE: cert,
      KEYWARD_SERVER_TLS_KEY_FILE: key,
    });
    assert.equal(settings.host, "0.0.0.0");
    assert.deepEqual(settings.tls, { certFile: cert, keyFile: key });
  } finally {
    client.current?.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Sends one request with the request line exactly as given (fetch would resolve dot segments). */
async function rawGet(
  url: string,
  path: string,
  token: string,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    await conn.write(new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\n` +
        "Connection: close\r\n\r\n",
    ));
    let text = "";
    const dec = new TextDecoder();
    for await (const chunk of conn.readable) text += dec.decode(chunk, { stream: true });
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
    return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    try {
      conn.close();
    } catch {
      // closed by the reader already
    }
  }
}

Deno.test("on a live Deno server, dot segments in the request line answer 400 before any backend call", async () => {
  const f = await fixture();
  const backend = new FaultyManager(
    new MemorySecretManager({ initial: { "database/app": f.canary } }),
  );
  const running = await startServer(f.env, () => {}, { manager: backend });
  try {
    const before = backend.totalCalls;
    for (
      const path of [
        "/v1/secrets/database/../admin/root",
        "/v1/secrets/database/%2E%2E/admin/root",
        "/v1/secrets/database/%2e./admin/root",
        "/v1/secrets/database/./app",
      ]
    ) {
      const { status, body } = await rawGet(running.url, path, f.token);
      assert.equal(status, 400, `${path}: ${body}`);
      assert.match(body, /"invalid_name"/, path);
      assert.ok(!body.includes(f.canary));
    }
    assert.equal(backend.totalCalls, before, "no backend call for a traversal");
    // The same request line without tricks is served.
    assert.equal((await rawGet(running.url, "/v1/secrets/database/app", f.token)).status, 200);
  } finally {
    await running.shutdown();
    await Deno.remove(f.dir, { recursive: true });
  }
});
