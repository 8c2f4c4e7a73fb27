import assert from "node:assert/strict";
import { ConfigError, InvalidSecretNameError, type KeywardError } from "../mod.ts";
import { BACKEND_NAMES, createSecretManager } from "../factory.ts";

const KEY_CANARY = "CANARYKEY";

/** Asserts `promise` rejects with a ConfigError whose message matches `pattern`. */
async function rejectsConfig(
  promise: Promise<unknown>,
  pattern: RegExp,
  forbidden: string[] = [],
): Promise<ConfigError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${caught}`);
  assert.equal(caught.code, "config");
  assert.match(caught.message, pattern);
  const shown = `${caught.message} ${Deno.inspect(caught, { depth: 10 })}`;
  for (const f of forbidden) assert.ok(!shown.includes(f), `error shows ${f}: ${shown}`);
  return caught;
}

Deno.test("createSecretManager() refuses to guess when SECRET_BACKEND is missing and lists the choices", async () => {
  for (const env of [{}, { SECRET_BACKEND: "" }, { SECRET_BACKEND: "   " }]) {
    const err = await rejectsConfig(createSecretManager({ env }), /SECRET_BACKEND is not set/);
    for (const name of BACKEND_NAMES) assert.match(err.message, new RegExp(`\\b${name}\\b`));
  }
});

Deno.test("createSecretManager() refuses an unknown SECRET_BACKEND and lists the choices", async () => {
  const err = await rejectsConfig(
    createSecretManager({ env: { SECRET_BACKEND: "consul" } }),
    /SECRET_BACKEND=consul is not a backend; choose one of: file, env, memory, vault, aws/,
  );
  assert.equal(err.backend, undefined);
});

Deno.test("an unknown SECRET_BACKEND that looks like a pasted credential is not repeated", async () => {
  const pasted = `sk_live_${KEY_CANARY}/+=${KEY_CANARY}${KEY_CANARY}`;
  await rejectsConfig(
    createSecretManager({ env: { SECRET_BACKEND: pasted } }),
    /^SECRET_BACKEND is not a backend/,
    [KEY_CANARY],
  );
});

Deno.test("vault and aws give a clear ConfigError until their builders are wired", async () => {
  for (const backend of ["vault", "aws"]) {
    const err = await rejectsConfig(
      createSecretManager({ env: { SECRET_BACKEND: backend } }),
      new RegExp(`the ${backend} backend is not available in this build yet`),
    );
    assert.equal(err.backend, backend);
    assert.match(err.message, /choose one of: file, env, memory/);
  }
});

Deno.test("SECRET_BACKEND=memory builds an empty working store", async () => {
  const m = await createSecretManager({ env: { SECRET_BACKEND: "memory" } });
  assert.deepEqual(await m.listSecrets(), []);
  await m.setSecret("a/b", "memory-value-1");
  assert.equal(await m.getSecret("a/b"), "memory-value-1");
  assert.equal((await m.describeSecret("a/b")).backend, "memory");
  await m.close();
});

Deno.test("SECRET_NAMESPACE keeps every name under the namespace", async () => {
  const m = await createSecretManager({
    env: { SECRET_BACKEND: "memory", SECRET_NAMESPACE: "prod" },
  });
  await m.setSecret("db/password", "namespaced-value-1");
  assert.deepEqual(await m.listSecrets(), ["db/password"]);
  const meta = await m.describeSecret("db/password");
  assert.equal(meta.name, "db/password");
  await m.close();
});

Deno.test("an invalid SECRET_NAMESPACE is a ConfigError naming the setting", async () => {
  for (const ns of ["a//b", "../x", ".keyward"]) {
    const err = await rejectsConfig(
      createSecretManager({ env: { SECRET_BACKEND: "memory", SECRET_NAMESPACE: ns } }),
      /^SECRET_NAMESPACE is not a valid namespace: /,
    );
    assert.ok(!(err instanceof InvalidSecretNameError));
  }
});

Deno.test("SECRET_BACKEND=env reads the settings given, not the process environment", async () => {
  const m = await createSecretManager({
    env: { SECRET_BACKEND: "env", ALPACA_API_KEY_ID: "PKFACTORYENV0001" },
  });
  assert.equal(await m.getSecret("alpaca/api_key_id"), "PKFACTORYENV0001");
  assert.equal((await m.describeSecret("alpaca/api_key_id")).backend, "env");
  // Without a .env file or prefixes, nothing is listed: never the whole environment.
  assert.deepEqual(await m.listSecrets(), []);
  await m.close();
});

Deno.test("KEYWARD_ENV_FILE is read through readTextFile; the environment wins over it", async () => {
  const read: string[] = [];
  const m = await createSecretManager({
    env: {
      SECRET_BACKEND: "env",
      KEYWARD_ENV_FILE: "config/.env",
      DB_PASSWORD: "from-environment-1",
    },
    readTextFile: (path) => {
      read.push(path);
      return Promise.resolve("DB_PASSWORD=from-file-1\nWEBHOOK_SECRET=whsec-file-0001\n");
    },
  });
  assert.deepEqual(read, ["config/.env"]);
  assert.equal(await m.getSecret("db/password"), "from-environment-1");
  assert.equal(await m.getSecret("webhook/secret"), "whsec-file-0001");
  assert.deepEqual(await m.listSecrets(), ["db/password", "webhook/secret"]);
  await m.close();
});

Deno.test("an unreadable KEYWARD_ENV_FILE is a ConfigError naming the setting and the path", async () => {
  const err = await rejectsConfig(
    createSecretManager({
      env: { SECRET_BACKEND: "env", KEYWARD_ENV_FILE: "/nowhere/.env" },
      readTextFile: () => Promise.reject(new Deno.errors.NotFound(`no file ${KEY_CANARY}`)),
    }),
    /^KEYWARD_ENV_FILE names "\/nowhere\/\.env", which cannot be read/,
    [KEY_CANARY],
  );
  assert.equal(err.backend, "env");
});

Deno.test("KEYWARD_ENV_FILE is read from disk by default", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/.env`, "BROKER_TOKEN=tok-default-reader-1\n");
    const m = await createSecretManager({
      env: { SECRET_BACKEND: "env", KEYWARD_ENV_FILE: `${dir}/.env` },
    });
    assert.equal(await m.getSecret("broker/token"), "tok-default-reader-1");
    await m.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("KEYWARD_ENV_PREFIXES lists the variables under those prefixes only", async () => {
  const m = await createSecretManager({
    env: {
      SECRET_BACKEND: "env",
      KEYWARD_ENV_PREFIXES: " ALPACA_ , DB_,",
      ALPACA_API_KEY_ID: "PKPREFIX00000001",
      DB_PASSWORD: "db-prefix-pass-1",
      HOME: "/root",
      PATH: "/usr/bin",
    },
  });
  assert.deepEqual(await m.listSecrets(), ["alpaca/api_key_id", "db/password"]);
  await m.close();
});

Deno.test("an invalid KEYWARD_ENV_PREFIXES entry is a ConfigError naming the setting", async () => {
  await rejectsConfig(
    createSecretManager({ env: { SECRET_BACKEND: "env", KEYWARD_ENV_PREFIXES: "ALPACA_,DB-" } }),
    /^KEYWARD_ENV_PREFIXES holds an invalid entry/,
    ["DB-"],
  );
});

Deno.test("without options.env the factory reads the process environment", async () => {
  const before = Deno.env.get("SECRET_BACKEND");
  Deno.env.set("SECRET_BACKEND", "memory");
  try {
    const m = await createSecretManager();
    assert.equal(await m.describeSecret("x").catch((e: KeywardError) => e.backend), "memory");
    await m.close();
  } finally {
    if (before === undefined) Deno.env.delete("SECRET_BACKEND");
    else Deno.env.set("SECRET_BACKEND", before);
  }
});
