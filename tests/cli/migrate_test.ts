/**
 * Issue 14 §4: `secrets migrate` and `secrets template`, on the embedded
 * file store and on a memory manager handed in through deps. Every value
 * is a canary that must never show in any output.
 */

import assert from "node:assert/strict";
import { SecretAccessError, SecretNotFoundError } from "../../core/errors.ts";
import { MemorySecretManager } from "../../testing.ts";
import { ForwardingSecretManager } from "../../core/_forwarding.ts";
import type { SecretManager, SecretValue, WriteOptions } from "../../core/types.ts";
import { runMain, withHarness } from "./_capture.ts";

const CANARY = {
  key: "PKCANARY7f3a9c2e11d0",
  secretKey: "canary-alpaca-secret-5b8e1d4c9a7f2e6b",
  dbPassword: "canary-db-pw-3e9a1c7f",
  webhook: "whsec_canary_8d2f6a1b3c5e7d9f0a",
};
const ALL = Object.values(CANARY);

const ENV_FILE = `# a service's .env
HOST=0.0.0.0
PORT=8080
SORT_KEY=created_at
ALPACA_API_KEY_ID=${CANARY.key}
ALPACA_API_SECRET_KEY=${CANARY.secretKey}
DATABASE_URL=postgresql://app:${CANARY.dbPassword}@db.internal:5433/orders
WEBHOOK_SECRET=${CANARY.webhook}
`;

function assertNoCanary(...texts: string[]): void {
  for (const text of texts) {
    for (const c of ALL) {
      assert.ok(!text.includes(c), `a canary value leaked: ${text.slice(0, 200)}`);
      assert.ok(!text.includes(encodeURIComponent(c)), "a canary leaked URL-encoded");
    }
  }
}

async function writeEnv(dir: string, text = ENV_FILE): Promise<string> {
  const path = `${dir}/.env`;
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("migrate writes the secrets to the file store, groups the pairs, and a second run changes nothing", async () => {
  await withHarness(async (h) => {
    const from = await writeEnv(h.dir);
    const first = await h.run(["migrate", "--from", from]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /alpaca\/api_key\s+created\s+ALPACA_API_KEY_ID,ALPACA_API_SECRET_KEY/,
    );
    assert.match(first.stdout, /database\/app\s+created/);
    assert.match(first.stdout, /webhook\/secret\s+created/);
    assert.match(first.stdout, /PORT\s+skipped-setting/);
    assert.match(first.stdout, /DATABASE_HOST=db\.internal/);
    assert.match(first.stdout, /DATABASE_PORT=5433/);
    assert.match(first.stdout, /next steps:/);
    assert.ok(!first.stderr.includes("migrate: "), "no progress line off a terminal");
    assertNoCanary(first.stdout, first.stderr);

    const key = await h.run(["get", "alpaca/api_key", "--field", "secret_key"]);
    assert.equal(key.stdout.trim(), CANARY.secretKey);
    const pw = await h.run(["get", "database/app", "--field", "password"]);
    assert.equal(pw.stdout.trim(), CANARY.dbPassword);

    const again = await h.run(["migrate", "--from", from, "--json"]);
    assert.equal(again.code, 0, again.stderr);
    const report = JSON.parse(again.stdout);
    const actions = report.rows.filter((r: { action: string }) => r.action !== "skipped-setting")
      .map((r: { action: string }) => r.action);
    assert.deepEqual(actions, ["unchanged", "unchanged", "unchanged"]);
    assert.deepEqual(report.written, []);
    assertNoCanary(again.stdout, again.stderr);
    // the source file is never edited
    assert.equal(await Deno.readTextFile(from), ENV_FILE);
  });
});

Deno.test("migrate --dry-run writes nothing; a different value is a conflict until --overwrite", async () => {
  await withHarness(async (h) => {
    const from = await writeEnv(h.dir);
    const dry = await h.run(["migrate", "--from", from, "--dry-run", "--json"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.ok(
      JSON.parse(dry.stdout).rows.some((r: { action: string }) => r.action === "would-create"),
    );
    assert.equal((await h.run(["list"])).stdout, "");

    await h.run(["set", "webhook/secret"], { stdin: "whsec_other_value_0000000000" });
    const conflict = await h.run(["migrate", "--from", from]);
    assert.equal(conflict.code, 10, conflict.stdout);
    assert.match(conflict.stdout, /webhook\/secret\s+conflict/);
    assertNoCanary(conflict.stdout, conflict.stderr);
    assert.equal(
      (await h.run(["get", "webhook/secret"])).stdout.trim(),
      "whsec_other_value_0000000000",
    );

    const over = await h.run(["migrate", "--from", from, "--overwrite"]);
    assert.equal(over.code, 0, over.stderr);
    assert.match(over.stdout, /webhook\/secret\s+updated/);
    assert.equal((await h.run(["get", "webhook/secret"])).stdout.trim(), CANARY.webhook);
  });
});

Deno.test("migrate --namespace and --only select where and what", async () => {
  await withHarness(async (h) => {
    const from = await writeEnv(h.dir);
    const r = await h.run(["migrate", "--from", from, "--namespace", "prod", "--only", "alpaca/"]);
    assert.equal(r.code, 0, r.stderr);
    const names = (await h.run(["list"])).stdout.trim().split("\n");
    assert.deepEqual(names, ["prod/alpaca/api_key"]);
  });
});

Deno.test("migrate: markers of a .env.template next to the file win; a map file overrides the rules", async () => {
  await withHarness(async (h) => {
    const from = await writeEnv(
      h.dir,
      `PORT=8080\nLEGACY_PW=${CANARY.dbPassword}\nAPP_MODE=x${CANARY.webhook}\n`,
    );
    await Deno.writeTextFile(
      `${h.dir}/.env.template`,
      "# LEGACY_PW -> legacy/app field password\nLEGACY_PW=<secret>\nPORT=8080\n",
    );
    const map = `${h.dir}/map.json`;
    await Deno.writeTextFile(
      map,
      JSON.stringify({ variables: { APP_MODE: { secret: "app/mode" } } }),
    );
    const r = await h.run(["migrate", "--from", from, "--map", map]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /markers from .*\.env\.template/);
    assert.match(r.stdout, /legacy\/app\s+created\s+LEGACY_PW/);
    assert.match(r.stdout, /app\/mode\s+created\s+APP_MODE/);
    assertNoCanary(r.stdout, r.stderr);
    assert.equal(
      (await h.run(["get", "legacy/app", "--field", "password"])).stdout.trim(),
      CANARY.dbPassword,
    );
  });
});

Deno.test("migrate: an unreadable file and a malformed line are usage errors; nothing is written", async () => {
  await withHarness(async (h) => {
    const missing = await h.run(["migrate", "--from", `${h.dir}/nope.env`]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.env" does not exist/);

    const from = await writeEnv(
      h.dir,
      `PORT=1\nWEBHOOK_SECRET=${CANARY.webhook}\nthis line ${CANARY.key}\n`,
    );
    const bad = await h.run(["migrate", "--from", from]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /line 3: not a KEY=VALUE line/);
    assert.match(bad.stderr, /nothing was written/);
    assertNoCanary(bad.stdout, bad.stderr);
    assert.equal((await h.run(["list"])).stdout, "");
  });
});

Deno.test("migrate: a variable mapping to an invalid name fails with its line; the rest is written, exit 10", async () => {
  await withHarness(async (h) => {
    const from = await writeEnv(
      h.dir,
      `WEBHOOK_SECRET=${CANARY.webhook}\nBAD_TOKEN=${CANARY.key}\n`,
    );
    const map = `${h.dir}/map.json`;
    await Deno.writeTextFile(
      map,
      JSON.stringify({ variables: { BAD_TOKEN: { secret: "../up" } } }),
    );
    const r = await h.run(["migrate", "--from", from, "--map", map, "--json"]);
    assert.equal(r.code, 10, r.stderr);
    const rows = JSON.parse(r.stdout).rows;
    const bad = rows.find((x: { name: string }) => x.name === "BAD_TOKEN");
    assert.equal(bad.action, "failed");
    assert.match(bad.detail, /^line 2: maps to an invalid secret name/);
    assert.deepEqual(JSON.parse(r.stdout).written, ["webhook/secret"]);
    assertNoCanary(r.stdout, r.stderr);
  });
});

/** A manager whose writes work until `failAfter` of them, then the backend is down. */
class FlakyManager extends ForwardingSecretManager {
  writes = 0;
  constructor(inner: SecretManager, private failAfter: number) {
    super(inner);
  }
  override setSecret(name: string, value: SecretValue, options?: WriteOptions) {
    if (this.writes >= this.failAfter) {
      return Promise.reject(new SecretAccessError({ secret: name }, "backend unreachable"));
    }
    this.writes++;
    return super.setSecret(name, value, options);
  }
  /** The CLI closes its manager; the test still reads the store behind it. */
  override close(): Promise<void> {
    return Promise.resolve();
  }
}

Deno.test("migrate on an unreachable backend: exit 4 and a report of exactly what was written", async () => {
  const memory = new MemorySecretManager();
  const flaky = new FlakyManager(memory, 1);
  const from = await Deno.makeTempFile({ suffix: ".env" });
  try {
    await Deno.writeTextFile(from, ENV_FILE);
    const r = await runMain(["migrate", "--from", from], { SECRET_BACKEND: "file" }, {}, {
      createManager: () => Promise.resolve(flaky),
    });
    assert.equal(r.code, 4, r.stdout + r.stderr);
    assert.match(r.stdout, /written before it stopped: alpaca\/api_key\n/);
    assert.match(r.stdout, /database\/app\s+failed/);
    assertNoCanary(r.stdout, r.stderr);
    assert.deepEqual(await memory.listSecrets(), ["alpaca/api_key"]);
    await assert.rejects(memory.readSecret("database/app"), SecretNotFoundError);
  } finally {
    await Deno.remove(from);
  }
});

Deno.test("migrate draws a progress line on a terminal only", async () => {
  const from = await Deno.makeTempFile({ suffix: ".env" });
  try {
    await Deno.writeTextFile(from, ENV_FILE);
    let err = "";
    const { main } = await import("../../cli.ts");
    const code = await main(["migrate", "--from", from], {
      stdout: () => {},
      stderr: (t) => {
        err += t;
      },
      readStdin: () => Promise.resolve(""),
      stdinIsTerminal: false,
      stderrIsTerminal: true,
      env: {},
    }, { createManager: () => Promise.resolve(new MemorySecretManager()) });
    assert.equal(code, 0, err);
    assert.match(err, /\rmigrate: 3\/3 secrets\n/);
    assertNoCanary(err);
  } finally {
    await Deno.remove(from);
  }
});

Deno.test("template writes settings with their values and placeholders naming each secret, never a secret value", async () => {
  await withHarness(async (h) => {
    const from = await writeEnv(
      h.dir,
      `${ENV_FILE}KEYWARD_FILE_KEY=${CANARY.key}x\nVAULT_TOKEN=hvs.${CANARY.secretKey}\n`,
    );
    const out = `${h.dir}/.env.template`;
    const r = await h.run(["template", from, "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    const text = await Deno.readTextFile(out);
    assert.match(text, /^PORT=8080$/m);
    assert.match(text, /^SORT_KEY=created_at$/m);
    assert.match(text, /^# ALPACA_API_KEY_ID -> alpaca\/api_key field key_id$/m);
    assert.match(text, /^ALPACA_API_KEY_ID=<secret>$/m);
    assert.match(text, /^# DATABASE_URL -> database\/app$/m);
    assert.match(text, /^KEYWARD_FILE_KEY=<secret>$/m);
    assert.match(text, /^VAULT_TOKEN=<secret>$/m);
    assertNoCanary(text, r.stdout, r.stderr);

    const printed = await h.run(["template", from]);
    assert.equal(printed.stdout, text);
    // the template's markers are read back by migrate
    const back = await h.run(["migrate", "--from", from, "--dry-run"]);
    assert.match(back.stdout, /markers from/);
    assertNoCanary(back.stdout, back.stderr);
  });
});

Deno.test("migrate with SECRET_FALLBACK=env set still writes: the environment's value is not taken for the backend's", async () => {
  await withHarness(async (h) => {
    const from = await writeEnv(h.dir);
    const env = {
      ...h.env,
      SECRET_FALLBACK: "env",
      KEYWARD_ENV_FILE: from,
      WEBHOOK_SECRET: CANARY.webhook,
    };
    const r = await runMain(["migrate", "--from", from], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /webhook\/secret\s+created/);
    assertNoCanary(r.stdout, r.stderr);
  });
});
