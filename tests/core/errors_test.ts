import assert from "node:assert/strict";
import {
  ConfigError,
  exitCodeFor,
  httpStatusFor,
  KeywardError,
  ScrubbedError,
  SecretAccessError,
  SecretNotFoundError,
  UnsupportedOperationError,
} from "../../mod.ts";
import { scrubCause } from "../../backend_kit.ts";

Deno.test("errors name the secret, stage, version and backend", () => {
  const err = new SecretNotFoundError({
    secret: "db/pw",
    stage: "pending",
    version: "7",
    backend: "vault",
  });
  assert.equal(
    err.message,
    'secret "db/pw" (stage pending, version "7") not found in the vault backend',
  );
  assert.equal(err.name, "SecretNotFoundError");
  assert.ok(err instanceof KeywardError);
  assert.equal(err.secret, "db/pw");
  const un = new UnsupportedOperationError("setSecret", { secret: "a", backend: "env" });
  assert.match(un.message, /setSecret is not supported by the env backend/);
  // Without a backend in the context it reads "this backend" (it said "the this backend").
  assert.equal(
    new UnsupportedOperationError("rotation", { secret: "a" }).message,
    'rotation is not supported by this backend (secret "a")',
  );
});

Deno.test("a foreign cause is scrubbed to its name and code", () => {
  const token = "hvs.CANARYTOKEN000000000000000";
  const cause = Object.assign(new TypeError(`request failed with token ${token}`), {
    code: "ECONNREFUSED",
  });
  const err = new SecretAccessError(
    { secret: "a", backend: "vault" },
    "unreachable",
    "unreachable",
  );
  const wrapped = new SecretAccessError({ secret: "a", backend: "vault", cause }, "unreachable");
  assert.ok(wrapped.cause instanceof ScrubbedError);
  assert.equal((wrapped.cause as ScrubbedError).originalName, "TypeError");
  assert.equal((wrapped.cause as ScrubbedError).originalCode, "ECONNREFUSED");
  assert.ok(!Deno.inspect(wrapped).includes(token));
  assert.ok(!JSON.stringify({ ...wrapped, cause: String(wrapped.cause) }).includes(token));
  assert.equal(scrubCause(err), err, "keyward errors are kept");
  assert.ok(scrubCause("a string with a secret") instanceof ScrubbedError);
  assert.equal(
    (scrubCause({ code: "x y z with spaces" }) as ScrubbedError).originalCode,
    undefined,
  );
});

Deno.test("exit codes and HTTP statuses come from one mapping", () => {
  assert.equal(exitCodeFor("not_found"), 3);
  assert.equal(exitCodeFor("access"), 4);
  assert.equal(exitCodeFor("config"), 2);
  assert.equal(exitCodeFor(undefined), 1);
  assert.equal(httpStatusFor("not_found"), 404);
  assert.equal(httpStatusFor("conflict"), 409);
  assert.equal(httpStatusFor("access"), 503);
  assert.equal(new ConfigError("x").code, "config");
});

Deno.test("a scrubbed cause keeps only code-shaped names and codes, never token- or value-shaped ones", () => {
  const canary = `canary-${crypto.randomUUID()}`;
  const token = ["hvs", "CANARYTOKEN000000000000000"].join(".");
  for (const bad of [canary, token, "lower-case-word", "Has Space", "x".repeat(80)]) {
    const scrubbed = scrubCause(
      Object.assign(new Error("m"), { name: bad, code: bad }),
    ) as ScrubbedError;
    assert.equal(scrubbed.originalName, "Error");
    assert.equal(scrubbed.originalCode, undefined);
    assert.ok(!scrubbed.message.includes(bad));
  }
  for (const code of ["ECONNREFUSED", "ERR_TLS_CERT_ALTNAME_INVALID", "AccessDenied"]) {
    assert.equal(
      (scrubCause({ name: "ThrottlingException", code }) as ScrubbedError).originalCode,
      code,
    );
  }
  assert.equal(
    (scrubCause({ name: "HttpError", status: 503 }) as ScrubbedError).originalCode,
    "503",
  );
});
