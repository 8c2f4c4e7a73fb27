/**
 * Starting the example services as subprocesses for tests: a file store of
 * the test's own, the service's output collected, its port read from its
 * "listening on" line (it binds port 0).
 *
 * @module
 */

import { RUN_ID, type TestDatabase } from "../_postgres.ts";
import { fileURLToPath } from "node:url";
import { FileSecretManager, generateFileKey, writeKeyFile } from "../../backends/file.ts";

export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** The permissions the example tasks grant (deno.json `example:*`). */
export const SERVICE_FLAGS: string[] = [
  "--no-prompt",
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write=.keyward",
  "--allow-sys=hostname,osRelease",
];

/** A file store in a temporary directory, and the settings that select it. */
export interface TestStore {
  dir: string;
  env: Record<string, string>;
  manager: FileSecretManager;
  close(): Promise<void>;
}

export async function openTestStore(): Promise<TestStore> {
  const dir = await Deno.makeTempDir({ prefix: "keyward-svc-" });
  const keyFile = `${dir}/file.key`;
  const key = generateFileKey();
  await writeKeyFile(keyFile, key);
  const path = `${dir}/secrets.json`;
  const manager = new FileSecretManager({ path, key });
  return {
    dir,
    env: { SECRET_BACKEND: "file", KEYWARD_FILE_PATH: path, KEYWARD_FILE_KEY_FILE: keyFile },
    manager,
    async close() {
      await manager.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A running service. */
export interface RunningService {
  url: string;
  child: Deno.ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Sends SIGTERM and waits for the exit code. */
  stop(): Promise<number>;
}

/** Runs `script` until it exits; returns its code and output (for start-up failures). */
export async function runToExit(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...SERVICE_FLAGS, script],
    cwd: ROOT,
    env: { NO_COLOR: "1", PORT: "0", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, output: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

/** Starts `script` and resolves once it listens (or rejects with its output when it exits first). */
export async function startService(
  script: string,
  env: Record<string, string>,
): Promise<RunningService> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...SERVICE_FLAGS, script],
    cwd: ROOT,
    env: { NO_COLOR: "1", PORT: "0", PATH: Deno.env.get("PATH") ?? "", ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const dec = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += dec.decode(chunk, { stream: true });
  };
  const done = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = child.status;
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  while (url === undefined) {
    const m = /listening on (http:\/\/\S+)/.exec(text);
    if (m) {
      url = m[1];
      break;
    }
    const exited = await Promise.race([
      status.then((s) => s),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 50)),
    ]);
    if (exited !== undefined) {
      await done;
      throw new Error(`the service exited ${exited.code} before listening:\n${text}`);
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await status;
      await done;
      throw new Error(`the service did not listen within 30 s:\n${text}`);
    }
  }
  return {
    url,
    child,
    output: () => text,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const { code } = await status;
      await done;
      return code;
    },
  };
}

/** Polls `probe` until it returns true (or fails after `timeoutMs`, a guard against hangs). */
export async function until(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A role name of this run's own. */
export function runRole(prefix: string): string {
  return `${prefix}_${RUN_ID}`.toLowerCase();
}

/** A password holding characters a URL must encode ('/', '#', '@', '%'). */
export function randomPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return "pw/" + Array.from(bytes, (b) => b.toString(36)).join("") + "#@%";
}

/**
 * Creates the login `role` (name it with {@linkcode runRole}) with
 * `password`, stores it as `database/app` in `store`, and returns the
 * settings that point the signal service at the test database. The caller
 * drops the role.
 */
export async function signalDatabase(
  db: TestDatabase,
  store: TestStore,
  role: string,
  password: string,
): Promise<{ env: Record<string, string> }> {
  await db.sql.unsafe(`CREATE ROLE "${role}" LOGIN PASSWORD '${password.replaceAll("'", "''")}'`);
  await store.manager.setSecret("database/app", { username: role, password });
  const url = new URL(db.url);
  return {
    env: {
      ...store.env,
      DATABASE_HOST: url.hostname,
      DATABASE_PORT: url.port || "5432",
      DATABASE_NAME: decodeURIComponent(url.pathname.slice(1)),
    },
  };
}
