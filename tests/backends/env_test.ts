import assert from "node:assert/strict";
import {
  ConfigError,
  envKeyFor,
  EnvSecretManager,
  KeywardError,
  nameForEnvKey,
  SecretNotFoundError,
  UnsupportedOperationError,
} from "../../mod.ts";
import { contractSuite } from "../../testing.ts";

/** A manager whose "process environment" is `vars`, with an optional .env text. */
function envOf(
  vars: Record<string, string>,
  extra: Partial<ConstructorParameters<typeof EnvSecretManager>[0]> = {},
): EnvSecretManager {
  return new EnvSecretManager({
    lookup: (key) => Object.hasOwn(vars, key) ? vars[key] : undefined,
    keys: () => Object.keys(vars),
    ...extra,
  });
}

/** The contract's seed (name -> value) written as the text of a .env file. */
function dotenvText(seed: Record<string, string>): string {
  return Object.entries(seed).map(([name, value]) => `${envKeyFor(name)}=${value}\n`).join("");
}

for (
  const c of contractSuite({
    readOnly: true,
    create: (seed) =>
      new EnvSecretManager({
        lookup: (key) => key === "UNRELATED_PROCESS_VARIABLE" ? "not-listed-000" : undefined,
        dotenv: dotenvText(seed),
      }),
  })
) {
  Deno.test(`env: ${c.name}`, c.fn);
}

Deno.test("env: envKeyFor() upper-cases a name and turns '/', '-' and '.' into '_'", () => {
  assert.equal(envKeyFor("alpaca/api_key_id"), "ALPACA_API_KEY_ID");
  assert.equal(envKeyFor("database/password"), "DATABASE_PASSWORD");
  assert.equal(envKeyFor("db.main/pass-word"), "DB_MAIN_PASS_WORD");
  assert.equal(envKeyFor("a/b/c"), "A_B_C");
  assert.throws(
    () => envKeyFor("a//b"),
    (e) => e instanceof KeywardError && e.code === "invalid_name",
  );
});

Deno.test("env: nameForEnvKey() splits at the first '_' and refuses keys no name maps to", () => {
  assert.equal(nameForEnvKey("ALPACA_API_KEY_ID"), "alpaca/api_key_id");
  assert.equal(nameForEnvKey("DATABASE_PASSWORD"), "database/password");
  assert.equal(nameForEnvKey("PORT"), "port");
  assert.equal(nameForEnvKey("A__B"), "a/_b");
  for (const key of ["Path", "lower_case", "_LEADING", "TRAILING_", "WITH-DASH", "", "ÄPFEL"]) {
    assert.equal(nameForEnvKey(key), undefined, key);
  }
});

Deno.test("env: the reverse mapping is lossy but every listed name reads the same variable", async () => {
  // Written as "alpaca-markets/key", listed as "alpaca/markets_key": both map to one variable.
  assert.equal(envKeyFor("alpaca-markets/key"), "ALPACA_MARKETS_KEY");
  assert.equal(nameForEnvKey("ALPACA_MARKETS_KEY"), "alpaca/markets_key");
  const m = envOf({}, { dotenv: "ALPACA_MARKETS_KEY=lossy-value-000001\n" });
  assert.deepEqual(await m.listSecrets(), ["alpaca/markets_key"]);
  assert.equal(await m.getSecret("alpaca/markets_key"), "lossy-value-000001");
  assert.equal(await m.getSecret("alpaca-markets/key"), "lossy-value-000001");
  for (const key of ["ALPACA_API_KEY_ID", "A_B_C_D", "X_Y", "SOLO"]) {
    assert.equal(envKeyFor(nameForEnvKey(key)!), key, "the round trip lands on the variable");
  }
});

Deno.test("env: the process environment wins over the .env text", async () => {
  const m = envOf(
    { ALPACA_API_KEY_ID: "PKFROMPROCESS00001" },
    { dotenv: "ALPACA_API_KEY_ID=PKFROMFILE00000001\nALPACA_API_SECRET_KEY=file-only-secret-01\n" },
  );
  assert.equal(await m.getSecret("alpaca/api_key_id"), "PKFROMPROCESS00001");
  assert.equal(await m.getSecret("alpaca/api_secret_key"), "file-only-secret-01");
});

Deno.test("env: an empty variable counts as missing and the .env value shows through", async () => {
  const m = envOf(
    { EMPTY_VAR: "", SHADOWED_VAR: "" },
    { dotenv: "SHADOWED_VAR=from-file-000001\nBLANK_IN_FILE=\n" },
  );
  await assert.rejects(m.getSecret("empty/var"), SecretNotFoundError);
  await assert.rejects(m.getSecret("blank/in_file"), SecretNotFoundError);
  assert.equal(await m.getSecret("shadowed/var"), "from-file-000001");
  assert.deepEqual(await m.listSecrets(), ["shadowed/var"], "an empty .env variable is not listed");
});

Deno.test("env: a missing secret's error names the secret and the variable it looked for", async () => {
  const m = envOf({});
  await assert.rejects(m.getSecret("alpaca/api_key_id"), (err) => {
    assert.ok(err instanceof SecretNotFoundError);
    assert.equal(err.secret, "alpaca/api_key_id");
    assert.equal(err.backend, "env");
    assert.match(err.message, /ALPACA_API_KEY_ID/);
    return true;
  });
});

Deno.test("env: listing never shows a variable outside the .env text and the prefixes", async () => {
  const vars = {
    ALPACA_API_KEY_ID: "PKLISTED000000001",
    ALPACA_API_SECRET_KEY: "listed-secret-000001",
    AWS_SECRET_ACCESS_KEY: "never-listed-000001",
    HOME: "/home/someone",
    Path: "/usr/bin",
  };
  const withPrefixes = envOf(vars, {
    dotenv: "DATABASE_PASSWORD=from-dotenv-000001\n",
    listPrefixes: ["ALPACA_"],
  });
  assert.deepEqual(await withPrefixes.listSecrets(), [
    "alpaca/api_key_id",
    "alpaca/api_secret_key",
    "database/password",
  ]);
  assert.deepEqual(await withPrefixes.listSecrets("alpaca/api_s"), ["alpaca/api_secret_key"]);
  assert.deepEqual(await withPrefixes.listSecrets("aws/"), []);
  // ...but it can still be read by name: listing is the only thing restricted.
  assert.equal(await withPrefixes.getSecret("aws/secret_access_key"), "never-listed-000001");

  let enumerated = 0;
  const noPrefixes = new EnvSecretManager({
    lookup: (k) => (vars as Record<string, string>)[k],
    keys: () => {
      enumerated += 1;
      return Object.keys(vars);
    },
  });
  assert.deepEqual(await noPrefixes.listSecrets(), []);
  assert.equal(enumerated, 0, "without prefixes the environment is not even enumerated");
});

Deno.test("env: listPrefixes needs keys and must look like variable names", () => {
  const lookup = () => undefined;
  assert.throws(() => new EnvSecretManager({ lookup, listPrefixes: ["ALPACA_"] }), ConfigError);
  assert.throws(
    () => new EnvSecretManager({ lookup, keys: () => [], listPrefixes: ["alpaca/"] }),
    /listPrefixes/,
  );
  assert.throws(
    () => new EnvSecretManager({ lookup: undefined as unknown as () => undefined }),
    /option lookup/,
  );
  assert.throws(
    () => new EnvSecretManager({ lookup, dotenv: 42 as unknown as string }),
    /option dotenv/,
  );
});

Deno.test("env: one version 'env' holding 'current'; other stages and versions are not found", async () => {
  let now = 1_700_000_000_000;
  const m = envOf({ DATABASE_PASSWORD: "stage-test-000001" }, { now: () => now });
  now += 1000;
  assert.equal(await m.getSecret("database/password", { version: "env" }), "stage-test-000001");
  assert.equal(
    await m.getSecret("database/password", { stage: "current", version: "env" }),
    "stage-test-000001",
  );
  await assert.rejects(m.getSecret("database/password", { version: "1" }), (err) => {
    assert.ok(err instanceof SecretNotFoundError);
    assert.equal(err.version, "1");
    assert.match(err.message, /version "1"/);
    return true;
  });
  await assert.rejects(
    m.getSecret("database/password", { stage: "previous" }),
    (err) => err instanceof SecretNotFoundError && err.stage === "previous",
  );
  const meta = await m.describeSecret("database/password");
  assert.equal(meta.backend, "env");
  assert.deepEqual(meta.versions.map((v) => [v.version, v.stages]), [["env", ["current"]]]);
  assert.equal(meta.versions[0].createdAt.getTime(), 1_700_000_000_000);
});

Deno.test("env: a JSON object value is read by field, and field 'value' gives a plain value", async () => {
  const m = envOf(
    { DATABASE_LOGIN: '{"user":"app","password":"field-pw-000001"}' },
    { dotenv: "PLAIN_VALUE=plain-value-000001\nODD_JSON={not json at all\n" },
  );
  assert.equal(await m.getSecret("database/login", { field: "user" }), "app");
  assert.equal(await m.getSecret("database/login", { field: "password" }), "field-pw-000001");
  assert.equal(
    await m.getSecret("database/login"),
    '{"user":"app","password":"field-pw-000001"}',
    "without a field the variable is returned as it is",
  );
  await assert.rejects(
    m.getSecret("database/login", { field: "host" }),
    (err) => err instanceof SecretNotFoundError && err.field === "host",
  );
  assert.equal(await m.getSecret("plain/value", { field: "value" }), "plain-value-000001");
  await assert.rejects(m.getSecret("plain/value", { field: "user" }), SecretNotFoundError);
  assert.equal(await m.getSecret("odd/json", { field: "value" }), "{not json at all");
});

Deno.test("env: writes, promotions and deletions are UnsupportedOperationError", async () => {
  const m = envOf({ DATABASE_PASSWORD: "read-only-000001" });
  await assert.rejects(m.setSecret("database/password", "new-value-000001"), (err) => {
    assert.ok(err instanceof UnsupportedOperationError);
    assert.equal(err.operation, "setSecret");
    assert.equal(err.secret, "database/password");
    assert.match(err.message, /env backend/);
    return true;
  });
  await assert.rejects(m.promote("database/password", "env"), UnsupportedOperationError);
  await assert.rejects(
    m.deleteSecret("database/password", { recoveryDays: 7 }),
    UnsupportedOperationError,
  );
  assert.equal(await m.getSecret("database/password"), "read-only-000001");
});

Deno.test("env: the canary value never appears in an error message", async () => {
  const canary = `CANARY-${crypto.randomUUID()}`;
  const m = envOf(
    {
      CANARY_PLAIN: canary,
      CANARY_JSON: `{"user":"${canary}"`,
      CANARY_FIELDS: `{"a":"${canary}"}`,
    },
    { dotenv: `CANARY_FILE=${canary}\n`, listPrefixes: ["CANARY_"] },
  );
  const errors: unknown[] = [];
  const attempts: Promise<unknown>[] = [
    m.getSecret("canary/plain", { field: "user" }),
    m.getSecret("canary/json", { field: "user" }),
    m.getSecret("canary/fields", { field: "b" }),
    m.getSecret("canary/plain", { stage: "pending" }),
    m.getSecret("canary/plain", { version: "7" }),
    m.getSecret("canary/file", { stage: "previous" }),
    m.setSecret("canary/plain", canary),
    m.promote("canary/plain", "env"),
    m.deleteSecret("canary/file"),
    m.getSecret("canary/missing"),
  ];
  for (const attempt of attempts) await attempt.catch((e) => errors.push(e));
  assert.equal(errors.length, attempts.length);
  for (const err of errors) {
    assert.ok(err instanceof KeywardError);
    assert.ok(!err.message.includes(canary), err.message);
    assert.ok(!String(err.stack).includes(canary));
    assert.ok(!JSON.stringify(err).includes(canary));
  }
  const meta = await m.describeSecret("canary/plain");
  assert.ok(!JSON.stringify(meta).includes(canary));
  assert.deepEqual(await m.listSecrets(), [
    "canary/fields",
    "canary/file",
    "canary/json",
    "canary/plain",
  ]);
});

Deno.test("env: a closed manager refuses reads and refusals alike", async () => {
  const m = envOf({ A_B: "closed-value-000001" });
  await m.close();
  await assert.rejects(
    m.describeSecret("a/b"),
    (e) => e instanceof KeywardError && e.code === "closed",
  );
  await assert.rejects(
    m.setSecret("a/b", "x-value-000001"),
    (e) => e instanceof KeywardError && e.code === "closed",
  );
});

Deno.test("env: an aborted signal rejects the call", async () => {
  const m = envOf({ A_B: "abort-value-000001" });
  const ctl = new AbortController();
  ctl.abort(new Error("stopped by the caller"));
  await assert.rejects(m.getSecret("a/b", { signal: ctl.signal }), /stopped by the caller/);
  await assert.rejects(m.listSecrets("", { signal: ctl.signal }), /stopped by the caller/);
});
