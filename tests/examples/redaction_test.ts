import assert from "node:assert/strict";
import { ROOT } from "./_services.ts";

const CANARY = `canary-uncaught-${crypto.randomUUID()}`;

for (const mode of ["sync", "async"]) {
  Deno.test(`the example services' redaction: console, LogTape and an uncaught ${mode} error print redacted, and the process exits non-zero`, async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-env", "tests/examples/_fixtures/uncaught.ts", mode],
      cwd: ROOT,
      env: { NO_COLOR: "1", CANARY_VALUE: CANARY },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, text);
    assert.ok(!text.includes(CANARY), `the value was printed:\n${text}`);
    assert.match(text, /console: the password is \[REDACTED/);
    assert.match(text, /logtape: the password is \[REDACTED/);
    assert.match(
      text,
      /uncaught-test: uncaught error: Error: connect failed for password \[REDACTED/,
    );
  });
}
