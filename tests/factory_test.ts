import assert from "node:assert/strict";
import { ConfigError, InvalidSecretNameError, type KeywardError } from "../mod.ts";
import { BACKEND_NAMES, createSecretManager } from "../factory.ts";
import { generateFileKey, writeKeyFile } from "../backends/file.ts";

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

Deno.test("vault and aws without their settings are a ConfigError naming the backend", async () => {
  // Both backends are wired: each fails on its own first missing setting, never "not available".
  const cases = [
    ["vault", /^VAULT_ADDR is not set: the Vault backend needs Vault's address/],
    ["aws", /^SECRET_BACKEND=aws needs a Region: set AWS_REGION \(or AWS_DEFAULT_REGION\)/],
  ] as const;
  for (const [backend, message] of cases) {
    const err = await rejectsConfig(
      createSecretManager({ env: { SECRET_BACKEND: backend } }),
      message,
    );
    assert.equal(err.backend, backend);
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

// --- file backend -------------------------------------------------------------------------------

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-factory-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("SECRET_BACKEND=file with KEYWARD_FILE_KEY builds a store at KEYWARD_FILE_PATH", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/store/secrets.json`;
    const env = {
      SECRET_BACKEND: "file",
      KEYWARD_FILE_PATH: path,
      KEYWARD_FILE_KEY: generateFileKey(),
    };
    const m = await createSecretManager({ env });
    await m.setSecret("db/password", "file-factory-value-1");
    await m.close();
    const again = await createSecretManager({ env });
    assert.equal(await again.getSecret("db/password"), "file-factory-value-1");
    assert.equal((await again.describeSecret("db/password")).backend, "file");
    await again.close();
    const raw = await Deno.readTextFile(path);
    assert.ok(!raw.includes("file-factory-value-1"));
  });
});

Deno.test("KEYWARD_FILE_KEY_FILE reads the key from a 0600 key file", async () => {
  await withTempDir(async (dir) => {
    const key = generateFileKey();
    await writeKeyFile(`${dir}/file.key`, key);
    const path = `${dir}/secrets.json`;
    const byFile = await createSecretManager({
      env: {
        SECRET_BACKEND: "file",
        KEYWARD_FILE_PATH: path,
        KEYWARD_FILE_KEY_FILE: `${dir}/file.key`,
      },
    });
    await byFile.setSecret("a/b", "key-file-value-1");
    await byFile.close();
    // The same key given inline opens the same store.
    const inline = await createSecretManager({
      env: { SECRET_BACKEND: "file", KEYWARD_FILE_PATH: path, KEYWARD_FILE_KEY: key },
    });
    assert.equal(await inline.getSecret("a/b"), "key-file-value-1");
    await inline.close();
  });
});

Deno.test("KEYWARD_FILE_PATH defaults to .keyward/secrets.json in the working directory", async () => {
  await withTempDir(async (dir) => {
    const cwd = Deno.cwd();
    Deno.chdir(dir);
    try {
      const m = await createSecretManager({
        env: { SECRET_BACKEND: "file", KEYWARD_FILE_KEY: generateFileKey() },
      });
      await m.setSecret("a/b", "default-path-value-1");
      await m.close();
    } finally {
      Deno.chdir(cwd);
    }
    assert.ok((await Deno.stat(`${dir}/.keyward/secrets.json`)).isFile);
  });
});

Deno.test("the file backend without a key is a ConfigError naming both key settings", async () => {
  const err = await rejectsConfig(
    createSecretManager({ env: { SECRET_BACKEND: "file", KEYWARD_FILE_KEY: " " } }),
    /KEYWARD_FILE_KEY \(32 bytes in base64\) or KEYWARD_FILE_KEY_FILE/,
  );
  assert.equal(err.backend, "file");
});

Deno.test("KEYWARD_FILE_KEY and KEYWARD_FILE_KEY_FILE together are refused", async () => {
  const key = generateFileKey();
  await rejectsConfig(
    createSecretManager({
      env: { SECRET_BACKEND: "file", KEYWARD_FILE_KEY: key, KEYWARD_FILE_KEY_FILE: "/k" },
    }),
    /both KEYWARD_FILE_KEY and KEYWARD_FILE_KEY_FILE are set/,
    [key],
  );
});

Deno.test("a malformed KEYWARD_FILE_KEY is a ConfigError that never repeats the key", async () => {
  const almost = btoa(`${KEY_CANARY}-thirty-one-bytes-long!`.slice(0, 31));
  for (const bad of [`${KEY_CANARY}-not-base64!!`, almost, btoa(KEY_CANARY)]) {
    await rejectsConfig(
      createSecretManager({ env: { SECRET_BACKEND: "file", KEYWARD_FILE_KEY: bad } }),
      /^KEYWARD_FILE_KEY is not a valid file key: it must be 32 bytes in base64/,
      [bad, KEY_CANARY],
    );
  }
});

Deno.test("a bad KEYWARD_FILE_KEY_FILE is a ConfigError naming the setting and why", async () => {
  await withTempDir(async (dir) => {
    const env = (keyFile: string) => ({ SECRET_BACKEND: "file", KEYWARD_FILE_KEY_FILE: keyFile });
    await rejectsConfig(
      createSecretManager({ env: env(`${dir}/missing.key`) }),
      /^KEYWARD_FILE_KEY_FILE: the key file .*missing\.key does not exist/,
    );
    const key = generateFileKey();
    await Deno.writeTextFile(`${dir}/open.key`, `${key}\n`, { mode: 0o644 });
    await Deno.chmod(`${dir}/open.key`, 0o644);
    await rejectsConfig(
      createSecretManager({ env: env(`${dir}/open.key`) }),
      /^KEYWARD_FILE_KEY_FILE: .*group or others/,
      [key],
    );
    await Deno.writeTextFile(`${dir}/bad.key`, `${KEY_CANARY}\n`, { mode: 0o600 });
    await Deno.chmod(`${dir}/bad.key`, 0o600);
    await rejectsConfig(
      createSecretManager({ env: env(`${dir}/bad.key`) }),
      /^KEYWARD_FILE_KEY_FILE: /,
      [KEY_CANARY],
    );
  });
});

Deno.test("a key file inside a git repository is refused", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(`${dir}/repo/.git`, { recursive: true });
    // Written directly: writeKeyFile itself refuses to write inside a repository.
    await Deno.writeTextFile(`${dir}/repo/file.key`, `${generateFileKey()}\n`, { mode: 0o600 });
    await rejectsConfig(
      createSecretManager({
        env: { SECRET_BACKEND: "file", KEYWARD_FILE_KEY_FILE: `${dir}/repo/file.key` },
      }),
      /^KEYWARD_FILE_KEY_FILE: .*git/,
    );
  });
});
