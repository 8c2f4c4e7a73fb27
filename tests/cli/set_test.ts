import assert from "node:assert/strict";
import { withHarness } from "./_capture.ts";

const CANARY = "CANARY-cli-set-arg-7f3a9";

Deno.test("set refuses a value given as an argument, says why, and never repeats it", async () => {
  await withHarness(async (h) => {
    const attempts = [
      ["set", "db/password", CANARY],
      ["set", "db/password", "--value", CANARY],
      ["set", "db/password", `--value=${CANARY}`],
      ["set", "db/password", "-value", CANARY],
      ["set", "db/password", "--json", CANARY, "extra"],
    ];
    for (const args of attempts) {
      const r = await h.run(args, { stdin: "from-stdin-value-1" });
      assert.equal(r.code, 2, args.join(" "));
      assert.equal(r.stdout, "");
      assert.ok(!r.stderr.includes(CANARY), r.stderr);
      const message = args.includes("--json") ? JSON.parse(r.stderr).error.message : r.stderr;
      assert.match(message, /set does not take the value as an argument/);
      assert.match(message, /shell history/);
      assert.match(message, /process list/);
      assert.match(message, /standard input/);
    }
    assert.equal((await h.run(["list"])).stdout, "", "nothing was written");
  });
});

Deno.test("set drops exactly one trailing newline from standard input", async () => {
  await withHarness(async (h) => {
    const cases: [string, string][] = [
      ["value-no-newline", "value-no-newline"],
      ["value-lf\n", "value-lf"],
      ["value-crlf\r\n", "value-crlf"],
      ["two-newlines\n\n", "two-newlines\n"],
      [
        "-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
        "-----BEGIN KEY-----\nabc\n-----END KEY-----",
      ],
    ];
    for (const [i, [stdin, stored]] of cases.entries()) {
      assert.equal((await h.run(["set", `v/n${i}`], { stdin })).code, 0);
      const json = await h.run(["get", `v/n${i}`, "--json"]);
      assert.equal(JSON.parse(json.stdout).value, stored);
    }
  });
});

Deno.test("set with empty standard input is an invalid value with exit code 2", async () => {
  await withHarness(async (h) => {
    for (const stdin of ["", "\n"]) {
      const r = await h.run(["set", "a/b"], { stdin });
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        /^error: secret "a\/b" has an invalid value: standard input was empty/,
      );
    }
  });
});

Deno.test("set on a terminal asks twice at the hidden prompt", async () => {
  await withHarness(async (h) => {
    const r = await h.run(["set", "a/b"], { typed: ["typed-value-0001", "typed-value-0001"] });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.prompts, ["value of a/b (hidden): ", "again, to confirm: "]);
    assert.equal((await h.run(["get", "a/b"])).stdout, "typed-value-0001\n");

    const differ = await h.run(["set", "a/b"], { typed: ["typed-value-0002", "typo-value-0002"] });
    assert.equal(differ.code, 2);
    assert.match(differ.stderr, /^error: the two entries differ; nothing was written/);
    assert.ok(!differ.stderr.includes("value-0002"));
    assert.equal((await h.run(["get", "a/b"])).stdout, "typed-value-0001\n");
  });
});

Deno.test("set on a terminal without a prompt asks for standard input instead", async () => {
  await withHarness(async (h) => {
    const r = await h.run(["set", "a/b"], { terminalWithoutPrompt: true });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no terminal prompt is available; pipe the value on standard input/);
  });
});

Deno.test("set --field reads one field=value line per named field", async () => {
  await withHarness(async (h) => {
    const r = await h.run(["set", "alpaca/keys", "--field", "key_id", "--field", "secret_key"], {
      stdin: "\nkey_id=PKFIELD000000001\r\nsecret_key=abc=def==\n\n",
    });
    assert.equal(r.code, 0, r.stderr);
    const get = (field: string) => h.run(["get", "alpaca/keys", "--field", field]);
    assert.equal((await get("key_id")).stdout, "PKFIELD000000001\n");
    assert.equal((await get("secret_key")).stdout, "abc=def==\n", "split at the first '='");
  });
});

Deno.test("set --field refuses missing, unnamed, repeated and malformed lines without echoing them", async () => {
  await withHarness(async (h) => {
    const args = ["set", "db/login", "--field", "user", "--field", "password"];
    const cases: [string, RegExp][] = [
      ["user=app\n", /field "password".*no field=value line for this field/],
      [
        `user=app\npassword=p-1\nhost=${CANARY}\n`,
        /line 3 of standard input sets a field not named/,
      ],
      [`user=app\nuser=${CANARY}\npassword=p-1\n`, /field "user".*sets this field twice/],
      [`user=app\n${CANARY}\n`, /line 2 of standard input is not a field=value line/],
      [`=${CANARY}\n`, /line 1 of standard input is not a field=value line/],
    ];
    for (const [stdin, pattern] of cases) {
      const r = await h.run(args, { stdin });
      assert.equal(r.code, 2, stdin);
      assert.match(r.stderr, pattern);
      assert.ok(!r.stderr.includes(CANARY));
    }
    const twice = await h.run(["set", "db/login", "--field", "user", "--field", "user"], {
      stdin: "user=a\n",
    });
    assert.equal(twice.code, 2);
    assert.match(twice.stderr, /--field user is given twice/);
    assert.equal((await h.run(["list"])).stdout, "", "nothing was written");
  });
});

Deno.test("set --field on a terminal prompts for each field", async () => {
  await withHarness(async (h) => {
    const r = await h.run(["set", "db/login", "--field", "user", "--field", "password"], {
      typed: ["app", "app", "pw-typed-0001", "pw-typed-0001"],
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.prompts, [
      "field user of db/login (hidden): ",
      "again, to confirm: ",
      "field password of db/login (hidden): ",
      "again, to confirm: ",
    ]);
    assert.equal(
      (await h.run(["get", "db/login", "--field", "password"])).stdout,
      "pw-typed-0001\n",
    );
  });
});

Deno.test("set --stage and --if-version follow the stage rules", async () => {
  await withHarness(async (h) => {
    const missing = await h.run(["set", "a/b", "--stage", "pending"], { stdin: "pending-0001" });
    assert.equal(missing.code, 3, "a pending write needs an existing secret");
    const badStage = await h.run(["set", "a/b", "--stage", "previous"], { stdin: "x-000001" });
    assert.equal(badStage.code, 2);
    assert.match(badStage.stderr, /--stage must be one of: current, pending/);

    assert.equal((await h.run(["set", "a/b"], { stdin: "current-0001" })).code, 0);
    const ok = await h.run(["set", "a/b", "--if-version", "1", "--json"], {
      stdin: "current-0002",
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).version, "2");
    const stale = await h.run(["set", "a/b", "--if-version", "1"], { stdin: "current-0003" });
    assert.equal(stale.code, 5);
    assert.equal((await h.run(["get", "a/b"])).stdout, "current-0002\n");
  });
});

Deno.test("set on the read-only env backend is unsupported with exit code 6", async () => {
  await withHarness(async (h) => {
    const r = await h.run(["set", "a/b"], { stdin: "env-write-0001" });
    assert.equal(r.code, 6);
    assert.match(r.stderr, /^error: setSecret is not supported by the env backend/);
  }, { SECRET_BACKEND: "env" });
});

Deno.test("set refuses standard input that is not UTF-8, naming the first bad byte (exit 2)", async () => {
  await withHarness(async (h) => {
    const bytes = (...b: number[]) => new Uint8Array(b);
    const cases: [Uint8Array, number][] = [
      [bytes(0x61, 0x62, 0xff), 2], // "ab" then a byte UTF-8 never uses
      [bytes(0x61, 0x62, 0xe2, 0x82), 2], // "ab" then a three-byte sequence cut short
      [bytes(0x61, 0x62, 0xe2, 0x82, 0x0a), 2], // cut short before the newline
      [bytes(0xc3, 0xa4, 0xc0, 0x80), 2], // "ä" then an overlong NUL
      [bytes(0x78, 0xed, 0xa0, 0x80), 1], // an encoded surrogate
    ];
    for (const [stdinBytes, offset] of cases) {
      const r = await h.run(["set", "a/b"], { stdinBytes });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(
        r.stderr,
        new RegExp(`^error: .*standard input is not valid UTF-8 at byte ${offset}\\n$`),
      );
      const fields = await h.run(["set", "a/f", "--field", "user"], { stdinBytes });
      assert.equal(fields.code, 2);
      assert.match(fields.stderr, /standard input is not valid UTF-8 at byte/);
    }
    assert.equal((await h.run(["list"])).stdout, "", "nothing was written");

    const valid = new TextEncoder().encode("pässwörd-✓-𝄞\n");
    assert.equal((await h.run(["set", "a/b"], { stdinBytes: valid })).code, 0);
    assert.equal((await h.run(["get", "a/b"])).stdout, "pässwörd-✓-𝄞\n");
  });
});
