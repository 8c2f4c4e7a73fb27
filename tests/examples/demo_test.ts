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
  assert.match(stdout, /alpaca\/api_key_id +\[REDACTED\] +fingerprint [0-9a-f]{8}/);
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
