/**
 * Issue 14 §7: the `sh` blocks of docs/RUNBOOKS/secrets-migration.md run, in
 * order, in a scratch git repository holding a service's `.env`, against the
 * embedded file store. `deno task secrets` and `deno task migrate` run the
 * CLI of this checkout with the `secrets` task's own permissions. No block
 * may print a secret value of the `.env`.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { generateFileKey } from "../../backends/file.ts";
import { prelude, sh, shBlocks } from "./_runbook.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const CANARY = {
  keyId: "PKRUNBOOK7d2e9f1a3c5b",
  secretKey: "runbook-alpaca-secret-4e8a2c6f0b1d3e5a",
  dbPassword: "runbook-db-pw-9c3e5a7f",
  webhook: "whsec_runbook_1a3c5e7f9b2d4f6a8c",
};

const ENV_FILE = `HOST=0.0.0.0
PORT=8080
LOG_LEVEL=info
ALPACA_API_KEY_ID=${CANARY.keyId}
ALPACA_API_SECRET_KEY=${CANARY.secretKey}
DATABASE_URL=postgresql://app:${CANARY.dbPassword}@127.0.0.1:5432/orders
WEBHOOK_SECRET=${CANARY.webhook}
`;

Deno.test("the secrets-migration runbook's sh blocks run against the file store, and print no secret", async () => {
  const runbook = await Deno.readTextFile(`${ROOT}docs/RUNBOOKS/secrets-migration.md`);
  const blocks = shBlocks(runbook);
  assert.ok(blocks.length >= 8, `only ${blocks.length} sh blocks`);
  const dir = await Deno.makeTempDir({ prefix: "keyward-runbook-" });
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: dir,
    DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
    NO_COLOR: "1",
    GIT_AUTHOR_NAME: "runbook",
    GIT_AUTHOR_EMAIL: "runbook@example.invalid",
    GIT_COMMITTER_NAME: "runbook",
    GIT_COMMITTER_EMAIL: "runbook@example.invalid",
    SECRET_BACKEND: "file",
    KEYWARD_FILE_PATH: `${dir}/.keyward/secrets.json`,
    KEYWARD_FILE_KEY: generateFileKey(),
  };
  try {
    await Deno.writeTextFile(`${dir}/.env`, ENV_FILE);
    const init = await sh(
      dir,
      env,
      "git init -q && git add .env && git commit -qm 'the service, with its .env'",
    );
    assert.equal(init.code, 0, init.stderr);
    const pre = await prelude();
    const outputs: string[] = [];
    for (const [i, block] of blocks.entries()) {
      const r = await sh(dir, env, `${pre}\n${block}`);
      outputs.push(r.stdout, r.stderr);
      assert.equal(r.code, 0, `block ${i + 1} failed:\n${block}\n${r.stdout}\n${r.stderr}`);
    }
    for (const text of outputs) {
      for (const value of Object.values(CANARY)) {
        assert.ok(!text.includes(value), "a runbook step printed a secret value");
      }
    }
    const all = outputs.join("\n");
    assert.match(all, /alpaca\/api_key +created/, "the migrate step created the broker pair");
    assert.match(all, /3 of 3 readable/, "secrets check passed");
    // step 6: .env is gone from the tree, the template and .gitignore are committed
    const removal = blocks.findIndex((b) => b.includes("git rm"));
    const files = outputs[removal * 2].trim().split("\n");
    assert.ok(!files.includes(".env") && files.includes(".env.template"), files.join());
    // the rollback brought it back, unchanged
    assert.equal(await Deno.readTextFile(`${dir}/.env`), ENV_FILE);
    const template = await Deno.readTextFile(`${dir}/.env.template`);
    assert.match(template, /^# ALPACA_API_KEY_ID -> alpaca\/api_key field key_id$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
