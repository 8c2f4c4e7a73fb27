import assert from "node:assert/strict";
import { runMain } from "./_capture.ts";

Deno.test("scan treats a blank SECRET_BACKEND as unset, as every other setting reader does", async () => {
  const stdin = "just some text\n";
  const unset = await runMain(["scan", "-"], {}, { stdin });
  assert.equal(unset.code, 0, unset.stderr);
  assert.match(unset.stderr, /SECRET_BACKEND is not set; looking for credential shapes only/);
  for (const blank of ["", " ", "\t", " \n"]) {
    const r = await runMain(["scan", "-"], { SECRET_BACKEND: blank }, { stdin });
    assert.equal(r.code, unset.code, JSON.stringify(blank));
    assert.equal(r.stdout, unset.stdout);
    assert.equal(r.stderr, unset.stderr);
  }
});

Deno.test("scan trims SECRET_BACKEND before using it", async () => {
  const value = "scan-env-value-0123456789";
  const r = await runMain(["scan", "-"], {
    SECRET_BACKEND: " env ",
    KEYWARD_ENV_PREFIXES: "APP_",
    APP_TOKEN: value,
  }, { stdin: `token is ${value}\n` });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^<stdin>:1: value of secret "app\/token"/m);
  assert.ok(!r.stdout.includes(value));
});
