/**
 * Issue 14 §5: `secrets run` (secrets as variables, the child's output
 * redacted, its exit code passed through, signals forwarded) and `secrets
 * check` (every declared secret readable; exit 10 with the failures).
 */

import assert from "node:assert/strict";
import { main } from "../../cli.ts";
import type { CliIo } from "../../cli/_io.ts";
import { MemorySecretManager } from "../../testing.ts";
import { runMain, withHarness } from "./_capture.ts";

const CANARY = "canary-run-4f8e2a9c1d7b3e5f";
const DB_PW = "canary/db#pw?3a9f";

Deno.test("run hands the secrets under --prefix to the child; its output shows [REDACTED...] and never the value", async () => {
  await withHarness(async (h) => {
    await h.run(["set", "test/webhook/secret"], { stdin: CANARY });
    const r = await h.run([
      "run",
      "--prefix",
      "test/",
      "--",
      "bash",
      "-c",
      'echo "out: $WEBHOOK_SECRET"; echo "err: $WEBHOOK_SECRET" >&2; exit 3',
    ]);
    assert.equal(r.code, 3, "the exit code is the child's");
    assert.match(r.stdout, /^out: \[REDACTED[^\]]*\]\n$/);
    assert.match(r.stderr, /err: \[REDACTED[^\]]*\]\n/);
    assert.ok(!r.stdout.includes(CANARY) && !r.stderr.includes(CANARY));
  });
});

Deno.test("run --map builds a variable from a template over a secret's fields, each percent-encoded, and redacts it", async () => {
  await withHarness(async (h) => {
    await h.run(["set", "test/database/app", "--field", "username", "--field", "password"], {
      stdin: `username=app\npassword=${DB_PW}\n`,
    });
    const map = `${h.dir}/map.json`;
    await Deno.writeTextFile(
      map,
      JSON.stringify({
        env: {
          DATABASE_URL: {
            secret: "test/database/app",
            template: "postgres://{username}:{password}@127.0.0.1:5432/keyward_test",
          },
        },
      }),
    );
    const check = `${h.dir}/out.txt`;
    const r = await h.run([
      "run",
      "--map",
      map,
      "--",
      "bash",
      "-c",
      `printf '%s' "$DATABASE_URL" > ${check}; echo "url=$DATABASE_URL"`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      await Deno.readTextFile(check),
      `postgres://app:${encodeURIComponent(DB_PW)}@127.0.0.1:5432/keyward_test`,
    );
    assert.match(r.stdout, /^url=\[REDACTED/);
    assert.ok(!r.stdout.includes(DB_PW) && !r.stdout.includes(encodeURIComponent(DB_PW)));
  });
});

Deno.test("run redacts a value split across two writes of the child", async () => {
  await withHarness(async (h) => {
    await h.run(["set", "test/webhook/secret"], { stdin: CANARY });
    const r = await h.run([
      "run",
      "--prefix",
      "test/",
      "--",
      "bash",
      "-c",
      `printf '%s' "\${WEBHOOK_SECRET:0:10}"; sleep 0.2; printf '%s\\n' "\${WEBHOOK_SECRET:10}"`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(CANARY), r.stdout);
    assert.match(r.stdout, /\[REDACTED/);
  });
});

Deno.test("run forwards SIGTERM to the child and exits with the child's code", async () => {
  const memory = new MemorySecretManager({ initial: { "test/webhook/secret": CANARY } });
  const listeners = new Map<string, () => void>();
  let out = "";
  let ready: () => void;
  const started = new Promise<void>((resolve) => ready = resolve);
  const io: CliIo = {
    stdout: (text) => {
      out += text;
      if (out.includes("ready")) ready();
    },
    stderr: () => {},
    readStdin: () => Promise.resolve(""),
    stdinIsTerminal: false,
    env: { PATH: Deno.env.get("PATH") },
  };
  const running = main(
    [
      "run",
      "--prefix",
      "test/",
      "--",
      "bash",
      "-c",
      "trap 'echo \"got TERM\"; exit 42' TERM; echo ready; while true; do sleep 0.05; done",
    ],
    io,
    {
      createManager: () => Promise.resolve(memory),
      addSignalListener: (signal, handler) => listeners.set(signal, handler),
      removeSignalListener: (signal) => listeners.delete(signal),
    },
  );
  await started;
  assert.ok(listeners.has("SIGINT") && listeners.has("SIGTERM"));
  listeners.get("SIGTERM")!();
  assert.equal(await running, 42);
  assert.match(out, /got TERM/);
  assert.equal(listeners.size, 0, "the listeners are removed after the child exits");
});

Deno.test("run: a command that does not exist is a usage error; no --prefix or --map is refused", async () => {
  await withHarness(async (h) => {
    const none = await h.run(["run", "--prefix", "test/", "--", "no-such-command-kw"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /command not found/);
    const bare = await h.run(["run", "--", "true"]);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /needs --prefix or --map/);
  });
});

Deno.test("check: exit 0 when every name is readable; 10 with the failures by name and code, never a value", async () => {
  await withHarness(async (h) => {
    await h.run(["set", "alpaca/api_key", "--field", "key_id", "--field", "secret_key"], {
      stdin: `key_id=PK000\nsecret_key=${CANARY}\n`,
    });
    await h.run(["set", "database/app"], { stdin: DB_PW });
    const ok = await h.run(["check", "--names", "alpaca/api_key,database/app"]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /2 of 2 readable/);

    const file = `${h.dir}/names.txt`;
    await Deno.writeTextFile(
      file,
      "# the signal service\nalpaca/api_key\ndatabase/app\nwebhook/secret\n",
    );
    const bad = await h.run(["check", "--names", file, "--json"]);
    assert.equal(bad.code, 10);
    const report = JSON.parse(bad.stdout);
    assert.deepEqual(report.failed, ["webhook/secret"]);
    assert.equal(report.rows[2].code, "not_found");
    for (const text of [ok.stdout, ok.stderr, bad.stdout, bad.stderr]) {
      assert.ok(!text.includes(CANARY) && !text.includes(DB_PW));
    }
  });
});

Deno.test("check lists the names only the SECRET_FALLBACK=env fallback serves", async () => {
  await withHarness(async (h) => {
    await h.run(["set", "database/app"], { stdin: DB_PW });
    const env = {
      ...h.env,
      SECRET_FALLBACK: "env",
      WEBHOOK_SECRET: CANARY,
      KEYWARD_ENV_FILE: "none",
    };
    const r = await runMain([
      "check",
      "--names",
      "database/app,webhook/secret,alpaca/api_key",
      "--json",
    ], env);
    assert.equal(r.code, 10, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.servedByFallback, ["webhook/secret"]);
    assert.deepEqual(report.failed, ["alpaca/api_key"]);
    assert.ok(!r.stdout.includes(CANARY));
  });
});

Deno.test("deno task secrets run, as a process: SIGTERM sent to the CLI reaches the child; its exit code comes back", async () => {
  await withHarness(async (h) => {
    await h.run(["set", "test/webhook/secret"], { stdin: CANARY });
    const root = new URL("../../", import.meta.url);
    const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))).tasks;
    const flags = String(tasks.secrets).replace(/^deno run /, "").replace(/ cli\.ts$/, "").split(
      " ",
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...flags,
        new URL("cli.ts", root).pathname,
        "run",
        "--prefix",
        "test/",
        "--",
        "bash",
        "-c",
        "trap 'echo \"got TERM $WEBHOOK_SECRET\"; exit 42' TERM; echo ready; while true; do sleep 0.05; done",
      ],
      env: {
        ...h.env,
        NO_COLOR: "1",
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
        HOME: Deno.env.get("HOME") ?? h.dir,
      },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    if (!out.includes("ready")) {
      const err = await new Response(child.stderr).text();
      await child.status;
      assert.fail(`the CLI did not start the child: ${err}`);
    }
    child.kill("SIGTERM");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const status = await child.status;
    await child.stderr.cancel();
    assert.equal(status.code, 42, out);
    assert.match(out, /got TERM \[REDACTED/);
    assert.ok(!out.includes(CANARY));
  });
});
