import assert from "node:assert/strict";
import { runMain } from "./_capture.ts";

Deno.test("the CLI refuses SECRET_BACKEND=memory for every command: it keeps nothing between runs", async () => {
  const cases: [string[], string | undefined][] = [
    [["set", "db/password"], "pw-memory-canary-1\n"],
    [["get", "db/password"], undefined],
    [["list"], undefined],
    [["describe", "db/password"], undefined],
    [["promote", "db/password", "1"], undefined],
    [["delete", "db/password", "--yes"], undefined],
    [["scan", "-"], "nothing here\n"],
    [["rotate", "db/password", "--rotator", "random"], undefined],
    [["rotation", "status"], undefined],
    [["rotation", "due"], undefined],
  ];
  for (const backend of ["memory", " memory ", "memory\n"]) {
    for (const [args, stdin] of cases) {
      const r = await runMain(args, { SECRET_BACKEND: backend }, stdin ? { stdin } : {});
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "", "no 'version 1' for a write that is lost");
      assert.match(
        r.stderr,
        /^error: SECRET_BACKEND=memory keeps secrets inside one process only: the CLI would forget every write when it exits/,
      );
      assert.ok(!r.stderr.includes("pw-memory-canary-1"));
    }
  }
  const json = await runMain(["set", "db/password", "--json"], { SECRET_BACKEND: "memory" }, {
    stdin: "pw-memory-canary-1",
  });
  assert.equal(JSON.parse(json.stderr).error.code, "config");
});

Deno.test("commands that need no backend still run with SECRET_BACKEND=memory", async () => {
  assert.equal((await runMain(["keygen", "--stdout"], { SECRET_BACKEND: "memory" })).code, 0);
  assert.equal((await runMain(["--help"], { SECRET_BACKEND: "memory" })).code, 0);
  const scan = await runMain(["scan", "--no-values", "-"], { SECRET_BACKEND: "memory" }, {
    stdin: "clean\n",
  });
  assert.equal(scan.code, 0, scan.stderr);
});
