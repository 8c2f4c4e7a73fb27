import assert from "node:assert/strict";
import { CliHarness, runMain } from "../cli/_capture.ts";
import { FileRotationLocks } from "../../rotation/lock_file.ts";

const NAME = "webhooks/signing";
const CANARY = "canary-whsec-4b1d9e0a7c3f";

/** A file-store harness whose rotation log, locks and policy live in its directory. */
async function harness(extra: Record<string, string> = {}): Promise<CliHarness> {
  const h = await CliHarness.create();
  Object.assign(h.env, {
    SECRET_ROTATION_LOG_FILE: `${h.dir}/rotation.jsonl`,
    SECRET_ROTATION_LOCK_DIR: `${h.dir}/locks`,
    KEYWARD_ROTATION_POLICY: `${h.dir}/policy.json`,
    USER: "ops-alice",
    ...extra,
  });
  await Deno.writeTextFile(
    `${h.dir}/policy.json`,
    JSON.stringify({ rules: [{ prefix: "webhooks/", rotator: "random", maxAgeDays: 90 }] }),
  );
  return h;
}

async function logRows(h: CliHarness): Promise<Record<string, unknown>[]> {
  try {
    const text = await Deno.readTextFile(`${h.dir}/rotation.jsonl`);
    return text.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

Deno.test("rotate on the file store prints each step and a summary; the log has no value", async () => {
  const h = await harness();
  try {
    assert.equal((await h.run(["set", NAME], { stdin: CANARY })).code, 0);
    const run = await h.run(["rotate", NAME]);
    assert.equal(run.code, 0, run.stderr);
    for (const step of ["create_pending", "set_at_provider", "test_pending", "promote", "verify"]) {
      assert.match(run.stdout, new RegExp(`  ${step} +succeeded +\\S+  version 2`));
    }
    assert.match(run.stdout, /rotated webhooks\/signing: version 1 -> 2/);
    const current = (await h.run(["get", NAME])).stdout.trim();
    assert.notEqual(current, CANARY);
    const rows = await logRows(h);
    assert.ok(rows.length >= 12);
    assert.ok(rows.every((r) => r.rotatedBy === "ops-alice"));
    const text = JSON.stringify(rows) + run.stdout + run.stderr;
    assert.ok(!text.includes(CANARY) && !text.includes(current), "no value printed or logged");
    const history = await h.run(["rotation", "history", NAME, "--json"]);
    const [rotation] = JSON.parse(history.stdout).rotations;
    assert.equal(rotation.phase, "scheduled");
    assert.equal(rotation.newVersion, "2");
  } finally {
    await h.dispose();
  }
});

Deno.test("rotate --json prints one object per step, then the summary", async () => {
  const h = await harness();
  try {
    await h.run(["set", NAME], { stdin: CANARY });
    const run = await h.run([
      "rotate",
      NAME,
      "--json",
      "--grace",
      "0s",
      "--delete-after",
      "0s",
      "--by",
      "ci-bot",
    ]);
    assert.equal(run.code, 0, run.stderr);
    const objects = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(
      objects.filter((o) => o.type === "step").map((o) => `${o.step}:${o.outcome}`),
      [
        "create_pending:succeeded",
        "set_at_provider:succeeded",
        "test_pending:succeeded",
        "promote:succeeded",
        "verify:succeeded",
        "deprecate_previous:scheduled",
        "schedule_deletion:scheduled",
        "deprecate_previous:succeeded",
        "schedule_deletion:succeeded",
      ],
    );
    const summary = objects.at(-1);
    assert.equal(summary.type, "summary");
    assert.equal(summary.outcome, "completed");
    assert.ok((await logRows(h)).every((r) => r.rotatedBy === "ci-bot"));
  } finally {
    await h.dispose();
  }
});

Deno.test("rotate --dry-run prints the plan and touches nothing", async () => {
  const h = await harness();
  try {
    await h.run(["set", NAME], { stdin: CANARY });
    const run = await h.run(["rotate", NAME, "--dry-run"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /dry run: would rotate webhooks\/signing \(file, current version 1\) with random/,
    );
    assert.match(run.stdout, /nothing was changed/);
    assert.deepEqual(await logRows(h), []);
    assert.equal((await h.run(["get", NAME])).stdout.trim(), CANARY);
    const described = JSON.parse((await h.run(["describe", NAME, "--json"])).stdout);
    assert.equal(described.versions.length, 1);
  } finally {
    await h.dispose();
  }
});

Deno.test("bad input: a clear message, a non-zero exit, nothing written", async () => {
  const h = await harness();
  try {
    await h.run(["set", NAME], { stdin: CANARY });
    const cases: [string[], number, RegExp][] = [
      [["rotate", "bad//name"], 2, /invalid secret name/],
      [["rotate", "webhooks/missing"], 3, /not found|does not exist/],
      [["rotate", "other/thing"], 2, /no rotation policy rule covers/],
      [["rotate", NAME, "--grace", "a week"], 2, /--grace takes a duration/],
      [["rotate", NAME, "--rotator", "nope"], 2, /unknown rotator/],
      [["rotate", NAME, "--by", "ops alice; rm"], 2, /--by must be/],
      [["rotation", "resume", "not-a-uuid"], 2, /takes a rotation id/],
      [["rotation", "resume", "00000000-0000-0000-0000-000000000000"], 3, /no rotation/],
      [["rotation", "frobnicate"], 2, /unknown rotation subcommand/],
    ];
    for (const [args, code, message] of cases) {
      const run = await h.run(args);
      assert.equal(run.code, code, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message, args.join(" "));
    }
    // A policy with several problems: every one, with its path.
    await Deno.writeTextFile(
      `${h.dir}/policy.json`,
      JSON.stringify({
        rules: [{
          prefix: "webhooks/",
          rotator: "randomm",
          graceDays: -2,
          verify: [{ url: "ftp://x" }],
        }],
        extra: 1,
      }),
    );
    const bad = await h.run(["rotate", NAME]);
    assert.equal(bad.code, 2);
    for (
      const path of [
        "$.extra",
        "$.rules[0].rotator",
        "$.rules[0].graceDays",
        "$.rules[0].verify[0].url",
      ]
    ) {
      assert.ok(bad.stderr.includes(path), `${path} in ${bad.stderr}`);
    }
    assert.deepEqual(await logRows(h), []);
    assert.equal((await h.run(["get", NAME])).stdout.trim(), CANARY);
  } finally {
    await h.dispose();
  }
});

Deno.test("the env backend cannot keep versions: refused with exit 6", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = await runMain(["rotate", NAME, "--rotator", "random"], {
      SECRET_BACKEND: "env",
      WEBHOOKS_SIGNING: CANARY,
      SECRET_ROTATION_LOG_FILE: `${dir}/rotation.jsonl`,
      SECRET_ROTATION_LOCK_DIR: `${dir}/locks`,
    });
    assert.equal(run.code, 6, run.stderr);
    assert.match(run.stderr, /env backend/);
    assert.ok(!run.stderr.includes(CANARY));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a rotation held by a running process is refused with its id (exit 5); a dead holder's lock is stale", async () => {
  const h = await harness();
  try {
    await h.run(["set", NAME], { stdin: CANARY });
    const locks = new FileRotationLocks(`${h.dir}/locks`);
    const held = await locks.acquire(NAME, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
    const refused = await h.run(["rotate", NAME]);
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/);
    await held.release();
    // A lock left by a process that died on this host is proven stale.
    const dead = new Deno.Command("true").spawn();
    const { pid } = dead;
    await dead.status;
    const host = JSON.parse(
      JSON.stringify({ pid, host: Deno.hostname(), startedAt: new Date().toISOString() }),
    );
    await Deno.writeTextFile(
      locks.pathOf(NAME),
      JSON.stringify({ ...host, rotationId: "ffffffff-0000-0000-0000-000000000000" }),
    );
    const taken = await h.run(["rotate", NAME]);
    assert.equal(taken.code, 0, taken.stderr);
  } finally {
    await h.dispose();
  }
});

Deno.test("rotation due lists days left and exits 9 when a secret is overdue", async () => {
  const h = await harness();
  try {
    await h.run(["set", NAME], { stdin: CANARY });
    const fine = await h.run(["rotation", "due", "--json"]);
    assert.equal(fine.code, 0, fine.stderr);
    const [entry] = JSON.parse(fine.stdout).secrets;
    assert.equal(entry.secretName, NAME);
    assert.equal(entry.overdue, false);
    await Deno.writeTextFile(
      `${h.dir}/policy.json`,
      JSON.stringify({ rules: [{ prefix: "webhooks/", rotator: "random", maxAgeDays: 1 }] }),
    );
    // Age the secret: the store keeps each version's date in the clear.
    const text = await Deno.readTextFile(`${h.dir}/secrets.json`);
    const aged = text.replace(/"createdAt":\d+/g, `"createdAt":${Date.now() - 3 * 86_400_000}`);
    assert.notEqual(aged, text);
    await Deno.writeTextFile(`${h.dir}/secrets.json`, aged);
    const overdue = await h.run(["rotation", "due"]);
    assert.equal(overdue.code, 9, overdue.stderr);
    assert.match(
      overdue.stdout,
      /webhooks\/signing {2}random {2}version 1 {2}age 3d of 1d {2}OVERDUE by 2d/,
    );
  } finally {
    await h.dispose();
  }
});

Deno.test("rotation status and finish", async () => {
  const h = await harness();
  try {
    await h.run(["set", NAME], { stdin: CANARY });
    const rotated = await h.run(["rotate", NAME, "--json"]);
    const id = JSON.parse(rotated.stdout.trim().split("\n").at(-1)!).rotationId;
    const status = await h.run(["rotation", "status", id]);
    assert.equal(status.code, 0);
    assert.match(status.stdout, new RegExp(`${id}  ${NAME}  random  scheduled  1 -> 2`));
    const byName = JSON.parse((await h.run(["rotation", "status", NAME, "--json"])).stdout);
    assert.equal(byName.rotations[0].rotationId, id);
    const finish = await h.run(["rotation", "finish"]);
    assert.equal(finish.code, 0);
    assert.match(finish.stdout, /nothing is due/);
    const rollback = await h.run(["rotation", "rollback", id]);
    assert.equal(rollback.code, 8);
    assert.equal((await h.run(["get", NAME])).stdout.trim(), CANARY);
  } finally {
    await h.dispose();
  }
});

Deno.test("with SECRET_AUDIT=jsonl every finished step is a rotate event in the audit trail, without a value", async () => {
  const h = await harness();
  Object.assign(h.env, {
    SECRET_AUDIT: "jsonl",
    SECRET_AUDIT_SERVICE: "rotator",
    SECRET_AUDIT_FILE: `${h.dir}/audit.jsonl`,
  });
  try {
    await h.run(["set", NAME], { stdin: CANARY });
    const run = await h.run(["rotate", NAME, "--grace", "0s", "--delete-after", "0s"]);
    assert.equal(run.code, 0, run.stderr);
    const audit = await Deno.readTextFile(`${h.dir}/audit.jsonl`);
    const rotate = audit.trim().split("\n").map((l) => JSON.parse(l)).filter((e) =>
      e.action === "rotate"
    );
    assert.equal(rotate.length, 7, "one event per finished step");
    const current = (await h.run(["get", NAME])).stdout.trim();
    assert.ok(!audit.includes(CANARY) && !audit.includes(current));
  } finally {
    await h.dispose();
  }
});

Deno.test("vault + cache + namespace + SECRET_AUDIT=jsonl: every finished step reaches the audit trail (regression: the wrappers hid recordRotation)", async () => {
  const { FakeVaultServer } = await import("../fakes/vault_server.ts");
  const server = await FakeVaultServer.start();
  const dir = await Deno.makeTempDir();
  const env: Record<string, string> = {
    SECRET_BACKEND: "vault",
    VAULT_ADDR: server.url,
    VAULT_TOKEN: server.rootToken,
    SECRET_NAMESPACE: "prod",
    SECRET_AUDIT: "jsonl",
    SECRET_AUDIT_SERVICE: "rotator",
    SECRET_AUDIT_FILE: `${dir}/audit.jsonl`,
    SECRET_ROTATION_LOG_FILE: `${dir}/rotation.jsonl`,
    SECRET_ROTATION_LOCK_DIR: `${dir}/locks`,
    KEYWARD_ROTATION_POLICY: `${dir}/policy.json`,
    USER: "ops-alice",
  };
  try {
    await Deno.writeTextFile(
      `${dir}/policy.json`,
      JSON.stringify({ rules: [{ prefix: "webhooks/", rotator: "random" }] }),
    );
    assert.equal((await runMain(["set", NAME], env, { stdin: CANARY })).code, 0);
    const run = await runMain(["rotate", NAME, "--grace", "0s", "--delete-after", "0s"], env);
    assert.equal(run.code, 0, run.stderr);
    const events = (await Deno.readTextFile(`${dir}/audit.jsonl`)).trim().split("\n")
      .map((l) => JSON.parse(l));
    const rotate = events.filter((e) => e.action === "rotate");
    assert.equal(rotate.length, 7, "one event per finished step, through cache and namespace");
    assert.ok(rotate.every((e) => e.secret_name === "prod/webhooks/signing"), "the full name");
    assert.ok(rotate.every((e) => e.outcome === "ok" && e.backend === "vault"));
    const current = (await runMain(["get", NAME], env)).stdout.trim();
    const text = JSON.stringify(events);
    assert.ok(!text.includes(CANARY) && !text.includes(current), "no value in the audit trail");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rotate builds its manager through the CLI's deps: a test injects one", async () => {
  const { MemorySecretManager } = await import("../../backends/memory.ts");
  const dir = await Deno.makeTempDir();
  const memory = new MemorySecretManager({ initial: { [NAME]: CANARY } });
  let built = 0;
  const createManager = () => {
    built++;
    return Promise.resolve(memory);
  };
  try {
    const env = {
      SECRET_BACKEND: "memory",
      SECRET_ROTATION_LOG_FILE: `${dir}/rotation.jsonl`,
      SECRET_ROTATION_LOCK_DIR: `${dir}/locks`,
      USER: "ops-alice",
    };
    const run = await runMain(["rotate", NAME, "--rotator", "random"], env, {}, { createManager });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(built, 1);
    assert.match(run.stdout, /rotated webhooks\/signing: version 1 -> 2/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
