/**
 * Credentials resolved by the SDK's default chain, the way a service on ECS,
 * EKS Pod Identity or any container role gets them: from the endpoint in
 * `AWS_CONTAINER_CREDENTIALS_FULL_URI`, served here on 127.0.0.1. The calls
 * then go to moto signed with those temporary credentials.
 */

import assert from "node:assert/strict";
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
import { AwsSecretManager } from "../../backends/aws.ts";
import { ConfigError } from "../../core/errors.ts";
import { findMoto, freshAccountId } from "../_moto.ts";

const moto = await findMoto();

/** Sets env variables for the duration of `fn`, then puts every one back. */
async function withEnv(
  vars: Record<string, string | undefined>,
  fn: () => Promise<void>,
): Promise<void> {
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(vars)) {
    saved.set(key, Deno.env.get(key));
    if (value === undefined) Deno.env.delete(key);
    else Deno.env.set(key, value);
  }
  try {
    await fn();
  } finally {
    for (const [key, value] of saved) {
      if (value === undefined) Deno.env.delete(key);
      else Deno.env.set(key, value);
    }
  }
}

Deno.test({
  name:
    "aws: without explicit credentials the SDK's default chain fetches them from the container endpoint",
  ignore: moto === undefined,
  fn: async () => {
    const accessKeyId = `ASIA${crypto.randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase()}`;
    const sessionToken = `container-session-${crypto.randomUUID()}`;
    const authToken = `container-auth-${crypto.randomUUID()}`;
    const asked: string[] = [];
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => {
        asked.push(req.headers.get("authorization") ?? "");
        if (req.headers.get("authorization") !== authToken) {
          return new Response("denied", { status: 403 });
        }
        return Response.json({
          AccessKeyId: accessKeyId,
          SecretAccessKey: "container-secret-key",
          Token: sessionToken,
          Expiration: new Date(Date.now() + 3_600_000).toISOString(),
        });
      },
    );
    const dir = await Deno.makeTempDir({ prefix: "keyward-aws-creds-" });
    // Records how each request to moto was signed, and keeps the test in its own moto account.
    const inner = new FetchHttpHandler();
    const signed: Record<string, string>[] = [];
    const accountId = freshAccountId();
    const handler = {
      handle(request: { headers: Record<string, string> }, options?: unknown) {
        signed.push({ ...request.headers });
        request.headers["x-moto-account-id"] = accountId;
        return inner.handle(request as never, options as never);
      },
      updateHttpClientConfig() {},
      httpHandlerConfigs() {
        return {};
      },
    };
    try {
      await withEnv({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${server.addr.port}/v2/credentials`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: authToken,
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: undefined,
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
        AWS_SESSION_TOKEN: undefined,
        AWS_PROFILE: undefined,
        AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
        AWS_SHARED_CREDENTIALS_FILE: `${dir}/credentials`,
        AWS_CONFIG_FILE: `${dir}/config`,
        AWS_EC2_METADATA_DISABLED: "true",
      }, async () => {
        const m = new AwsSecretManager({
          region: "eu-west-1",
          endpoint: moto!.endpoint,
          requestHandler: handler,
          retryDelayMs: () => 0,
        });
        try {
          const written = await m.setSecret("iam/key", "container-role-value-0001");
          assert.equal(await m.getSecret("iam/key"), "container-role-value-0001");
          assert.equal((await m.describeSecret("iam/key")).versions[0].version, written.version);
        } finally {
          await m.close();
        }
      });
      assert.ok(asked.length >= 1, "the container endpoint was asked");
      assert.ok(asked.every((a) => a === authToken), "with the authorization token");
      assert.ok(signed.length >= 3);
      for (const headers of signed) {
        assert.match(
          headers["authorization"] ?? "",
          new RegExp(
            `^AWS4-HMAC-SHA256 Credential=${accessKeyId}/\\d{8}/eu-west-1/secretsmanager/`,
          ),
        );
        assert.equal(headers["x-amz-security-token"], sessionToken);
      }
    } finally {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test(
  "aws: on Deno without --allow-sys the error names the permissions the SDK needs",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "keyward-aws-perm-" });
    const script = `${dir}/probe.ts`;
    const aws = new URL("../../backends/aws.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { AwsSecretManager } from ${JSON.stringify(aws)};
import { FetchHttpHandler } from "@smithy/fetch-http-handler";
const m = new AwsSecretManager({
  region: "eu-west-1",
  endpoint: "http://127.0.0.1:9",
  credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
  requestHandler: new FetchHttpHandler(),
  maxAttempts: 1,
});
try {
  await m.getSecret("perm/key");
} catch (err) {
  console.log(JSON.stringify({ name: (err as Error).name, message: (err as Error).message }));
}
await m.close();
`,
    );
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "--no-check",
          `--config=${new URL("../../deno.json", import.meta.url).pathname}`,
          "--allow-env",
          "--allow-net=127.0.0.1",
          script,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout).trim();
      const reported = JSON.parse(text.split("\n").at(-1)!);
      assert.equal(reported.name, "ConfigError");
      assert.match(reported.message, /--allow-sys=osRelease/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("aws: no region anywhere is a ConfigError saying how to set one", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-aws-region-" });
  try {
    await withEnv({
      AWS_REGION: undefined,
      AWS_DEFAULT_REGION: undefined,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: `${dir}/config`,
      AWS_SHARED_CREDENTIALS_FILE: `${dir}/credentials`,
    }, async () => {
      const m = new AwsSecretManager({
        credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret" },
        endpoint: "http://127.0.0.1:9",
        maxAttempts: 1,
      });
      try {
        await assert.rejects(
          m.getSecret("region/key"),
          (err: unknown) =>
            err instanceof ConfigError && /option region \(or AWS_REGION\)/.test(err.message),
        );
      } finally {
        await m.close();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
