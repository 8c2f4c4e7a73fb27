import assert from "node:assert/strict";
import { FileSecretManager, type FsPort, generateFileKey } from "../../backends/file.ts";
import { nodeFsPort } from "../../backends/_fs_port.ts";
import { SecretAccessError, SecretConflictError } from "../../mod.ts";

// Issue 12 item 9: a writer paused inside the lock past the stale limit
// (SIGSTOP, then SIGCONT) must never make a confirmed write disappear.

const repoRoot = new URL("../../", import.meta.url).pathname;

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-file-lock-test-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** The process state letter from /proc (T = stopped), or undefined off Linux. */
async function processState(pid: number): Promise<string | undefined> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => undefined);
  return stat?.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

interface Outcome {
  who: string;
  value: string;
  ok: boolean;
  version?: string;
  code?: string;
  reason?: string | null;
}

/**
 * Runs the scenario: a child writer stops inside the lock (SIGSTOP), this
 * process writes with a short stale limit, the child resumes (SIGCONT).
 * Returns both outcomes and the store's final versions.
 */
async function pausedWriterScenario(dir: string, mode: "os-lock" | "fence-only") {
  const path = `${dir}/store.json`;
  const key = generateFileKey();
  const seed = new FileSecretManager({ path, key });
  await seed.setSecret("shared/key", "seed-value-000001");
  await seed.close();
  const marker = `${dir}/inside-lock`;
  const resume = `${dir}/resume`;
  const pausedValue = `paused-value-${crypto.randomUUID()}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      `--config=${repoRoot}deno.json`,
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
      "--allow-env=KEYWARD_FILE_KEY",
      `${repoRoot}tests/backends/_file_paused_writer.ts`,
      path,
      marker,
      resume,
      pausedValue,
      mode,
    ],
    cwd: repoRoot,
    env: { KEYWARD_FILE_KEY: key, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const outcomes: Outcome[] = [];
  try {
    await until("the child inside the lock", () => Deno.stat(marker).then(() => true, () => false));
    Deno.kill(child.pid, "SIGSTOP");
    if ((await processState(child.pid)) !== undefined) {
      await until("the child to stop", async () => (await processState(child.pid)) === "T");
    }
    // The other writer: its stale limit is far below the time the child is stopped.
    const breakerValue = `breaker-value-${crypto.randomUUID()}`;
    // With the OS lock it must time out (2 s); without, it breaks the lock as
    // soon as it is 200 ms old (10 s is only a ceiling for a loaded machine).
    const lockTimeoutMs = mode === "os-lock" ? 2_000 : 10_000;
    const other = new FileSecretManager({ path, key, staleLockMs: 200, lockTimeoutMs });
    try {
      const v = await other.setSecret("shared/key", breakerValue);
      outcomes.push({ who: "breaker", value: breakerValue, ok: true, version: v.version });
    } catch (err) {
      assert.ok(
        err instanceof SecretAccessError || err instanceof SecretConflictError,
        String(err),
      );
      outcomes.push({
        who: "breaker",
        value: breakerValue,
        ok: false,
        code: err.code,
        reason: (err as SecretAccessError).reason ?? null,
      });
    } finally {
      await other.close();
    }
    await Deno.writeTextFile(resume, "go\n");
  } finally {
    Deno.kill(child.pid, "SIGCONT");
  }
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  const reported = JSON.parse(new TextDecoder().decode(out.stdout).trim());
  outcomes.push({ who: "paused", value: pausedValue, ...reported });

  // Every write reported as a success is in the final store, under its version.
  const reader = new FileSecretManager({ path, key });
  const meta = await reader.describeSecret("shared/key");
  const stored = new Map<string, string>();
  for (const v of meta.versions) {
    stored.set(v.version, await reader.getSecret("shared/key", { version: v.version }));
  }
  await reader.close();
  for (const o of outcomes.filter((o) => o.ok)) {
    assert.equal(stored.get(o.version!), o.value, `the confirmed write of the ${o.who} is lost`);
  }
  for (const o of outcomes.filter((o) => !o.ok)) {
    assert.ok(![...stored.values()].includes(o.value), `the failed ${o.who} write landed`);
  }
  assert.ok(outcomes.some((o) => o.ok), "one of the two writes succeeds");
  await assert.rejects(Deno.stat(`${path}.lock`), Deno.errors.NotFound, "no lock is left");
  return { outcomes, stored };
}

Deno.test({
  name:
    "file: a writer stopped inside the lock keeps it (OS lock): the other writer times out, nothing is lost",
  ignore: Deno.build.os === "windows" || nodeFsPort.tryOsLock === undefined,
  async fn() {
    await withDir(async (dir) => {
      const { outcomes, stored } = await pausedWriterScenario(dir, "os-lock");
      const [breaker, paused] = outcomes;
      assert.equal(breaker.ok, false, "a live (stopped) writer's lock is never broken");
      assert.equal(breaker.code, "access");
      assert.equal(breaker.reason, "timeout");
      assert.equal(paused.ok, true);
      assert.equal(stored.get(paused.version!), paused.value);
    });
  },
});

Deno.test({
  name:
    "file: a writer stopped past the stale limit without an OS lock is fenced: the breaker's write stays",
  ignore: Deno.build.os === "windows",
  async fn() {
    await withDir(async (dir) => {
      const { outcomes, stored } = await pausedWriterScenario(dir, "fence-only");
      const [breaker, paused] = outcomes;
      assert.equal(breaker.ok, true, "the stale lock is broken and the write confirmed");
      assert.equal(paused.ok, false, "the resumed writer does not rename over it");
      assert.equal(paused.code, "conflict");
      assert.equal(stored.get(breaker.version!), breaker.value);
    });
  },
});

Deno.test("file: a commit is fenced when the store changed under the lock; nothing is renamed", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/store.json`;
    const key = generateFileKey();
    const seed = new FileSecretManager({ path, key });
    await seed.setSecret("shared/key", "seed-value-000001");
    await seed.setSecret("shared/key", "seed-value-000002");
    await seed.close();
    const before = await Deno.readFile(path);
    // A writer that ignores the lock replaces the store while ours holds it.
    const rogue = new TextEncoder().encode(
      new TextDecoder().decode(before).replace('"nextVersion":3', '"nextVersion":3 '),
    );
    const port: FsPort = {
      ...nodeFsPort,
      async writeFileAtomic(target, data, mode, beforeRename) {
        await Deno.writeFile(path, rogue);
        return await nodeFsPort.writeFileAtomic(target, data, mode, beforeRename);
      },
    };
    const secrets = new FileSecretManager({ path, key, fsPort: port });
    await assert.rejects(secrets.setSecret("shared/key", "lost-value-000003"), (err) => {
      assert.ok(err instanceof SecretConflictError, String(err));
      assert.match(err.message, /changed after this write read it/);
      assert.ok(!err.message.includes("lost-value"));
      return true;
    });
    await secrets.close();
    assert.deepEqual(await Deno.readFile(path), rogue, "the store is not replaced");
    const leftovers = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
      n !== "store.json"
    );
    assert.deepEqual(leftovers, [], "no temp file or lock is left");
  });
});
