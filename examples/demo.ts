/**
 * `deno task demo`: keyward end to end with no service and no setup.
 *
 * It uses the embedded encrypted file store in a temporary directory (removed
 * at the end): makes a key, migrates the FAKE credentials of
 * `examples/sample.env` with `deno task migrate` (in-process), reads them
 * back, shows a not-found error, lists the names, rotates one secret through
 * a pending version, and rotates a webhook signing secret with the rotation
 * engine. Values are only
 * ever shown as `[REDACTED]` or as a short fingerprint.
 *
 * @module
 */

import { configure, defaultTextFormatter, reset } from "@logtape/logtape";
import { fileURLToPath } from "node:url";
import { parse } from "dotenv";
import {
  exitCodeFor,
  fingerprint,
  Secret,
  type SecretManager,
  SecretNotFoundError,
} from "../mod.ts";
import { generateFileKey, writeKeyFile } from "../backends/file.ts";
import { main as cli } from "../cli.ts";
import { planEnvImport } from "../config.ts";
import { createSecretManager } from "../factory.ts";
import { signPayload, verifySignature } from "../rotation.ts";
import { RotationEngine } from "../rotation/engine.ts";
import { FileRotationLog } from "../rotation/log_file.ts";
import { FileRotationLocks } from "../rotation/lock_file.ts";
import { randomRotator } from "../rotation/rotators/random.ts";

const say = (text = "") => console.log(text);
const step = (n: number, text: string) => say(`\n${n}. ${text}`);

async function main(): Promise<void> {
  say("keyward demo: using the embedded encrypted file store (SECRET_BACKEND=file).");
  say("No service and no setup: a temporary key and store, removed at the end.");

  // keyward's library code logs through LogTape and is silent until the
  // application configures it; show its warnings here.
  await configure({
    sinks: { demo: (record) => say(`   log: ${defaultTextFormatter(record).trimEnd()}`) },
    loggers: [
      { category: ["keyward"], lowestLevel: "warning", sinks: ["demo"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });

  const dir = await Deno.makeTempDir({ prefix: "keyward-demo-" });
  try {
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await reset();
  }
  say(`\nremoved ${dir}. Done.`);
}

async function run(dir: string): Promise<void> {
  step(1, "a new key and an empty store");
  const keyFile = `${dir}/file.key`;
  await writeKeyFile(keyFile, generateFileKey());
  say(`   key file  ${keyFile} (mode 0600, outside the repository)`);
  say(`   store     ${dir}/secrets.json (AES-256-GCM, values never in clear)`);
  // The same settings a service would set; passed explicitly so the demo reads
  // nothing from your environment.
  const store: SecretManager = await createSecretManager({
    env: {
      SECRET_BACKEND: "file",
      KEYWARD_FILE_PATH: `${dir}/secrets.json`,
      KEYWARD_FILE_KEY_FILE: keyFile,
    },
  });

  try {
    step(2, "migrate the FAKE credentials of examples/sample.env (deno task migrate)");
    // The same command an operator runs, in-process: `deno task migrate --from
    // examples/sample.env` with the store's settings. It prints a table of names
    // and actions, the settings to keep and the next steps; never a value.
    const samplePath = fileURLToPath(new URL("./sample.env", import.meta.url));
    const settings = {
      SECRET_BACKEND: "file",
      KEYWARD_FILE_PATH: `${dir}/secrets.json`,
      KEYWARD_FILE_KEY_FILE: keyFile,
    };
    const io = {
      stdout: (text: string) => {
        for (const line of text.trimEnd().split("\n")) say(`   ${line}`);
      },
      stderr: (text: string) => say(`   ${text.trimEnd()}`),
      readStdin: () => Promise.resolve(""),
      stdinIsTerminal: false,
      env: settings,
    };
    const code = await cli(["migrate", "--from", samplePath], io);
    if (code !== 0) throw new Error(`migrate exited with ${code}`);
    say("   run again, it changes nothing:");
    const again = await cli(["migrate", "--from", samplePath, "--json"], {
      ...io,
      stdout: (text: string) => {
        const rows: { action: string }[] = JSON.parse(text).rows;
        const changed = rows.filter((r) => !["unchanged", "skipped-setting"].includes(r.action));
        say(`   ${rows.length} rows, ${changed.length} changed`);
      },
    });
    if (again !== 0) throw new Error(`the second migrate exited with ${again}`);

    step(3, "read them back, field by field");
    const variables = parse(await Deno.readTextFile(samplePath));
    const imported = new Map<string, Secret>();
    for (const secret of planEnvImport(variables).secrets) {
      for (const [field, variable] of Object.entries(secret.from)) {
        const label = field === "value" ? secret.name : `${secret.name} ${field}`;
        const read = new Secret(
          await store.getSecret(secret.name, field === "value" ? {} : { field }),
        );
        const original = new Secret(variables[variable]);
        if (read.reveal() !== original.reveal()) throw new Error(`${label} did not read back`);
        imported.set(label, original);
        say(
          `   ${label.padEnd(27)} ${read}  fingerprint ${await read
            .fingerprint()}  matches ${variable}`,
        );
      }
    }

    step(4, "a secret that does not exist");
    try {
      await store.getSecret("alpaca/api_key_typo");
    } catch (err) {
      if (!(err instanceof SecretNotFoundError)) throw err;
      say(`   ${err.name} (code ${err.code}, CLI exit code ${exitCodeFor(err.code)}):`);
      say(`   ${err.message}`);
    }

    step(5, "list the names (never the values)");
    for (const name of await store.listSecrets()) say(`   ${name}`);
    say(`   under "alpaca/": ${(await store.listSecrets("alpaca/")).join(", ")}`);

    step(6, "rotate database/password: write a pending version, then promote it");
    const name = "database/password";
    const before = await fingerprint(await store.getSecret(name));
    const fresh = new Secret(randomPassword());
    const pending = await store.setSecret(name, fresh.reveal(), { stage: "pending" });
    say(`   wrote version ${pending.version} as pending: ${fresh} fingerprint ${await fresh
      .fingerprint()}`);
    say(`   current is still fingerprint ${await fingerprint(await store.getSecret(name))}`);
    await store.promote(name, pending.version);
    const after = await fingerprint(await store.getSecret(name));
    const previous = await fingerprint(await store.getSecret(name, { stage: "previous" }));
    say(`   promoted version ${pending.version}: current is now fingerprint ${after}`);
    say(`   previous (the rollback target) is fingerprint ${previous} (was ${before})`);
    const meta = await store.describeSecret(name);
    for (const v of meta.versions) {
      say(`   version ${v.version}: ${v.stages.join(", ") || "-"}`);
    }

    step(7, "rotate the webhook signing secret with the rotation engine (random rotator)");
    const hook = "webhooks/signing";
    await store.setSecret(hook, randomPassword());
    const oldSecret = await store.getSecret(hook);
    const body = '{"event":"order.filled"}';
    const oldSignature = await signPayload(oldSecret, body);
    let clock = Date.now();
    const engine = new RotationEngine({
      manager: store,
      log: new FileRotationLog(`${dir}/rotation.jsonl`),
      locks: new FileRotationLocks(`${dir}/locks`),
      rotators: { random: randomRotator },
      rotatedBy: "demo",
      now: () => new Date(clock),
      onStep: (r) =>
        say(
          `   ${r.step.padEnd(19)} ${r.outcome.padEnd(10)} ${
            r.version ? `version ${r.version}` : ""
          }`,
        ),
    });
    const rotation = await engine.rotate(hook, { rotator: "random" });
    say(
      `   rotation ${rotation.rotationId}: version ${rotation.fromVersion} -> ${rotation.newVersion}`,
    );
    const during = await verifySignature(store, hook, body, oldSignature);
    say(
      `   a webhook signed with the old secret still verifies during the grace period (${during})`,
    );
    clock += 8 * 86_400_000;
    say("   8 days later, the daily `rotation finish` job:");
    await engine.finish();

    step(8, "what is on disk");
    const raw = await Deno.readTextFile(`${dir}/secrets.json`);
    const clear = [...imported.values(), fresh].filter((s) => raw.includes(s.reveal()));
    if (clear.length > 0) throw new Error("the store file holds a value in clear");
    say(`   the store file is ${raw.length} bytes; values in clear: none of ${imported.size + 1}`);
    const log = await Deno.readTextFile(`${dir}/rotation.jsonl`);
    if (log.includes(oldSecret) || log.includes(await store.getSecret(hook))) {
      throw new Error("the rotation log holds a value");
    }
    say(`   the rotation log has ${log.trim().split("\n").length} rows and no value`);
  } finally {
    await store.close();
  }
}

function randomPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `demo-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

if (import.meta.main) await main();
