/**
 * Time limits (issue 12 items 15 and 16): one overall deadline per read on
 * every backend (`readDeadlineMs`, `SECRET_READ_DEADLINE_MS`), a per-attempt
 * timeout on AWS (`timeoutMs`, `AWS_TIMEOUT_MS`), and a shared abort signal
 * that costs one listener however many reads wait on it.
 */

import assert from "node:assert/strict";
import {
  DEFAULT_READ_DEADLINE_MS,
  MemorySecretManager,
  type ReadOptions,
  SecretAccessError,
  SecretManagerBase,
  type SecretMetadata,
  type SecretRead,
  UnsupportedOperationError,
  VaultSecretManager,
  withCache,
} from "../../mod.ts";
import { AwsSecretManager } from "../../backends/aws.ts";

/** A backend whose reads never answer and ignore their signal. */
class HangingBackend extends SecretManagerBase {
  reads = 0;
  constructor(deadlineMs: number) {
    super("hanging", deadlineMs);
  }
  protected doRead(_name: string, _opts: ReadOptions): Promise<SecretRead> {
    this.reads++;
    return new Promise(() => {});
  }
  protected doList(): Promise<string[]> {
    return Promise.resolve([]);
  }
  protected doDescribe(name: string): Promise<SecretMetadata> {
    return Promise.resolve({ name, backend: "hanging", versions: [] });
  }
  #no(op: string): Promise<never> {
    return Promise.reject(new UnsupportedOperationError(op, { backend: "hanging" }));
  }
  protected doSet(): Promise<never> {
    return this.#no("setSecret");
  }
  protected doPromote(): Promise<never> {
    return this.#no("promote");
  }
  protected doDelete(): Promise<never> {
    return this.#no("deleteSecret");
  }
  protected doDeprecate(): Promise<never> {
    return this.#no("deprecateVersion");
  }
  protected doDestroy(): Promise<never> {
    return this.#no("destroyVersion");
  }
}

Deno.test("the read deadline ends a read whose backend never answers, naming secret, backend and deadline", async () => {
  const m = new HangingBackend(40);
  await assert.rejects(m.getSecret("db/password", { stage: "current" }), (err: unknown) => {
    assert.ok(err instanceof SecretAccessError, String(err));
    assert.equal(err.code, "access");
    assert.equal(err.reason, "timeout");
    assert.equal(err.secret, "db/password");
    assert.equal(err.backend, "hanging");
    assert.match(err.message, /read deadline of 40 ms/);
    assert.match(err.message, /db\/password/);
    return true;
  });
  assert.equal(m.reads, 1);
  await m.close();
});

Deno.test("a caller's abort before the deadline surfaces the caller's reason, not the deadline", async () => {
  const m = new HangingBackend(60_000);
  const controller = new AbortController();
  const reason = new Error("caller gave up");
  const read = m.getSecret("db/password", { signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(read, (err: unknown) => err === reason);
  await m.close();
});

Deno.test("DEFAULT_READ_DEADLINE_MS is 10 s and readDeadlineMs must be a whole number", () => {
  assert.equal(DEFAULT_READ_DEADLINE_MS, 10_000);
  assert.throws(
    () => new MemorySecretManager({ readDeadlineMs: -1 }),
    /option readDeadlineMs of the memory backend/,
  );
  assert.throws(
    () =>
      new VaultSecretManager({
        address: "http://127.0.0.1:8200",
        auth: { token: "t" },
        readDeadlineMs: 1.5,
      }),
    /option readDeadlineMs of the vault backend/,
  );
});

/** An HTTP server that accepts requests and never answers them. */
function hangingHttp(): { url: string; requests: () => number; close: () => Promise<void> } {
  let count = 0;
  const release = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    count++;
    await release.promise;
    return new Response("late", { status: 503 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests: () => count,
    close: async () => {
      release.resolve();
      await server.shutdown();
    },
  };
}

Deno.test("a Vault that hangs ends within the read deadline even with many retries left", async () => {
  const vault = hangingHttp();
  const m = new VaultSecretManager({
    address: vault.url,
    auth: { token: "test-token" },
    timeoutMs: 100,
    retry: { attempts: 10 },
    readDeadlineMs: 250,
  });
  try {
    await assert.rejects(m.getSecret("db/password"), (err: unknown) => {
      assert.ok(err instanceof SecretAccessError, String(err));
      assert.equal(err.reason, "timeout");
      assert.equal(err.backend, "vault");
      assert.equal(err.secret, "db/password");
      assert.match(err.message, /read deadline of 250 ms/);
      return true;
    });
    // 10 attempts x 100 ms would be a second; the deadline stopped it after a few.
    assert.ok(vault.requests() < 10, `attempts made: ${vault.requests()}`);
  } finally {
    await m.close();
    await vault.close();
  }
});

Deno.test("a hanging AWS endpoint ends after the per-attempt timeout, retried once per attempt", async () => {
  const aws = hangingHttp();
  const m = new AwsSecretManager({
    region: "eu-west-1",
    endpoint: aws.url,
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
    timeoutMs: 100,
    maxAttempts: 2,
    retryDelayMs: () => 0,
    readDeadlineMs: 0, // only the per-attempt timeout limits this read
  });
  try {
    await assert.rejects(m.getSecret("app/key"), (err: unknown) => {
      assert.ok(err instanceof SecretAccessError, String(err));
      assert.equal(err.reason, "timeout");
      assert.equal(err.backend, "aws");
      assert.match(err.message, /within 100 ms per attempt/);
      assert.match(err.message, /after 2 attempts/);
      return true;
    });
    assert.equal(aws.requests(), 2, "each attempt reached the endpoint");
  } finally {
    await m.close();
    await aws.close();
  }
});

Deno.test("a hanging AWS endpoint also ends at the read deadline", async () => {
  const aws = hangingHttp();
  const m = new AwsSecretManager({
    region: "eu-west-1",
    endpoint: aws.url,
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
    timeoutMs: 60_000,
    readDeadlineMs: 100,
  });
  try {
    await assert.rejects(m.getSecret("app/key"), (err: unknown) => {
      assert.ok(err instanceof SecretAccessError, String(err));
      assert.match(err.message, /read deadline of 100 ms/);
      return true;
    });
  } finally {
    await m.close();
    await aws.close();
  }
});

/** Counts the `abort` listeners ever added to `signal`. */
function countingListeners(signal: AbortSignal): () => number {
  let added = 0;
  const add = signal.addEventListener.bind(signal);
  signal.addEventListener = ((type: string, ...rest: never[]) => {
    if (type === "abort") added++;
    return (add as (t: string, ...r: never[]) => void)(type, ...rest);
  }) as typeof signal.addEventListener;
  return () => added;
}

Deno.test("8,000 cached reads waiting on one shared signal add a bounded number of listeners", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const memory = new MemorySecretManager({ initial: { "db/password": "pw-0123456789" } });
  const slow = new Proxy(memory, {
    get(target, prop) {
      if (prop === "readSecret") {
        return async (name: string, opts?: ReadOptions) => {
          await gate;
          return target.readSecret(name, opts);
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const cache = withCache(slow);
  const controller = new AbortController();
  const listeners = countingListeners(controller.signal);
  const reads = Array.from(
    { length: 8_000 },
    () => cache.getSecret("db/password", { signal: controller.signal }),
  );
  assert.ok(listeners() <= 1, `listeners added: ${listeners()}`);
  release();
  const values = await Promise.all(reads);
  assert.ok(values.every((v) => v === "pw-0123456789"));

  // A second wave on another name, then an abort: every waiter gets the reason.
  let releaseAgain!: () => void;
  const held = new Promise<void>((r) => releaseAgain = r);
  const gated = withCache({
    ...memory,
    readSecret: async (name: string, opts?: ReadOptions) => {
      await held;
      return memory.readSecret(name, opts);
    },
  } as unknown as MemorySecretManager);
  const waiting = Array.from(
    { length: 8_000 },
    () => gated.getSecret("db/password", { signal: controller.signal }),
  );
  assert.ok(listeners() <= 2, `listeners added: ${listeners()}`);
  const reason = new Error("shutting down");
  controller.abort(reason);
  const outcomes = await Promise.allSettled(waiting);
  assert.ok(outcomes.every((o) => o.status === "rejected" && o.reason === reason));
  releaseAgain();
  await cache.close();
});

Deno.test("AWS_TIMEOUT_MS and SECRET_READ_DEADLINE_MS reach the backends; bad values are ConfigError naming them", async () => {
  const { build: buildAws } = await import("../../factory/_aws.ts");
  const { build: buildVault } = await import("../../factory/_vault.ts");
  const readTextFile = () => Promise.reject(new Error("no files here"));
  const aws = hangingHttp();
  // The SDK's default chain reads credentials from the process environment.
  const saved = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].map((k) => [k, Deno.env.get(k)]);
  Deno.env.set("AWS_ACCESS_KEY_ID", "AKIDTEST");
  Deno.env.set("AWS_SECRET_ACCESS_KEY", "test-secret");
  try {
    const m = await buildAws({
      env: {
        AWS_REGION: "eu-west-1",
        AWS_ENDPOINT_URL: aws.url,
        AWS_MAX_ATTEMPTS: "1",
        AWS_TIMEOUT_MS: "60000",
        SECRET_READ_DEADLINE_MS: "80",
      },
      readTextFile,
    });
    await assert.rejects(m.getSecret("app/key"), /read deadline of 80 ms/);
    await m.close();
  } finally {
    for (const [k, v] of saved) v === undefined ? Deno.env.delete(k!) : Deno.env.set(k!, v);
    await aws.close();
  }
  for (
    const [env, name] of [
      [{ AWS_REGION: "eu-west-1", AWS_TIMEOUT_MS: "0" }, "AWS_TIMEOUT_MS"],
      [{ AWS_REGION: "eu-west-1", AWS_TIMEOUT_MS: "5s" }, "AWS_TIMEOUT_MS"],
      [{ AWS_REGION: "eu-west-1", SECRET_READ_DEADLINE_MS: "-1" }, "SECRET_READ_DEADLINE_MS"],
    ] as const
  ) {
    await assert.rejects(buildAws({ env, readTextFile }), (err: unknown) => {
      assert.ok(err instanceof Error && err.message.startsWith(name), String(err));
      return true;
    });
  }
  await assert.rejects(
    buildVault({
      env: {
        VAULT_ADDR: "http://127.0.0.1:8200",
        VAULT_TOKEN: "t",
        SECRET_READ_DEADLINE_MS: "ten",
      },
      readTextFile,
    }),
    /SECRET_READ_DEADLINE_MS must be a whole number/,
  );
  const vault = hangingHttp();
  try {
    const m = await buildVault({
      env: { VAULT_ADDR: vault.url, VAULT_TOKEN: "t", SECRET_READ_DEADLINE_MS: "80" },
      readTextFile,
    });
    await assert.rejects(m.getSecret("db/password"), /read deadline of 80 ms/);
    await m.close();
  } finally {
    await vault.close();
  }
});
