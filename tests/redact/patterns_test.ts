import assert from "node:assert/strict";
import {
  findCredentials,
  isPlaceholder,
  redactCredentials,
  shannonEntropy,
} from "../../redact/patterns.ts";
import { fakes } from "./_fakes.ts";

const kinds = (text: string): string[] => findCredentials(text).map((m) => m.kind);

Deno.test("an AWS access key id (AKIA/ASIA + 16) is found; the documented example key is not", () => {
  assert.deepEqual(kinds(`id=${fakes.awsKey}`), ["aws-access-key"]);
  assert.deepEqual(kinds(`id=${fakes.awsSessionKey}`), ["aws-access-key"]);
  assert.deepEqual(kinds("id=" + "AKIA" + "IOSFODNN7EXAMPLE"), []);
  assert.deepEqual(kinds("id=" + "AKIA" + "SHORT123"), []);
});

Deno.test("Vault tokens (hvs./hvb./hvr. and legacy s.) are found; placeholders are not", () => {
  for (const token of [fakes.vaultToken, fakes.vaultBatchToken, fakes.vaultLegacyToken]) {
    assert.deepEqual(kinds(`X-Vault-Token: ${token}`), ["vault-token"], token.slice(0, 4));
  }
  assert.deepEqual(kinds("VAULT_TOKEN=hvs." + "x".repeat(30)), []);
  assert.deepEqual(kinds("this.settings.access"), []);
});

Deno.test("a private key block is found, also JSON-escaped; a bare header in prose is not", () => {
  assert.deepEqual(kinds(fakes.privateKey), ["private-key"]);
  assert.ok(kinds(JSON.stringify({ pem: fakes.privateKey })).includes("private-key"));
  assert.deepEqual(kinds("look for lines such as -----BEGIN PRIVATE KEY----- in files"), []);
});

Deno.test("a broker key id next to a 40-character secret is a key pair; a key id alone is not", () => {
  const found = findCredentials(fakes.brokerEnv).filter((m) => m.kind === "broker-key-pair");
  assert.equal(found.length, 1);
  assert.equal(found[0].spans.length, 2);
  assert.deepEqual(kinds(`key id ${fakes.brokerKeyId} only`), []);
});

Deno.test("a connection string with a password is found; placeholders are not", () => {
  assert.deepEqual(kinds(`DATABASE_URL=${fakes.connectionString}`), ["connection-string"]);
  for (
    const url of [
      "postgres://app:${DB_PASSWORD}@db/app",
      "postgres://app:<password>@db/app",
      "postgres://app:changeme@db/app",
      "http://127.0.0.1:5000/path",
      "redis://:xxx@cache:6379",
      "https://user:pw@vault",
    ]
  ) {
    assert.deepEqual(kinds(url), [], url);
  }
});

Deno.test("high-entropy values assigned to *_SECRET/_PASSWORD/_TOKEN/_KEY are found", () => {
  assert.deepEqual(kinds(`WEBHOOK_SECRET=${fakes.randomSecret}`), ["assigned-secret"]);
  assert.deepEqual(kinds(`"api_key": "${fakes.randomSecret}"`), ["assigned-secret"]);
  assert.deepEqual(kinds(`db_password = '${fakes.randomSecret}'`), ["assigned-secret"]);
  for (
    const line of [
      "WEBHOOK_SECRET=changeme",
      "API_TOKEN=<your-token-here>",
      "API_TOKEN=${API_TOKEN}",
      "SNAPSHOT_KEY=xxxxxxxxxxxxxxxxxxxxxxxx",
      "DB_PASSWORD=aaaaaaaaaaaaaaaaaaaa",
      "SIGNING_KEY: options.snapshotKey",
      "FILE_KEY=short1A",
      "NOT_A_SECRET_NAME=" + fakes.randomSecret,
      "DB_PASSWORD=contract-db-password-0001",
      'INVALID_TOKEN = "2 errors occurred:\\n\\t* permission denied"',
      "MESSAGE_KEY='token 8f3k2m1q9z refused by the server'",
    ]
  ) {
    assert.deepEqual(kinds(line), [], line);
  }
});

Deno.test("shannonEntropy() measures bits per character", () => {
  assert.equal(shannonEntropy(""), 0);
  assert.equal(shannonEntropy("aaaaaaaa"), 0);
  assert.equal(shannonEntropy("abababab"), 1);
  assert.ok(shannonEntropy(fakes.randomSecret) > 3.5);
});

Deno.test("isPlaceholder() knows the usual stand-ins", () => {
  for (
    const p of ["changeme", "<password>", "${VAR}", "$VAR", "{{ token }}", "xxx", "****", "%s"]
  ) {
    assert.equal(isPlaceholder(p), true, p);
  }
  assert.equal(isPlaceholder(fakes.randomSecret), false);
});

Deno.test("redactCredentials() masks the credential part and keeps the rest", () => {
  assert.equal(
    redactCredentials(`connect ${fakes.connectionString} with ${fakes.vaultToken}`),
    "connect postgres://app:[REDACTED:connection-string]@db.internal:5432/app with [REDACTED:vault-token]",
  );
  const env = redactCredentials(fakes.brokerEnv);
  assert.ok(!env.includes(fakes.brokerKeyId) && !env.includes(fakes.brokerSecret), env);
  assert.equal(redactCredentials("nothing here"), "nothing here");
});
