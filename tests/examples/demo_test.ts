import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parse } from "dotenv";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("`deno task demo` succeeds with the file store and prints none of the sample values", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "demo"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `${stdout}\n${stderr}`);
  assert.match(stdout, /using the embedded encrypted file store \(SECRET_BACKEND=file\)/);

  const samples = Object.values(parse(await Deno.readTextFile(`${ROOT}examples/sample.env`)));
  assert.equal(samples.length, 4);
  for (const value of samples) {
    assert.ok(value.length >= 16);
    assert.ok(
      !stdout.includes(value) && !stderr.includes(value),
      "the demo printed a sample value",
    );
  }
  // What it shows instead: redacted values, fingerprints, the not-found error, the rotation.
  // The migration step: the migrate command's table, then a second run that changes nothing.
  assert.match(
    stdout,
    /migrate the FAKE credentials of examples\/sample\.env \(deno task migrate\)/,
  );
  assert.match(stdout, /alpaca\/api_key +created +ALPACA_API_KEY_ID,ALPACA_API_SECRET_KEY/);
  assert.match(stdout, /database\/password +created +DATABASE_PASSWORD/);
  assert.match(stdout, /webhook\/secret +created +WEBHOOK_SECRET/);
  assert.match(stdout, /next steps:/);
  assert.match(stdout, /3 rows, 0 changed/);
  assert.match(
    stdout,
    /alpaca\/api_key key_id +\[REDACTED\] +fingerprint [0-9a-f]{8} +matches ALPACA_API_KEY_ID/,
  );
  assert.match(stdout, /SecretNotFoundError \(code not_found, CLI exit code 3\)/);
  assert.match(stdout, /promoted version 2: current is now fingerprint [0-9a-f]{8}/);
  assert.match(stdout, /values in clear: none of 5/);
  assert.match(
    stdout,
    /still verifies during the grace period \(previous\)[\s\S]*deprecate_previous +succeeded/,
  );

  // The temporary directory is gone.
  const dir = /removed (\S+)\. Done\./.exec(stdout)?.[1];
  assert.ok(dir, "the demo says which directory it removed");
  await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
});
