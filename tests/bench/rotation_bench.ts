/**
 * Wall time of a full `random` rotation (steps 1-5 plus the schedule, with
 * the JSON-lines log and a lock file) on the file store and on the Vault
 * test server, each next to a baseline measured in the same run: the bare
 * manager calls a rotation cannot avoid (write pending, promote, read
 * current). The ratio is the engine's own cost (log rows, lock, reads).
 *
 *   deno task bench tests/bench/rotation_bench.ts
 */
import { FileSecretManager, generateFileKey } from "../../backends/file.ts";
import { VaultSecretManager } from "../../mod.ts";
import type { SecretManager } from "../../core/types.ts";
import { RotationEngine } from "../../rotation/engine.ts";
import { FileRotationLog } from "../../rotation/log_file.ts";
import { FileRotationLocks } from "../../rotation/lock_file.ts";
import { randomRotator, randomString } from "../../rotation/rotators/random.ts";
import { FakeVaultServer } from "../fakes/vault_server.ts";

const dir = await Deno.makeTempDir({ prefix: "keyward-rotation-bench-" });
const file = new FileSecretManager({ path: `${dir}/secrets.json`, key: generateFileKey() });
const server = await FakeVaultServer.start();
const vault = new VaultSecretManager({ address: server.url, auth: { token: server.rootToken } });

function engineOn(manager: SecretManager, tag: string): RotationEngine {
  return new RotationEngine({
    manager,
    log: new FileRotationLog(`${dir}/${tag}.jsonl`),
    locks: new FileRotationLocks(`${dir}/${tag}-locks`),
    rotators: { random: randomRotator },
    rotatedBy: "bench",
  });
}

async function bare(manager: SecretManager, name: string): Promise<void> {
  const p = await manager.setSecret(name, randomString(48, "abcdefghijklmnopqrstuvwxyz012345"), {
    stage: "pending",
  });
  await manager.promote(name, p.version);
  await manager.getSecret(name);
}

for (const [tag, manager] of [["file", file], ["vault", vault]] as const) {
  await manager.setSecret(`bench/${tag}/engine`, "initial-value-0123456789");
  await manager.setSecret(`bench/${tag}/bare`, "initial-value-0123456789");
  const engine = engineOn(manager, tag);
  // Warm both paths.
  for (let i = 0; i < 5; i++) {
    await bare(manager, `bench/${tag}/bare`);
    await engine.rotate(`bench/${tag}/engine`, { rotator: "random" });
  }
  Deno.bench(`bare pending + promote + read (${tag})`, {
    group: `rotation ${tag}`,
    baseline: true,
  }, async () => {
    await bare(manager, `bench/${tag}/bare`);
  });
  Deno.bench(`full random rotation, steps 1-5 + schedule (${tag})`, {
    group: `rotation ${tag}`,
  }, async () => {
    const r = await engine.rotate(`bench/${tag}/engine`, { rotator: "random" });
    if (r.outcome !== "scheduled") throw new Error(r.outcome);
  });
}

globalThis.addEventListener("unload", () => {
  void vault.close();
  void server.close();
  void file.close();
  Deno.removeSync(dir, { recursive: true });
});
