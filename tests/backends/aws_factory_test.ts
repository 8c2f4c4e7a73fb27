/**
 * `SECRET_BACKEND=aws` through the factory: the Region and endpoint settings,
 * credentials from the SDK's default chain (here its environment step).
 */

import assert from "node:assert/strict";
import { ConfigError } from "../../core/errors.ts";
import { createSecretManager } from "../../factory.ts";
import { build } from "../../factory/_aws.ts";
import { findMoto } from "../_moto.ts";

const moto = await findMoto();

async function withCredentialsEnv(fn: () => Promise<void>): Promise<void> {
  const vars: Record<string, string> = {
    AWS_ACCESS_KEY_ID: "AKIDFACTORYTEST",
    AWS_SECRET_ACCESS_KEY: "factory-test-secret",
  };
  const saved = new Map<string, string | undefined>();
  for (const [key, value] of Object.entries(vars)) {
    saved.set(key, Deno.env.get(key));
    Deno.env.set(key, value);
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

const readTextFile = (path: string) => Deno.readTextFile(path);

function deadEndpoint(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `http://127.0.0.1:${port}`;
}

Deno.test({
  name: "aws factory: SECRET_BACKEND=aws builds a working manager from the settings",
  ignore: moto === undefined,
  fn: () =>
    withCredentialsEnv(async () => {
      const prefix = `factory-${crypto.randomUUID().slice(0, 8)}`;
      const secrets = await createSecretManager({
        env: {
          SECRET_BACKEND: "aws",
          SECRET_NAMESPACE: prefix,
          AWS_REGION: "eu-central-1",
          AWS_ENDPOINT_URL_SECRETS_MANAGER: moto!.endpoint,
          AWS_ENDPOINT_URL: deadEndpoint(),
          AWS_MAX_ATTEMPTS: "2",
        },
        readTextFile,
      });
      try {
        await secrets.setSecret("db/password", "factory-value-0001");
        assert.equal(await secrets.getSecret("db/password"), "factory-value-0001");
        assert.deepEqual(await secrets.listSecrets(), ["db/password"]);
        assert.equal((await secrets.describeSecret("db/password")).backend, "aws");
      } finally {
        await secrets.close();
      }
    }),
});

Deno.test({
  name: "aws factory: AWS_DEFAULT_REGION and AWS_ENDPOINT_URL are the fallbacks",
  ignore: moto === undefined,
  fn: () =>
    withCredentialsEnv(async () => {
      const secrets = await build({
        env: { AWS_DEFAULT_REGION: "eu-central-1", AWS_ENDPOINT_URL: moto!.endpoint },
        readTextFile,
      });
      try {
        const name = `factory-${crypto.randomUUID().slice(0, 8)}/key`;
        await secrets.setSecret(name, "fallback-value-0001");
        assert.equal(await secrets.getSecret(name), "fallback-value-0001");
      } finally {
        await secrets.close();
      }
    }),
});

Deno.test("aws factory: missing or bad settings are ConfigError naming the setting", async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{}, /AWS_REGION \(or AWS_DEFAULT_REGION\)/],
    [{ AWS_REGION: "  " }, /AWS_REGION/],
    [{ AWS_REGION: "Frankfurt please" }, /AWS_REGION is not an AWS Region/],
    [{ AWS_DEFAULT_REGION: "EU" }, /AWS_DEFAULT_REGION is not/],
    [{ AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL: "localhost:5000" }, /AWS_ENDPOINT_URL must/],
    [
      { AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL_SECRETS_MANAGER: "ftp://x" },
      /AWS_ENDPOINT_URL_SECRETS_MANAGER must/,
    ],
    [{ AWS_REGION: "eu-west-1", AWS_MAX_ATTEMPTS: "0" }, /AWS_MAX_ATTEMPTS/],
    [{ AWS_REGION: "eu-west-1", AWS_MAX_ATTEMPTS: "three" }, /AWS_MAX_ATTEMPTS/],
    [{ AWS_REGION: "eu-west-1", AWS_MAX_ATTEMPTS: "11" }, /AWS_MAX_ATTEMPTS/],
  ];
  for (const [env, pattern] of cases) {
    await assert.rejects(
      build({ env, readTextFile }),
      (err: unknown) => err instanceof ConfigError && pattern.test(err.message),
      JSON.stringify(env),
    );
  }
  const ok = await build({ env: { AWS_REGION: "eu-west-1", AWS_MAX_ATTEMPTS: "5" }, readTextFile });
  await ok.close();
});
