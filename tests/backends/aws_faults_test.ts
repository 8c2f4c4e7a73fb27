/**
 * What moto does not emulate (REFERENCE.md B.2, C.3), through an injected
 * request handler that answers in AWS's awsJson1_1 shape: throttling, 5xx,
 * access denied, KMS failures, quotas, names pending deletion, binary
 * secrets, AWS's exact label rules, paging quirks, timeouts. Every AWS error
 * message carries a canary that must never reach keyward's messages.
 */

import assert from "node:assert/strict";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { StandardRetryStrategy } from "@smithy/core/retry";
import { AwsSecretManager, KeywardAwsRetryStrategy } from "../../backends/aws.ts";
import {
  ConfigError,
  KeywardError,
  SecretAccessError,
  SecretConflictError,
  SecretNotFoundError,
  SecretWriteError,
  UnsupportedOperationError,
} from "../../core/errors.ts";

const CANARY = `canary-${crypto.randomUUID()}`;
const VID = (n: number) => `${String(n).padStart(8, "0")}-aaaa-bbbb-cccc-${"d".repeat(12)}`;

interface Call {
  op: string;
  body: Record<string, unknown>;
}
interface Answer {
  status?: number;
  body?: unknown;
  /** Never answers (until aborted, or at all with "ignore-abort"). */
  hang?: boolean | "ignore-abort";
  /** Throws a network-level error instead of answering. */
  network?: boolean;
}
type Script = (op: string, body: Record<string, unknown>, n: number) => Answer;

/** A request handler that answers from a script and records every attempt. */
class ScriptedHandler {
  readonly calls: Call[] = [];
  /** Called when a request starts hanging. */
  hanging?: () => void;
  constructor(readonly script: Script) {}

  count(op: string): number {
    return this.calls.filter((c) => c.op === op).length;
  }

  ops(): string[] {
    return this.calls.map((c) => c.op);
  }

  async handle(
    request: { headers: Record<string, string>; body?: unknown },
    options?: { abortSignal?: AbortSignal },
  ) {
    const op = (request.headers["x-amz-target"] ?? "").replace("secretsmanager.", "");
    const raw = request.body;
    const text = typeof raw === "string" ? raw : new TextDecoder().decode(raw as Uint8Array);
    const body = text ? JSON.parse(text) : {};
    this.calls.push({ op, body });
    const answer = this.script(op, body, this.count(op));
    if (answer.hang) {
      this.hanging?.();
      if (answer.hang === "ignore-abort") await new Promise(() => {});
      await new Promise((_, reject) => {
        const signal = options?.abortSignal;
        const fail = () =>
          reject(Object.assign(new Error("Request aborted"), { name: "AbortError" }));
        if (signal?.aborted) fail();
        signal?.addEventListener("abort", fail);
      });
    }
    if (answer.network) {
      throw Object.assign(new Error(`connect ECONNREFUSED ${CANARY}`), { code: "ECONNREFUSED" });
    }
    return {
      response: {
        statusCode: answer.status ?? 200,
        headers: {
          "content-type": "application/x-amz-json-1.1",
          "x-amzn-requestid": crypto.randomUUID(),
        },
        body: new TextEncoder().encode(JSON.stringify(answer.body ?? {})),
      },
    };
  }

  updateHttpClientConfig(): void {}
  httpHandlerConfigs(): Record<string, never> {
    return {};
  }
}

const awsError = (type: string, status = 400): Answer => ({
  status,
  body: { __type: type, message: `AWS said something about ${CANARY}` },
});

function manager(handler: ScriptedHandler, maxAttempts = 3): AwsSecretManager {
  return new AwsSecretManager({
    region: "eu-west-1",
    credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
    requestHandler: handler,
    retryDelayMs: () => 0,
    maxAttempts,
  });
}

/** Asserts no canary anywhere in an error, its cause chain or its JSON form. */
function assertNoCanary(err: unknown): void {
  let e: unknown = err;
  while (e) {
    const text = `${String(e)} ${(e as Error).stack ?? ""} ${JSON.stringify(e)}`;
    assert.ok(!text.includes(CANARY), `the canary leaked: ${text}`);
    e = (e as { cause?: unknown }).cause;
  }
}

function expectError<T extends KeywardError>(
  cls: new (...args: never[]) => T,
  check: (err: T) => void = () => {},
) {
  return (err: unknown): true => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    assertNoCanary(err);
    check(err);
    return true;
  };
}

const secretBody = (value: string, id = VID(1), stages = ["AWSCURRENT"]) => ({
  ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/key-AbCdEf",
  Name: "app/key",
  VersionId: id,
  SecretString: value,
  VersionStages: stages,
  CreatedDate: 1_700_000_000,
});

// ---- retries ----

Deno.test("aws: throttling is retried with backoff and the third attempt succeeds", async () => {
  const handler = new ScriptedHandler((_op, _b, n) =>
    n < 3 ? awsError("ThrottlingException") : { body: secretBody("after-throttle-0001") }
  );
  const m = manager(handler);
  assert.equal(await m.getSecret("app/key"), "after-throttle-0001");
  assert.equal(handler.count("GetSecretValue"), 3);
  await m.close();
});

Deno.test(
  "aws: throttling that outlasts maxAttempts is SecretAccessError (throttled) after that many attempts",
  async () => {
    const handler = new ScriptedHandler(() => awsError("ThrottlingException"));
    const m = manager(handler, 4);
    await assert.rejects(
      m.getSecret("app/key"),
      expectError(SecretAccessError, (err) => {
        assert.equal(err.reason, "throttled");
        assert.match(err.message, /after 4 attempts/);
        assert.equal(err.secret, "app/key");
        assert.equal(err.backend, "aws");
      }),
    );
    assert.equal(handler.count("GetSecretValue"), 4);
    await m.close();
  },
);

Deno.test("aws: an HTTP 429 without a known error name counts as throttling", async () => {
  const handler = new ScriptedHandler(() => ({ status: 429, body: { message: CANARY } }));
  const m = manager(handler, 2);
  await assert.rejects(
    m.listSecrets(),
    expectError(SecretAccessError, (err) => assert.equal(err.reason, "throttled")),
  );
  assert.equal(handler.count("ListSecrets"), 2);
  await m.close();
});

Deno.test(
  "aws: 5xx answers and network failures are retried, then SecretAccessError (unreachable)",
  async () => {
    for (
      const answer of [awsError("InternalServiceError", 500), awsError("ServiceUnavailable", 503)]
    ) {
      const handler = new ScriptedHandler(() => answer);
      const m = manager(handler);
      await assert.rejects(
        m.describeSecret("app/key"),
        expectError(SecretAccessError, (err) => {
          assert.equal(err.reason, "unreachable");
          assert.match(err.message, /after 3 attempts/);
        }),
      );
      assert.equal(handler.count("DescribeSecret"), 3);
      await m.close();
    }
    const handler = new ScriptedHandler((_op, _b, n) =>
      n === 1 ? { network: true } : { body: secretBody("after-reset-0001") }
    );
    const m = manager(handler);
    assert.equal(await m.getSecret("app/key"), "after-reset-0001");
    assert.equal(handler.count("GetSecretValue"), 2);
    await m.close();
  },
);

Deno.test("aws: AccessDeniedException is SecretAccessError (denied) and not retried", async () => {
  const handler = new ScriptedHandler(() => awsError("AccessDeniedException"));
  const m = manager(handler);
  await assert.rejects(
    m.getSecret("app/key", { stage: "pending" }),
    expectError(SecretAccessError, (err) => {
      assert.equal(err.reason, "denied");
      assert.equal(err.stage, "pending");
      assert.match(err.message, /AccessDeniedException/);
    }),
  );
  assert.equal(handler.count("GetSecretValue"), 1);
  await m.close();
});

Deno.test("aws: DecryptionFailure is SecretAccessError (denied) naming kms:Decrypt, not retried", async () => {
  const handler = new ScriptedHandler(() => awsError("DecryptionFailure"));
  const m = manager(handler);
  await assert.rejects(
    m.getSecret("app/key"),
    expectError(SecretAccessError, (err) => {
      assert.equal(err.reason, "denied");
      assert.match(err.message, /kms:Decrypt/);
    }),
  );
  assert.equal(handler.count("GetSecretValue"), 1);
  await m.close();
});

Deno.test(
  "aws: LimitExceededException is a clear SecretWriteError after one attempt (the SDK alone would retry it)",
  async () => {
    const script: Script = (op) =>
      op === "DescribeSecret"
        ? { body: { Name: "app/key", VersionIdsToStages: { [VID(1)]: ["AWSCURRENT"] } } }
        : awsError("LimitExceededException");
    const handler = new ScriptedHandler(script);
    const m = manager(handler, 5);
    await assert.rejects(
      m.setSecret("app/key", `new-${CANARY}`),
      expectError(SecretWriteError, (err) => {
        assert.match(err.message, /quota/);
        assert.match(err.message, /LimitExceededException/);
        assert.match(err.message, /not retried/);
      }),
    );
    assert.equal(handler.count("PutSecretValue"), 1);
    await m.close();

    // The SDK's standard classification calls it throttling and retries it.
    const plain = new ScriptedHandler(script);
    const client = new SecretsManagerClient({
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
      requestHandler: plain as never,
      retryStrategy: new StandardRetryStrategy({
        maxAttempts: 3,
        backoff: { setDelayBase: () => {}, computeNextBackoffDelay: () => 0 },
      }),
    });
    const sdkOnly = new AwsSecretManager({ client });
    await assert.rejects(sdkOnly.setSecret("app/key", "new-value-0001"), SecretWriteError);
    assert.equal(plain.count("PutSecretValue"), 3, "the SDK retried LimitExceededException");
    client.destroy();

    // An injected client built with keyward's strategy does not.
    const again = new ScriptedHandler(script);
    const ours = new SecretsManagerClient({
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
      requestHandler: again as never,
      retryStrategy: new KeywardAwsRetryStrategy({ maxAttempts: 3, retryDelayMs: () => 0 }),
    });
    await assert.rejects(
      new AwsSecretManager({ client: ours }).setSecret("app/key", "new-value-0001"),
      SecretWriteError,
    );
    assert.equal(again.count("PutSecretValue"), 1);
    ours.destroy();
  },
);

Deno.test("aws: LimitExceededException on a read is SecretAccessError (denied), not retried", async () => {
  const handler = new ScriptedHandler(() => awsError("LimitExceededException"));
  const m = manager(handler);
  await assert.rejects(
    m.listSecrets("app/"),
    expectError(SecretAccessError, (err) => assert.equal(err.reason, "denied")),
  );
  assert.equal(handler.count("ListSecrets"), 1);
  await m.close();
});

Deno.test("aws: EncryptionFailure on a write is SecretWriteError naming the KMS permission", async () => {
  const handler = new ScriptedHandler((op) =>
    op === "DescribeSecret" ? awsError("ResourceNotFoundException") : awsError("EncryptionFailure")
  );
  const m = manager(handler);
  await assert.rejects(
    m.setSecret("app/key", "value-0001"),
    expectError(SecretWriteError, (err) => assert.match(err.message, /kms:GenerateDataKey/)),
  );
  assert.deepEqual(handler.ops(), ["DescribeSecret", "CreateSecret"]);
  await m.close();
});

// ---- deletion state ----

Deno.test(
  "aws: reading a secret scheduled for deletion (InvalidRequestException) says so",
  async () => {
    const handler = new ScriptedHandler((op) =>
      op === "GetSecretValue"
        ? awsError("InvalidRequestException")
        : { body: { Name: "app/key", DeletedDate: 1_893_456_000, VersionIdsToStages: {} } }
    );
    const m = manager(handler);
    await assert.rejects(
      m.getSecret("app/key"),
      expectError(SecretNotFoundError, (err) => {
        assert.match(err.message, /scheduled for deletion on 2030-01-01T00:00:00\.000Z/);
        assert.match(err.message, /RestoreSecret/);
      }),
    );
    assert.deepEqual(handler.ops(), ["GetSecretValue", "DescribeSecret"]);
    await m.close();
  },
);

Deno.test(
  "aws: an InvalidRequestException that is not about deletion stays a plain access error",
  async () => {
    const handler = new ScriptedHandler((op) =>
      op === "GetSecretValue"
        ? awsError("InvalidRequestException")
        : { body: { Name: "app/key", VersionIdsToStages: { [VID(1)]: ["AWSCURRENT"] } } }
    );
    const m = manager(handler);
    await assert.rejects(
      m.getSecret("app/key"),
      expectError(SecretAccessError, (err) => {
        assert.match(err.message, /InvalidRequestException, HTTP 400/);
        assert.doesNotMatch(err.message, /deletion/);
      }),
    );
    await m.close();
  },
);

Deno.test(
  "aws: writing a name pending deletion is refused before any write, as AWS would refuse CreateSecret",
  async () => {
    const handler = new ScriptedHandler((op) =>
      op === "DescribeSecret"
        ? { body: { Name: "app/key", DeletedDate: 1_893_456_000, VersionIdsToStages: {} } }
        : awsError("InvalidRequestException")
    );
    const m = manager(handler);
    await assert.rejects(
      m.setSecret("app/key", `value-${CANARY}`),
      expectError(SecretWriteError, (err) => assert.match(err.message, /scheduled for deletion/)),
    );
    assert.deepEqual(handler.ops(), ["DescribeSecret"]);
    await assert.rejects(
      m.promote("app/key", VID(1)),
      expectError(SecretWriteError, (err) => assert.match(err.message, /scheduled for deletion/)),
    );
    await m.close();
  },
);

Deno.test(
  "aws: a secret deleted between the check and the write (AWS's InvalidRequestException) says so",
  async () => {
    let describes = 0;
    const handler = new ScriptedHandler((op) => {
      if (op === "DescribeSecret") {
        describes += 1;
        return describes === 1
          ? { body: { Name: "app/key", VersionIdsToStages: { [VID(1)]: ["AWSCURRENT"] } } }
          : { body: { Name: "app/key", DeletedDate: 1_893_456_000, VersionIdsToStages: {} } };
      }
      return {
        status: 400,
        body: {
          __type: "InvalidRequestException",
          message:
            `You can't perform this operation on the secret because it was marked for deletion. ${CANARY}`,
        },
      };
    });
    const m = manager(handler);
    await assert.rejects(
      m.setSecret("app/key", "value-0001"),
      expectError(SecretWriteError, (err) => assert.match(err.message, /scheduled for deletion/)),
    );
    assert.deepEqual(handler.ops(), ["DescribeSecret", "PutSecretValue", "DescribeSecret"]);
    await m.close();
  },
);

Deno.test(
  "aws: CreateSecret racing a deletion (AWS's InvalidRequestException) is explained the same way",
  async () => {
    let describes = 0;
    const handler = new ScriptedHandler((op) => {
      if (op === "DescribeSecret") {
        describes += 1;
        return describes === 1
          ? awsError("ResourceNotFoundException")
          : { body: { Name: "app/key", DeletedDate: 1_893_456_000, VersionIdsToStages: {} } };
      }
      return awsError("InvalidRequestException");
    });
    const m = manager(handler);
    await assert.rejects(
      m.setSecret("app/key", "value-0001"),
      expectError(SecretWriteError, (err) => assert.match(err.message, /scheduled for deletion/)),
    );
    assert.deepEqual(handler.ops(), ["DescribeSecret", "CreateSecret", "DescribeSecret"]);
    await m.close();
  },
);

// ---- values ----

Deno.test("aws: a binary secret is refused clearly and never decoded", async () => {
  const binary = btoa(`binary-${CANARY}`);
  const handler = new ScriptedHandler(() => ({
    body: {
      Name: "app/key",
      VersionId: VID(1),
      SecretBinary: binary,
      VersionStages: ["AWSCURRENT"],
    },
  }));
  const m = manager(handler);
  await assert.rejects(
    m.getSecret("app/key"),
    expectError(UnsupportedOperationError, (err) => {
      assert.match(err.message, /SecretBinary/);
      assert.ok(!err.message.includes(binary));
    }),
  );
  await m.close();
});

Deno.test("aws: a version without any value is SecretNotFoundError", async () => {
  const handler = new ScriptedHandler(() => ({
    body: { Name: "app/key", VersionId: VID(1), VersionStages: ["AWSCURRENT"] },
  }));
  const m = manager(handler);
  await assert.rejects(m.getSecret("app/key"), expectError(SecretNotFoundError));
  await m.close();
});

Deno.test("aws: reads ask for the AWS label of the stage, or the version id", async () => {
  const handler = new ScriptedHandler((_op, body) => ({
    body: secretBody("label-value-0001", VID(2), [body.VersionId ? "AWSPREVIOUS" : "AWSPENDING"]),
  }));
  const m = manager(handler);
  await m.getSecret("app/key", { stage: "pending" });
  await m.getSecret("app/key", { stage: "previous" });
  await m.getSecret("app/key", { version: VID(2) });
  assert.deepEqual(handler.calls.map((c) => c.body), [
    { SecretId: "app/key", VersionStage: "AWSPENDING" },
    { SecretId: "app/key", VersionStage: "AWSPREVIOUS" },
    { SecretId: "app/key", VersionId: VID(2) },
  ]);
  await assert.rejects(
    m.getSecret("app/key", { version: VID(2), stage: "current" }),
    expectError(
      SecretNotFoundError,
      (err) => assert.match(err.message, /does not hold that stage/),
    ),
  );
  const before = handler.calls.length;
  await assert.rejects(
    m.getSecret("app/key", { version: "7" }),
    expectError(SecretNotFoundError, (err) => assert.equal(err.version, "7")),
  );
  assert.equal(handler.calls.length, before, "an id AWS cannot have is not asked for");
  await m.close();
});

// ---- label rules where moto deviates ----

function stagedScript(
  map: Record<string, string[]>,
  onUpdate: (body: Record<string, unknown>) => Answer = () => ({ body: {} }),
): Script {
  return (op, body) => {
    switch (op) {
      case "DescribeSecret":
        return { body: { Name: "app/key", CreatedDate: 1_700_000_000, VersionIdsToStages: map } };
      case "ListSecretVersionIds":
        return {
          body: {
            Name: "app/key",
            Versions: Object.entries(map).map(([id, stages], i) => ({
              VersionId: id,
              VersionStages: stages,
              CreatedDate: 1_700_000_000 + i,
            })),
          },
        };
      case "UpdateSecretVersionStage":
        return onUpdate(body);
      default:
        return awsError("InvalidParameterException");
    }
  };
}

Deno.test(
  "aws: promote() names the version AWSCURRENT leaves (AWS requires RemoveFromVersionId) and clears AWSPENDING",
  async () => {
    const handler = new ScriptedHandler(
      stagedScript({
        [VID(1)]: ["AWSPREVIOUS"],
        [VID(2)]: ["AWSCURRENT"],
        [VID(3)]: ["AWSPENDING"],
      }),
    );
    const m = manager(handler);
    const promoted = await m.promote("app/key", VID(3));
    assert.deepEqual(promoted.stages, ["current"]);
    assert.equal(promoted.createdAt.getTime(), 1_700_000_002_000);
    const updates = handler.calls.filter((c) => c.op === "UpdateSecretVersionStage");
    assert.deepEqual(updates.map((c) => c.body), [
      {
        SecretId: "app/key",
        VersionStage: "AWSCURRENT",
        MoveToVersionId: VID(3),
        RemoveFromVersionId: VID(2),
      },
      { SecretId: "app/key", VersionStage: "AWSPENDING", RemoveFromVersionId: VID(3) },
    ]);
    await m.close();
  },
);

Deno.test("aws: promoting the current version sends no label change", async () => {
  const handler = new ScriptedHandler(
    stagedScript({ [VID(1)]: ["AWSPREVIOUS"], [VID(2)]: ["AWSCURRENT"] }),
  );
  const m = manager(handler);
  const again = await m.promote("app/key", VID(2));
  assert.deepEqual(again.stages, ["current"]);
  assert.equal(handler.count("UpdateSecretVersionStage"), 0);
  await m.close();
});

Deno.test(
  "aws: a promote that finds AWSCURRENT moved (AWS's InvalidParameterException) is SecretConflictError",
  async () => {
    const handler = new ScriptedHandler(
      stagedScript(
        { [VID(1)]: ["AWSCURRENT"], [VID(2)]: ["AWSPENDING"] },
        () => awsError("InvalidParameterException"),
      ),
    );
    const m = manager(handler);
    await assert.rejects(
      m.promote("app/key", VID(2)),
      expectError(SecretConflictError, (err) => assert.equal(err.version, VID(2))),
    );
    await m.close();
  },
);

Deno.test(
  "aws: promote() of a version AWS does not list is SecretNotFoundError before any label change",
  async () => {
    const handler = new ScriptedHandler(stagedScript({ [VID(1)]: ["AWSCURRENT"] }));
    const m = manager(handler);
    await assert.rejects(
      m.promote("app/key", VID(9)),
      expectError(SecretNotFoundError, (err) => assert.equal(err.version, VID(9))),
    );
    assert.equal(handler.count("UpdateSecretVersionStage"), 0);
    await m.close();
  },
);

Deno.test("aws: describeSecret() drops label-less versions, as AWS does", async () => {
  const handler = new ScriptedHandler((op) =>
    op === "DescribeSecret"
      ? {
        body: {
          Name: "app/key",
          CreatedDate: 1_700_000_000,
          LastChangedDate: 1_700_000_500,
          VersionIdsToStages: { [VID(1)]: [], [VID(2)]: ["AWSPREVIOUS"], [VID(3)]: ["AWSCURRENT"] },
        },
      }
      : {
        body: {
          Versions: [
            { VersionId: VID(3), CreatedDate: 1_700_000_300 },
            { VersionId: VID(2), CreatedDate: 1_700_000_200 },
          ],
          NextToken: "",
        },
      }
  );
  const m = manager(handler);
  const meta = await m.describeSecret("app/key");
  assert.deepEqual(meta.versions.map((v) => [v.version, v.stages, v.createdAt.getTime()]), [
    [VID(2), ["previous"], 1_700_000_200_000],
    [VID(3), ["current"], 1_700_000_300_000],
  ]);
  assert.equal(meta.createdAt?.getTime(), 1_700_000_000_000);
  assert.equal(meta.updatedAt?.getTime(), 1_700_000_500_000);
  assert.equal(meta.deletionScheduledAt, undefined);
  await m.close();
});

// ---- paging ----

Deno.test(
  "aws: listSecrets() follows a NextToken that comes with an empty page, and filters client-side",
  async () => {
    const pages: Record<string, unknown> = {
      "": { SecretList: [], NextToken: "page-2" },
      "page-2": { SecretList: [{ Name: "app/b" }, { Name: "apple/x" }], NextToken: "page-3" },
      "page-3": { SecretList: [{ Name: "app/a" }, { Name: "app/gone", DeletedDate: 1 }] },
    };
    const handler = new ScriptedHandler((_op, body) => ({
      body: pages[String(body.NextToken ?? "")],
    }));
    const m = manager(handler);
    assert.deepEqual(await m.listSecrets("app/"), ["app/a", "app/b"]);
    assert.deepEqual(handler.calls.map((c) => c.body), [
      { MaxResults: 100, Filters: [{ Key: "name", Values: ["app/"] }] },
      { MaxResults: 100, NextToken: "page-2", Filters: [{ Key: "name", Values: ["app/"] }] },
      { MaxResults: 100, NextToken: "page-3", Filters: [{ Key: "name", Values: ["app/"] }] },
    ]);
    await m.close();
  },
);

Deno.test("aws: a NextToken that repeats is an error, not an endless loop", async () => {
  const handler = new ScriptedHandler(() => ({ body: { SecretList: [], NextToken: "same" } }));
  const m = manager(handler);
  await assert.rejects(
    m.listSecrets(),
    expectError(SecretAccessError, (err) => assert.equal(err.reason, "damaged")),
  );
  assert.equal(handler.count("ListSecrets"), 2);
  await m.close();
});

// ---- time and cancellation ----

Deno.test("aws: a call that gets no answer within timeoutMs is SecretAccessError (timeout)", async () => {
  for (const hang of [true, "ignore-abort"] as const) {
    const handler = new ScriptedHandler(() => ({ hang }));
    const m = new AwsSecretManager({
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
      requestHandler: handler,
      timeoutMs: 30,
    });
    await assert.rejects(
      m.getSecret("app/key"),
      expectError(SecretAccessError, (err) => {
        assert.equal(err.reason, "timeout");
        assert.match(err.message, /30 ms/);
      }),
    );
    await m.close();
  }
});

Deno.test("aws: the caller's signal cancels a call in flight with its reason", async () => {
  const handler = new ScriptedHandler(() => ({ hang: true }));
  const m = manager(handler);
  const controller = new AbortController();
  const reason = new Error("caller gave up");
  handler.hanging = () => controller.abort(reason);
  await assert.rejects(
    m.getSecret("app/key", { signal: controller.signal }),
    (err: unknown) => err === reason,
  );
  assert.equal(handler.count("GetSecretValue"), 1, "the request had started");
  const aborted = new AbortController();
  aborted.abort(reason);
  await assert.rejects(
    m.listSecrets("", { signal: aborted.signal }),
    (err: unknown) => err === reason,
  );
  assert.equal(handler.count("ListSecrets"), 0);
  await m.close();
});

// ---- credentials and options ----

Deno.test("aws: credentials that cannot be resolved are SecretAccessError (denied)", async () => {
  const handler = new ScriptedHandler(() => ({ body: secretBody("never-0001") }));
  const m = new AwsSecretManager({
    region: "eu-west-1",
    credentials: () =>
      Promise.reject(
        Object.assign(new Error(`no credentials ${CANARY}`), { name: "CredentialsProviderError" }),
      ),
    requestHandler: handler,
  });
  await assert.rejects(
    m.getSecret("app/key"),
    expectError(SecretAccessError, (err) => {
      assert.equal(err.reason, "denied");
      assert.match(err.message, /credentials/);
    }),
  );
  assert.equal(handler.calls.length, 0);
  await m.close();
});

Deno.test("aws: bad options are ConfigError naming the option, at construction", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ region: "EU West" }, /option region/],
    [{ endpoint: "ftp://example" }, /option endpoint/],
    [{ endpoint: "not a url" }, /option endpoint/],
    [{ maxAttempts: 0 }, /maxAttempts/],
    [{ maxAttempts: 11 }, /maxAttempts/],
    [{ timeoutMs: 0 }, /option timeoutMs/],
    [{ client: new SecretsManagerClient({}), region: "eu-west-1" }, /excludes region/],
  ];
  for (const [options, pattern] of cases) {
    assert.throws(
      () => new AwsSecretManager(options as never),
      (err: unknown) => err instanceof ConfigError && pattern.test(err.message),
      JSON.stringify(Object.keys(options)),
    );
  }
});

Deno.test("aws: a closed manager refuses calls and closing twice is harmless", async () => {
  const handler = new ScriptedHandler(() => ({ body: secretBody("closed-0001") }));
  const m = manager(handler);
  await m.close();
  await m.close();
  await assert.rejects(
    m.getSecret("app/key"),
    (err: unknown) => err instanceof KeywardError && err.code === "closed",
  );
  assert.equal(handler.calls.length, 0);
});

// ---- logs ----

Deno.test(
  "aws: retries and missing secrets are logged under keyward's category, never with a value",
  async () => {
    const records: LogRecord[] = [];
    await configure({
      reset: true,
      sinks: { buffer: (record) => records.push(record) },
      loggers: [
        { category: ["keyward"], lowestLevel: "debug", sinks: ["buffer"] },
        { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
      ],
    });
    try {
      const handler = new ScriptedHandler((_op, body, n) => {
        if (body.SecretId === "app/missing") return awsError("ResourceNotFoundException");
        return n === 1 ? awsError("ThrottlingException") : { body: secretBody(`value-${CANARY}`) };
      });
      const m = manager(handler);
      assert.equal(await m.getSecret("app/key"), `value-${CANARY}`);
      await assert.rejects(m.getSecret("app/missing"), SecretNotFoundError);
      await m.close();
      const text = records.map((r) =>
        `${r.category.join(".")} ${r.level} ${r.message.map(String).join("")} ${
          JSON.stringify(r.properties)
        }`
      );
      assert.ok(
        text.some((t) =>
          t.startsWith("keyward.backend.aws warning") && /ThrottlingException/.test(t)
        ),
        text.join("\n"),
      );
      assert.ok(text.some((t) => /app\/missing/.test(t)), "the missing secret is named");
      for (const t of text) assert.ok(!t.includes(CANARY), `a log line holds the value: ${t}`);
    } finally {
      await reset();
    }
  },
);
