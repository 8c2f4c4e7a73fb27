/**
 * The AWS backend with the real SDK against the moto server: the contract
 * suite and what moto emulates faithfully (paging, labels, idempotency,
 * scheduled deletion). What moto does not emulate is in aws_faults_test.ts.
 */

import assert from "node:assert/strict";
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import { AwsSecretManager } from "../../backends/aws.ts";
import { KeywardError, SecretAccessError } from "../../core/errors.ts";
import type { SecretManager } from "../../core/types.ts";
import { contractSuite } from "../../testing.ts";
import { type Counted, findMoto, freshAccountId, type Moto, motoManager } from "../_moto.ts";

const moto = await findMoto();
const ignore = moto === undefined;

/** A raw SDK client in the same moto account, as another AWS reader would be. */
function rawClient(m: Moto, accountId: string): SecretsManagerClient {
  const client = new SecretsManagerClient({
    region: "eu-west-1",
    endpoint: m.endpoint,
    credentials: { accessKeyId: "moto-test-key", secretAccessKey: "moto-test-secret" },
  });
  client.middlewareStack.add(
    (next) => (args) => {
      (args.request as { headers: Record<string, string> }).headers["x-moto-account-id"] =
        accountId;
      return next(args);
    },
    { step: "build", name: "keywardMotoAccount" },
  );
  return client;
}

async function labels(client: SecretsManagerClient, name: string) {
  const out = await client.send(new DescribeSecretCommand({ SecretId: name }));
  return out.VersionIdsToStages ?? {};
}

function motoTest(name: string, fn: (m: Moto) => Promise<void>): void {
  Deno.test({ name, ignore, fn: () => fn(moto!) });
}

// ---- the contract suite ----

let current: Counted | undefined;
for (
  const c of contractSuite({
    create: () => {
      current = motoManager(moto!);
      return current.manager;
    },
    scheduledDeletion: true,
    destroyIsEventual: true,
    ioCount: () => current!.commands(),
    dispose: (m: SecretManager) => m.close(),
  })
) {
  Deno.test({ name: `aws: ${c.name}`, ignore, fn: c.fn });
}

// ---- listing ----

motoTest("aws: listSecrets() follows every page and lists all 130 secrets", async (m) => {
  const { manager, commands } = motoManager(m);
  try {
    const names = Array.from({ length: 130 }, (_, i) => `bulk/s${String(i).padStart(3, "0")}`);
    for (let i = 0; i < names.length; i += 26) {
      await Promise.all(
        names.slice(i, i + 26).map((n) => manager.setSecret(n, `bulk-value-${n}`)),
      );
    }
    await manager.setSecret("other/one", "other-value-0001");
    const before = commands();
    const listed = await manager.listSecrets("bulk/");
    assert.deepEqual(listed, names);
    assert.equal(commands() - before, 2, "two pages of at most 100");
    assert.equal((await manager.listSecrets()).length, 131);
  } finally {
    await manager.close();
  }
});

motoTest("aws: listSecrets() matches the prefix case-sensitively", async (m) => {
  const { manager } = motoManager(m);
  try {
    await manager.setSecret("Team/key", "upper-value-0001");
    await manager.setSecret("team/key", "lower-value-0001");
    await manager.setSecret("team2/key", "other-value-0001");
    assert.deepEqual(await manager.listSecrets("team/"), ["team/key"]);
    assert.deepEqual(await manager.listSecrets("Team"), ["Team/key"]);
    assert.deepEqual(await manager.listSecrets("team"), ["team/key", "team2/key"]);
  } finally {
    await manager.close();
  }
});

// ---- stages ----

motoTest(
  "aws: stages are AWS's own labels, and promote() rolls forward and back",
  async (m) => {
    const { manager, accountId } = motoManager(m);
    const raw = rawClient(m, accountId);
    try {
      const v1 = await manager.setSecret("rot/db", "stage-value-0001");
      const v2 = await manager.setSecret("rot/db", "stage-value-0002");
      const p = await manager.setSecret("rot/db", "stage-value-0003", { stage: "pending" });
      assert.deepEqual(await labels(raw, "rot/db"), {
        [v1.version]: ["AWSPREVIOUS"],
        [v2.version]: ["AWSCURRENT"],
        [p.version]: ["AWSPENDING"],
      });
      // Other AWS readers get AWSCURRENT by default: the pending value is not served.
      const seen = await raw.send(new GetSecretValueCommand({ SecretId: "rot/db" }));
      assert.equal(seen.SecretString, "stage-value-0002");

      const promoted = await manager.promote("rot/db", p.version);
      assert.deepEqual(promoted.stages, ["current"]);
      const after = await labels(raw, "rot/db");
      assert.deepEqual(after[p.version], ["AWSCURRENT"], "AWSPENDING cleared");
      assert.deepEqual(after[v2.version], ["AWSPREVIOUS"]);
      assert.equal(await manager.getSecret("rot/db"), "stage-value-0003");

      // Rollback to previous.
      await manager.promote("rot/db", v2.version);
      assert.equal(await manager.getSecret("rot/db"), "stage-value-0002");
      assert.equal(await manager.getSecret("rot/db", { stage: "previous" }), "stage-value-0003");

      // Rollback to a version that lost every label (moto lists it as [], keyward drops it).
      const meta = await manager.describeSecret("rot/db");
      assert.ok(!meta.versions.some((v) => v.version === v1.version), "label-less version hidden");
      assert.deepEqual((await labels(raw, "rot/db"))[v1.version], []);
      const back = await manager.promote("rot/db", v1.version);
      assert.equal(back.version, v1.version);
      assert.equal(await manager.getSecret("rot/db"), "stage-value-0001");
      assert.equal(await manager.getSecret("rot/db", { stage: "previous" }), "stage-value-0002");
      assert.equal(
        await manager.getSecret("rot/db", { version: v2.version, stage: "previous" }),
        "stage-value-0002",
      );
      await assert.rejects(
        manager.getSecret("rot/db", { version: v2.version, stage: "current" }),
        (err: unknown) => err instanceof KeywardError && err.code === "not_found",
      );
    } finally {
      raw.destroy();
      await manager.close();
    }
  },
);

motoTest(
  "aws: a second pending write moves AWSPENDING off the first pending version",
  async (m) => {
    const { manager, accountId } = motoManager(m);
    const raw = rawClient(m, accountId);
    try {
      const v1 = await manager.setSecret("rot/key", "pending-base-0001");
      const p1 = await manager.setSecret("rot/key", "pending-first-0001", { stage: "pending" });
      const p2 = await manager.setSecret("rot/key", "pending-second-0001", { stage: "pending" });
      const map = await labels(raw, "rot/key");
      assert.deepEqual(map[v1.version], ["AWSCURRENT"]);
      assert.deepEqual(map[p1.version] ?? [], []);
      assert.deepEqual(map[p2.version], ["AWSPENDING"]);
      assert.equal(await manager.getSecret("rot/key", { stage: "pending" }), "pending-second-0001");
    } finally {
      raw.destroy();
      await manager.close();
    }
  },
);

// ---- values as other AWS readers see them ----

motoTest(
  "aws: a plain value is the SecretString itself and fields are a JSON SecretString",
  async (m) => {
    const { manager, accountId } = motoManager(m);
    const raw = rawClient(m, accountId);
    try {
      await manager.setSecret("fmt/plain", "plain-value-0001");
      await manager.setSecret("fmt/login", { user: "app", password: "field-pw-0001" });
      await manager.setSecret("fmt/single", { value: "single-field-0001" });
      const plain = await raw.send(new GetSecretValueCommand({ SecretId: "fmt/plain" }));
      assert.equal(plain.SecretString, "plain-value-0001");
      const login = await raw.send(new GetSecretValueCommand({ SecretId: "fmt/login" }));
      assert.deepEqual(JSON.parse(login.SecretString!), {
        password: "field-pw-0001",
        user: "app",
      });
      const single = await raw.send(new GetSecretValueCommand({ SecretId: "fmt/single" }));
      assert.equal(single.SecretString, "single-field-0001");
    } finally {
      raw.destroy();
      await manager.close();
    }
  },
);

motoTest(
  "aws: a JSON secret written by another tool reads back as stored, its members as fields",
  async (m) => {
    const { manager, accountId } = motoManager(m);
    const raw = rawClient(m, accountId);
    try {
      const rds = '{ "username": "admin", "password": "rds-pw-0001", "port": 5432, "ssl": true }';
      await manager.setSecret("fmt/rds", "placeholder-0001");
      await raw.send(new PutSecretValueCommand({ SecretId: "fmt/rds", SecretString: rds }));
      assert.equal(await manager.getSecret("fmt/rds"), rds, "unchanged text without field");
      assert.equal(await manager.getSecret("fmt/rds", { field: "password" }), "rds-pw-0001");
      assert.equal(await manager.getSecret("fmt/rds", { field: "port" }), "5432");
      assert.equal(await manager.getSecret("fmt/rds", { field: "ssl" }), "true");
      await assert.rejects(
        manager.getSecret("fmt/rds", { field: "value" }),
        (err: unknown) => err instanceof KeywardError && err.code === "not_found",
      );
      // A plain value that merely starts with "{" is still a plain value.
      await manager.setSecret("fmt/brace", "{not json-0001");
      assert.equal(await manager.getSecret("fmt/brace", { field: "value" }), "{not json-0001");
      await assert.rejects(
        manager.getSecret("fmt/brace", { field: "user" }),
        (err: unknown) => err instanceof KeywardError && err.code === "not_found",
      );
    } finally {
      raw.destroy();
      await manager.close();
    }
  },
);

// ---- idempotency ----

motoTest(
  "aws: a write whose answer is lost is retried with the same ClientRequestToken and lands once",
  async (m) => {
    const inner = new FetchHttpHandler();
    const puts: string[] = [];
    let dropped = false;
    const handler = {
      async handle(request: { headers: Record<string, string>; body?: unknown }) {
        const result = await inner.handle(request as never);
        const target = request.headers["x-amz-target"] ?? "";
        if (target.endsWith(".PutSecretValue")) {
          const body = request.body;
          const text = typeof body === "string"
            ? body
            : new TextDecoder().decode(body as Uint8Array);
          puts.push(JSON.parse(text).ClientRequestToken);
          if (!dropped) {
            dropped = true;
            await result.response.body?.cancel?.();
            return {
              response: {
                statusCode: 503,
                headers: { "content-type": "application/x-amz-json-1.1" },
                body: new TextEncoder().encode('{"__type":"ServiceUnavailable","message":"lost"}'),
              },
            };
          }
        }
        return result;
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs() {
        return {};
      },
      destroy() {},
    };
    const { manager } = motoManager(m, { client: { requestHandler: handler as never } });
    try {
      const v1 = await manager.setSecret("idem/key", "idem-value-0001");
      const v2 = await manager.setSecret("idem/key", "idem-value-0002");
      assert.equal(puts.length, 2, "the SDK retried the put once");
      assert.equal(puts[0], puts[1], "with the same ClientRequestToken");
      assert.equal(v2.version, puts[0], "the token is the version id");
      const meta = await manager.describeSecret("idem/key");
      assert.deepEqual(
        meta.versions.map((v) => [v.version, v.stages]),
        [[v1.version, ["previous"]], [v2.version, ["current"]]],
        "one version, not two",
      );
      assert.equal(await manager.getSecret("idem/key"), "idem-value-0002");
    } finally {
      await manager.close();
    }
  },
);

// ---- scheduled deletion ----

motoTest(
  "aws: deleteSecret() schedules the deletion; describe shows the date, reads and writes say so",
  async (m) => {
    const { manager, commands } = motoManager(m);
    try {
      await manager.setSecret("gone/key", "deleted-value-0001");
      await manager.setSecret("gone/other", "kept-value-0001");
      const before = commands();
      for (const recoveryDays of [6, 31, 7.5, 0]) {
        await assert.rejects(
          manager.deleteSecret("gone/key", { recoveryDays }),
          (err: unknown) =>
            err instanceof KeywardError && err.code === "config" && /7 to 30/.test(err.message),
        );
      }
      assert.equal(commands(), before, "out-of-range windows are refused before any request");
      const asked = Date.now();
      await manager.deleteSecret("gone/key", { recoveryDays: 10 });
      const meta = await manager.describeSecret("gone/key");
      const expected = asked + 10 * 86_400_000;
      assert.ok(meta.deletionScheduledAt, "describe shows the date");
      assert.ok(Math.abs(meta.deletionScheduledAt.getTime() - expected) < 120_000);
      await assert.rejects(manager.getSecret("gone/key"), (err: unknown) => {
        assert.ok(err instanceof KeywardError && err.code === "not_found");
        assert.match(err.message, /scheduled for deletion on \d{4}-\d\d-\d\d/);
        assert.ok(!err.message.includes("deleted-value-0001"));
        return true;
      });
      assert.deepEqual(await manager.listSecrets("gone/"), ["gone/other"]);
      await assert.rejects(manager.setSecret("gone/key", "new-value-0001"), (err: unknown) => {
        assert.ok(err instanceof KeywardError && err.code === "write");
        assert.match(err.message, /scheduled for deletion/);
        return true;
      });
      await assert.rejects(manager.deleteSecret("gone/key"), /already scheduled for deletion/);
      // The default window is 30 days.
      const asked2 = Date.now();
      await manager.deleteSecret("gone/other");
      const other = await manager.describeSecret("gone/other");
      assert.ok(
        Math.abs(other.deletionScheduledAt!.getTime() - (asked2 + 30 * 86_400_000)) < 120_000,
      );
    } finally {
      await manager.close();
    }
  },
);

// ---- the fetch handler (runtimes without node:http) ----

motoTest("aws: the SDK's FetchHttpHandler works against moto end to end", async (m) => {
  const { manager } = motoManager(m, { client: { requestHandler: new FetchHttpHandler() } });
  try {
    const v1 = await manager.setSecret("fetch/key", { id: "fetch-id-0001", secret: "fetch-0001" });
    const p = await manager.setSecret("fetch/key", { id: "fetch-id-0002", secret: "fetch-0002" }, {
      stage: "pending",
    });
    await manager.promote("fetch/key", p.version);
    assert.equal(await manager.getSecret("fetch/key", { field: "secret" }), "fetch-0002");
    assert.equal(
      await manager.getSecret("fetch/key", { stage: "previous", field: "id" }),
      "fetch-id-0001",
    );
    assert.deepEqual(await manager.listSecrets("fetch/"), ["fetch/key"]);
    const meta = await manager.describeSecret("fetch/key");
    assert.deepEqual(meta.versions.map((v) => v.version), [v1.version, p.version]);
  } finally {
    await manager.close();
  }
});

// ---- reachability ----

Deno.test(
  "aws: an endpoint nobody listens on is SecretAccessError (unreachable) after the retries",
  async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const manager = new AwsSecretManager({
      region: "eu-west-1",
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { accessKeyId: "moto-test-key", secretAccessKey: "moto-test-secret" },
      retryDelayMs: () => 0,
      maxAttempts: 2,
    });
    try {
      await assert.rejects(manager.getSecret("down/key"), (err: unknown) => {
        assert.ok(err instanceof SecretAccessError, String(err));
        assert.equal(err.reason, "unreachable");
        assert.match(err.message, /after 2 attempts/);
        return true;
      });
    } finally {
      await manager.close();
    }
  },
);

motoTest("aws: moto keeps each test's account apart", async (m) => {
  const a = motoManager(m);
  const b = motoManager(m, { accountId: freshAccountId() });
  try {
    await a.manager.setSecret("iso/key", "account-a-0001");
    assert.deepEqual(await b.manager.listSecrets(), []);
  } finally {
    await a.manager.close();
    await b.manager.close();
  }
});
