/**
 * The leak canary over every path that exists: each backend's errors (and
 * their cause chains), the cache's stale warnings, audit events, every CLI
 * command other than an explicit `get`, and the demo.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parse } from "dotenv";
import { withAudit } from "../../audit/audited_manager.ts";
import { JsonLinesAuditSink } from "../../audit/jsonl_sink.ts";
import { type AwsSdkClient, AwsSecretManager } from "../../backends/aws.ts";
import { envKeyFor, EnvSecretManager } from "../../backends/env.ts";
import { FileSecretManager, generateFileKey } from "../../backends/file.ts";
import { MemorySecretManager } from "../../backends/memory.ts";
import { VaultSecretManager } from "../../backends/vault.ts";
import { withCache } from "../../cache/cached_manager.ts";
import { main } from "../../cli.ts";
import { KeywardError } from "../../core/errors.ts";
import type { SecretManager } from "../../core/types.ts";
import { type CanaryContext, captureIo, runCanary } from "../../testing/canary.ts";
import { FaultyManager } from "../../testing/faults.ts";
import { RecordingAuditSink } from "../../testing/recording_sink.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Runs `op`, expecting it to fail; records the error for the canary scan. */
async function failing(ctx: CanaryContext, op: () => Promise<unknown>): Promise<unknown> {
  try {
    await op();
  } catch (err) {
    ctx.recordError(err);
    return err;
  }
  return undefined;
}

/** Every failing operation a backend offers, each touching the canary's name or value. */
async function exerciseErrors(m: SecretManager, ctx: CanaryContext): Promise<unknown[]> {
  const { name, value } = ctx.canary;
  const ops: (() => Promise<unknown>)[] = [
    () => m.getSecret(`${name}-missing`),
    () => m.getSecret(name, { stage: "pending" }),
    () => m.getSecret(name, { version: "999" }),
    () => m.getSecret(name, { field: "no_such_field" }),
    () => m.setSecret(name, `${value}\uD800`),
    () => m.setSecret(name, value.repeat(2000)),
    () => m.setSecret(name, { "bad field!": value }),
    () => m.setSecret(name, { ok: value, n: 42 as unknown as string }),
    () => m.setSecret(name, `${value}-next`, { ifVersion: "999" }),
    () => m.setSecret(`${name}-missing`, value, { stage: "pending" }),
    () => m.promote(name, "999"),
    () => m.deleteSecret(`${name}-missing`),
    () => m.describeSecret(`${name}-missing`),
  ];
  const errors: unknown[] = [];
  for (const op of ops) {
    const err = await failing(ctx, op);
    if (err !== undefined) errors.push(err);
  }
  return errors;
}

function assertKeywardErrors(errors: unknown[], atLeast: number): void {
  assert.ok(errors.length >= atLeast, `expected at least ${atLeast} errors, got ${errors.length}`);
  for (const err of errors) assert.ok(err instanceof KeywardError, String(err));
}

Deno.test("canary: the memory backend's errors hold no value, down their cause chains", async () => {
  const m = new MemorySecretManager();
  const report = await runCanary(async (ctx) => {
    assertKeywardErrors(await exerciseErrors(m, ctx), 12);
    await m.close();
    await failing(ctx, () => m.getSecret(ctx.canary.name));
  }, { manager: m });
  assert.ok(report.logs.some((r) => r.level === "warning"), "the not-found warning was captured");
  assert.equal(report.errors.length, 14);
});

Deno.test("canary: the env backend's errors hold no value", async () => {
  let m: EnvSecretManager | undefined;
  await runCanary(async (ctx) => {
    const errors = await exerciseErrors(m!, ctx);
    assertKeywardErrors(errors, 12);
  }, {
    plant: ({ name, value }) => {
      const env: Record<string, string> = { [envKeyFor(name)]: value };
      m = new EnvSecretManager({ lookup: (k) => env[k], dotenv: `OTHER_KEY=${value}-dotenv\n` });
    },
  });
});

Deno.test("canary: the file backend's errors hold no value, also with a wrong key or a damaged store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-canary-file-" });
  try {
    const path = `${dir}/store.json`;
    const key = generateFileKey();
    const m = new FileSecretManager({ path, key });
    await runCanary(async (ctx) => {
      assertKeywardErrors(await exerciseErrors(m, ctx), 12);
      const wrongKey = new FileSecretManager({ path, key: generateFileKey() });
      await failing(ctx, () => wrongKey.getSecret(ctx.canary.name));
      await failing(ctx, () => wrongKey.setSecret(ctx.canary.name, `${ctx.canary.value}-2`));
      await wrongKey.close();
      const damagedPath = `${dir}/damaged.json`;
      await Deno.writeTextFile(
        damagedPath,
        `{"format": "keyward-file-store", "x": "${ctx.canary.value}"`,
      );
      const damaged = new FileSecretManager({ path: damagedPath, key });
      const err = await failing(ctx, () => damaged.getSecret(ctx.canary.name));
      assert.ok(err instanceof KeywardError, String(err));
      await damaged.close();
    }, { manager: m });
    await m.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A Vault stand-in that echoes the canary in every answer's body. */
function hostileVault(status: number, body: string): typeof fetch {
  return () =>
    Promise.resolve(
      new Response(body, { status, headers: { "content-type": "application/json" } }),
    );
}

Deno.test("canary: the Vault backend's errors hold no token and no response body", async () => {
  // The canary as the Vault token.
  await runCanary(async (ctx) => {
    for (const status of [400, 403, 404, 412, 429, 500, 503]) {
      const vault = new VaultSecretManager({
        address: "http://127.0.0.1:8200",
        auth: { token: ctx.canary.value },
        retry: { attempts: 1 },
        fetch: hostileVault(status, JSON.stringify({ errors: [`echo ${ctx.canary.value}`] })),
      });
      assertKeywardErrors(await exerciseErrors(vault, ctx), 10);
      await vault.close();
    }
  }, { plant: () => {} });
  // The canary in response bodies: error texts, malformed JSON, a data blob.
  await runCanary(async (ctx) => {
    const errors: unknown[] = [];
    const bodies = [
      JSON.stringify({ errors: [`permission denied: ${ctx.canary.value}`] }),
      `not json ${ctx.canary.value}`,
      JSON.stringify({ data: { data: 7, metadata: { note: ctx.canary.value } } }),
    ];
    for (const body of bodies) {
      for (const status of [200, 400, 500]) {
        const vault = new VaultSecretManager({
          address: "http://127.0.0.1:8200",
          auth: { token: "hvs-test-token-not-a-canary" },
          retry: { attempts: 1 },
          fetch: hostileVault(status, body),
        });
        for (
          const op of [
            () => vault.getSecret(ctx.canary.name),
            () => vault.listSecrets(""),
            () => vault.describeSecret(ctx.canary.name),
            () => vault.setSecret(ctx.canary.name, "written-value-01"),
          ]
        ) {
          const err = await failing(ctx, op);
          if (err !== undefined) errors.push(err);
        }
        await vault.close();
      }
    }
    // Every malformed or failing answer is refused with a keyward error.
    assertKeywardErrors(errors, 30);
  }, { plant: () => {} });
});

Deno.test("canary: the AWS backend's errors hold no value, message or response of the SDK", async () => {
  await runCanary(async (ctx) => {
    const sdkErrors = [
      "ResourceNotFoundException",
      "InvalidRequestException",
      "AccessDeniedException",
      "ThrottlingException",
      "InternalServiceError",
      "DecryptionFailure",
    ].map((name) =>
      Object.assign(new Error(`${name}: ${ctx.canary.value}`), {
        name,
        $fault: "client",
        $metadata: { httpStatusCode: 400, requestId: ctx.canary.value },
        $response: { body: ctx.canary.value },
      })
    );
    const failures: unknown[] = [...sdkErrors, new TypeError(`fetch failed ${ctx.canary.value}`)];
    for (const failure of failures) {
      const client: AwsSdkClient = {
        send: () => Promise.reject(failure),
        destroy: () => {},
      };
      const aws = new AwsSecretManager({ client });
      assertKeywardErrors(await exerciseErrors(aws, ctx), 6);
      await aws.close();
    }
    // A malformed answer holding the canary where a value should not be.
    const odd: AwsSdkClient = {
      send: () => Promise.resolve({ Name: ctx.canary.value, SecretBinary: ctx.canary.value }),
      destroy: () => {},
    };
    const aws = new AwsSecretManager({ client: odd });
    await failing(ctx, () => aws.getSecret(ctx.canary.name));
    await aws.close();
  }, { plant: () => {} });
});

Deno.test("canary: the cache's stale warnings and refused reads hold no value", async () => {
  let clock = 1_000_000;
  const faulty = new FaultyManager(new MemorySecretManager());
  const cached = withCache(faulty, { ttlMs: 1_000, staleIfErrorMs: 60_000, now: () => clock });
  const report = await runCanary(async (ctx) => {
    assert.equal(await cached.getSecret(ctx.canary.name), ctx.canary.value);
    clock += 2_000;
    faulty.fault = "down";
    assert.equal(await cached.getSecret(ctx.canary.name), ctx.canary.value);
    faulty.fault = "deny";
    clock += 2_000;
    await failing(ctx, () => cached.getSecret(ctx.canary.name));
    faulty.fault = "throttle";
    await failing(ctx, () => cached.getSecret(`${ctx.canary.name}-other`));
  }, { manager: faulty });
  assert.ok(
    report.logs.some((r) => r.category.includes("cache") && r.level === "warning"),
    "a stale-serve warning was logged",
  );
  await cached.close();
});

Deno.test("canary: audit events hold no value, for reads, writes, failures and stale serves", async () => {
  let clock = 2_000_000;
  const sink = new RecordingAuditSink();
  const faulty = new FaultyManager(new MemorySecretManager());
  const audited = withAudit(faulty, sink, { service: "canary", now: () => clock });
  const cached = withCache(audited, {
    ttlMs: 1_000,
    staleIfErrorMs: 60_000,
    now: () => clock,
    onServe: (e) => audited.recordServe(e),
  });
  const report = await runCanary(async (ctx) => {
    await cached.getSecret(ctx.canary.name);
    await cached.getSecret(ctx.canary.name);
    const next = await cached.setSecret(ctx.canary.name, `${ctx.canary.value}-2`, {
      stage: "pending",
    });
    await cached.promote(ctx.canary.name, next.version);
    await cached.describeSecret(ctx.canary.name);
    await cached.listSecrets("canary/");
    clock += 120_000;
    faulty.fault = "down";
    await failing(ctx, () => cached.getSecret(ctx.canary.name));
    faulty.fault = "none";
    await exerciseErrors(cached, ctx);
    await cached.deleteSecret(ctx.canary.name);
    await audited.flush();
  }, { manager: audited, audit: sink });
  assert.ok(report.audit.length >= 8, `audit events: ${report.audit.length}`);
  await cached.close();
});

Deno.test("canary: the JSON-lines audit sink writes no value", async () => {
  const chunks: Uint8Array[] = [];
  const sink = new JsonLinesAuditSink(new WritableStream({ write: (c) => void chunks.push(c) }));
  const audited = withAudit(new MemorySecretManager(), sink, { service: "canary" });
  const lines = (): string[] =>
    new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c]))).split("\n")
      .filter((l) => l !== "");
  const report = await runCanary(async (ctx) => {
    await audited.getSecret(ctx.canary.name);
    await audited.getSecret(ctx.canary.name, { field: "value" });
    audited.recordServe({ name: ctx.canary.name, source: "cache" });
    await exerciseErrors(audited, ctx);
    await audited.deleteSecret(ctx.canary.name);
    await audited.close();
  }, { manager: audited, audit: lines });
  assert.ok(report.audit.length >= 10, `audit lines: ${report.audit.length}`);
});

Deno.test("canary: every CLI command other than an explicit get prints no value", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-canary-cli-" });
  try {
    const env = {
      SECRET_BACKEND: "file",
      KEYWARD_FILE_PATH: `${dir}/secrets.json`,
      KEYWARD_FILE_KEY: generateFileKey(),
    };
    const store = new FileSecretManager({ path: env.KEYWARD_FILE_PATH, key: env.KEYWARD_FILE_KEY });
    const io = captureIo({ env });
    const codes: number[] = [];
    await runCanary(async ({ canary }) => {
      const run = async (args: string[], stdin = "") => {
        const cmdIo = captureIo({ env, stdin });
        const code = await main(args, cmdIo);
        io.stdout(cmdIo.stdoutText);
        io.stderr(cmdIo.stderrText);
        codes.push(code);
      };
      const n = canary.name;
      await store.setSecret(`${n}-fields`, { user: "app", password: canary.value });
      for (const json of [[], ["--json"]]) {
        await run(["list", ...json]);
        await run(["list", "canary/", ...json]);
        await run(["describe", n, ...json]);
        await run(["describe", `${n}-fields`, ...json]);
        await run(["set", n, "--stage", "pending", ...json], `${canary.value}-pending\n`);
        await run(["set", n, "--if-version", "999", ...json], `${canary.value}-conflict`);
        await run(["set", n, canary.value, ...json]);
        await run(["set", `${n}-huge`, ...json], canary.value.repeat(2000));
        await run(["promote", n, "2", ...json]);
        await run(["promote", n, "999", ...json]);
        await run(["delete", `${n}-missing`, "--yes", ...json]);
        await run(["keygen", "--out", `${dir}/k${json.length}.key`, ...json]);
        await run(["scan", "--no-values", "-", ...json], `x ${canary.value}`);
        await run(["--help", ...json]);
        // get's failures print no value either.
        await run(["get", `${n}-fields`, "--field", "missing", ...json]);
        await run(["get", n, "--version", "42", ...json]);
      }
      await run(["delete", `${n}-fields`, "--yes"]);
      // Commands wired in later (audit, rotate, ...): their help and their usage errors.
      const help = captureIo({ env });
      assert.equal(await main(["--help", "--json"], help), 0);
      const known = ["get", "list", "describe", "set", "promote", "delete", "keygen", "scan"];
      const names = (JSON.parse(help.stdoutText).commands as { name: string }[]).map((c) => c.name);
      for (const name of names.filter((c) => !known.includes(c))) {
        await run([name, "--help"]);
        await run([name]);
        await run([name, "--json", canary.name]);
      }
    }, { manager: store, io });
    assert.ok(codes.includes(0) && codes.some((c) => c !== 0), `exit codes ${codes}`);
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("canary: the demo prints none of the values it stores", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "demo"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const samples = Object.entries(parse(await Deno.readTextFile(`${ROOT}examples/sample.env`)));
  assert.ok(samples.length > 0);
  for (const [key, value] of samples) {
    await runCanary(({ io }) => {
      io.stdout(stdout);
      io.stderr(stderr);
    }, { name: key.toLowerCase(), value, captureLogs: false });
  }
});
