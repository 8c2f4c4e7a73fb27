import assert from "node:assert/strict";
import { classifyVariable, looksLikeCredential, urlHasPassword } from "../../config.ts";

Deno.test("classifyVariable() marks every secret-looking name ending as a secret", () => {
  for (
    const name of [
      "DB_PASSWORD",
      "SMTP_PASS",
      "MYSQL_PWD",
      "WEBHOOK_SECRET",
      "ALPACA_API_SECRET_KEY",
      "VAULT_ROLE_SECRET_ID",
      "S3_ACCESS_KEY",
      "GITHUB_TOKEN",
      "OPENAI_API_KEY",
      "ALPACA_API_KEY_ID",
      "SENTRY_DSN",
      "PASSWORD",
    ]
  ) {
    assert.equal(classifyVariable(name, "short").kind, "secret", name);
  }
});

Deno.test("classifyVariable() keeps plain settings, including _KEY names with plain values", () => {
  for (
    const [name, value] of [
      ["PORT", "8080"],
      ["HOST", "127.0.0.1"],
      ["LOG_LEVEL", "info"],
      ["DRY_RUN", "true"],
      ["SORT_KEY", "created_at"],
      ["CACHE_KEY", "orders:v2"],
      ["DATABASE_URL", "postgres://db.internal:5432/app"],
      ["ALPACA_BASE_URL", "https://paper-api.alpaca.markets"],
    ]
  ) {
    assert.equal(classifyVariable(name, value).kind, "setting", name);
  }
});

Deno.test("classifyVariable() finds credentials in URLs and _KEY values", () => {
  assert.equal(classifyVariable("DATABASE_URL", "postgres://app:pw1@db/app").kind, "secret");
  // a password with '/' and '#' does not parse as a URL, and is still found
  assert.equal(
    classifyVariable("DATABASE_URL", "postgres://app:Sup3r/Secr3t#pw@db/app").kind,
    "secret",
  );
  assert.equal(classifyVariable("SIGNING_KEY", "q8Zr2vLm0pWx7TnB4kYdQ9aa").kind, "secret");
  assert.equal(classifyVariable("BROKER_KEY", "AKIA" + "Q3EXAMP1E7K2M4ZP").kind, "secret");
  assert.equal(classifyVariable("VAULT_TOKEN", "hvs.anything").kind, "bootstrap");
  assert.equal(classifyVariable("KEYWARD_FILE_KEY", "x").kind, "bootstrap");
});

Deno.test("the reasons never quote the value", () => {
  const value = "q8Zr2vLm0pWx7TnB4kYdQ9aa";
  for (const name of ["SIGNING_KEY", "DB_PASSWORD", "DATABASE_URL", "PORT"]) {
    assert.ok(!classifyVariable(name, value).reason.includes(value));
  }
});

Deno.test("urlHasPassword() and looksLikeCredential() agree with their names", () => {
  assert.ok(urlHasPassword("https://user:pw@example.test/"));
  assert.ok(!urlHasPassword("https://user@example.test/"));
  assert.ok(!urlHasPassword("not a url"));
  assert.ok(!looksLikeCredential("created_at"));
  assert.ok(!looksLikeCredential("<your-key-here>"));
  assert.ok(looksLikeCredential("q8Zr2vLm0pWx7TnB4kYdQ9aa"));
});
