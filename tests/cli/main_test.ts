import assert from "node:assert/strict";
import { runMain, withHarness } from "./_capture.ts";

const COMMANDS = [
  "get",
  "list",
  "set",
  "describe",
  "promote",
  "delete",
  "keygen",
  "scan",
  "audit",
  "rotate",
  "rotation",
  "token",
  "migrate",
  "template",
  "run",
  "check",
];

Deno.test("secrets --help lists every command and exits 0", async () => {
  const r = await runMain(["--help"], {});
  assert.equal(r.code, 0);
  assert.equal(r.stderr, "");
  for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c} +\\S`, "m"));
  assert.match(r.stdout, /--json/);
  assert.match(r.stdout, /SECRET_BACKEND/);
});

Deno.test("secrets --help --json lists the commands as JSON", async () => {
  for (const args of [["--help", "--json"], ["--json", "-h"]]) {
    const r = await runMain(args, {});
    assert.equal(r.code, 0);
    const parsed = JSON.parse(r.stdout) as { commands: { name: string; summary: string }[] };
    assert.deepEqual(parsed.commands.map((c) => c.name), COMMANDS);
    for (const c of parsed.commands) assert.ok(c.summary.length > 10);
  }
});

Deno.test("no command prints the usage on standard error and exits 2", async () => {
  const r = await runMain([], {});
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^error: no command given\n\nusage: secrets <command>/);
});

Deno.test("an unknown command prints the usage and exits 2 without repeating the word", async () => {
  const r = await runMain(["sekrit-canary-word"], {});
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: unknown command\n/);
  assert.match(r.stderr, /usage: secrets <command>/);
  assert.ok(!r.stderr.includes("sekrit-canary-word"));
});

Deno.test("an unknown option before the command exits 2", async () => {
  const r = await runMain(["--verbose", "list"], { SECRET_BACKEND: "memory" });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: unknown option before the command/);
});

Deno.test("every command answers --help with its usage and exit code 0", async () => {
  for (const c of COMMANDS) {
    // No backend is configured: --help must not need one.
    for (const args of [[c, "--help"], ["--help", c], [c, "-h"]]) {
      const r = await runMain(args, {});
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^usage: secrets ${c}\\b`));
      assert.match(r.stdout, /--json/);
      assert.equal(r.stderr, "");
    }
    const j = await runMain([c, "--help", "--json"], {});
    assert.equal(j.code, 0);
    const parsed = JSON.parse(j.stdout) as { command: string; usage: string };
    assert.equal(parsed.command, c);
    assert.match(parsed.usage, new RegExp(`^usage: secrets ${c}\\b`));
  }
});

Deno.test("an unknown flag on any command gives the command's usage and exit code 2", async () => {
  for (const c of COMMANDS) {
    const r = await runMain([c, "--frobnicate"], { SECRET_BACKEND: "memory" });
    assert.equal(r.code, 2, c);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^error: unknown option --frobnicate\n\nusage: secrets /);
    assert.match(r.stderr, new RegExp(`usage: secrets ${c}\\b`));
  }
});

Deno.test("a wrong number of arguments gives usage and exit code 2", async () => {
  const cases: [string[], RegExp][] = [
    [["get"], /get: missing argument/],
    [["get", "a", "b"], /get: too many arguments/],
    [["describe"], /describe: missing argument/],
    [["promote", "a"], /promote: missing argument/],
    [["list", "a", "b"], /list: too many arguments/],
    [["keygen", "extra", "--stdout"], /keygen: too many arguments/],
    [["get", "--stage"], /option --stage needs a value/],
    [["delete", "a", "--yes=no"], /option --yes does not take a value/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runMain(args, { SECRET_BACKEND: "memory" });
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, pattern);
  }
});

Deno.test("a missing SECRET_BACKEND is reported as error: with exit code 2", async () => {
  const r = await runMain(["list"], {});
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^error: SECRET_BACKEND is not set; choose one of: file, env, memory/);
  assert.ok(!r.stderr.includes("usage:"), "a settings error is not a usage error");
});

Deno.test("with --json an error is a JSON object on standard error carrying its code", async () => {
  await withHarness(async (h) => {
    for (const args of [["get", "missing/name", "--json"], ["--json", "get", "missing/name"]]) {
      const r = await h.run(args);
      assert.equal(r.code, 3);
      assert.equal(r.stdout, "");
      const parsed = JSON.parse(r.stderr) as { error: { code: string; message: string } };
      assert.equal(parsed.error.code, "not_found");
      assert.match(parsed.error.message, /missing\/name/);
    }
    const usage = await h.run(["get", "--json"]);
    assert.equal(usage.code, 2);
    assert.equal(JSON.parse(usage.stderr).error.code, "usage");
  });
});

Deno.test("exit codes follow the error codes: not found 3, conflict 5, unsupported 6, invalid 2", async () => {
  await withHarness(async (h) => {
    assert.equal((await h.run(["set", "a/b"], { stdin: "value-one-1\n" })).code, 0);
    const cases: [string[], number, RegExp][] = [
      [
        ["get", "a/missing"],
        3,
        /^error: secret "a\/missing" \(stage current\) not found in the file backend/,
      ],
      [["get", "a/b", "--stage", "pending"], 3, /stage pending/],
      [["promote", "a/b", "99"], 3, /version "99"/],
      [["delete", "a/b", "--yes", "--recovery-days", "7"], 6, /not supported by the file backend/],
      [
        ["get", "a//b"],
        2,
        /^error: invalid secret name \(4 characters\): .*empty segment .*\(position 2\)/,
      ],
      [["list", "/x"], 2, /invalid secret name/],
    ];
    for (const [args, code, pattern] of cases) {
      const r = await h.run(args);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.equal(r.stdout, "");
    }
    const conflict = await h.run(["set", "a/b", "--if-version", "7"], { stdin: "value-two-2" });
    assert.equal(conflict.code, 5);
    assert.match(conflict.stderr, /^error: secret "a\/b" .*changed concurrently/);
  });
});

Deno.test("a damaged store is an access error with exit code 4", async () => {
  await withHarness(async (h) => {
    await Deno.writeTextFile(h.env.KEYWARD_FILE_PATH, "{ not json");
    const r = await h.run(["list"]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /^error: /);
  });
});
