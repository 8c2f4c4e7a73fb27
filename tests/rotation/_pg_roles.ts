/**
 * What the `postgres-password` tests on the real Postgres share: the test
 * database (skipping with a message when there is none outside CI), a pair
 * of alternating roles unique per run, a CLI harness whose policy rotates
 * `database/app` with that rotator, and the credential helpers.
 *
 * @module
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { CliHarness } from "../cli/_capture.ts";
import { databaseUrl, missing } from "../_postgres.ts";

export const BASE_URL: string | undefined = await databaseUrl();
export const APP = "database/app";

async function reachable(): Promise<boolean> {
  if (!BASE_URL) {
    missing("no test database (DATABASE_URL or the CI test store)");
    return false;
  }
  const sql = postgres(BASE_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await sql`select 1`;
    return true;
  } catch (err) {
    missing(`Postgres is not reachable (${(err as Error).message})`);
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** Whether the test database answers (a skip message is printed when it does not). */
export const PG_OK: boolean = await reachable();

export interface Cred {
  username: string;
  password: string;
}

export async function canConnect(cred: Cred): Promise<boolean> {
  const u = new URL(BASE_URL!);
  const sql = postgres({
    host: u.hostname,
    port: Number(u.port || 5432),
    database: u.pathname.slice(1),
    username: cred.username,
    password: cred.password,
    max: 1,
    connect_timeout: 5,
    onnotice: () => {},
  });
  try {
    const [r] = await sql`select 1 as one`;
    return r.one === 1;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** Creates `<base>_a` (LOGIN) and, unless `onlyA`, `<base>_b` (NOLOGIN); drops both after. */
export async function withRoles(
  fn: (base: string, first: Cred) => Promise<void>,
  onlyA = false,
): Promise<void> {
  const base = `kw_rot_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const first: Cred = { username: `${base}_a`, password: `pw-${crypto.randomUUID()}` };
  const admin = postgres(BASE_URL!, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE ROLE "${base}_a" LOGIN PASSWORD '${first.password}'`);
    if (!onlyA) await admin.unsafe(`CREATE ROLE "${base}_b" NOLOGIN`);
    await fn(base, first);
  } finally {
    await admin.unsafe(`DROP ROLE IF EXISTS "${base}_a"`).catch(() => {});
    await admin.unsafe(`DROP ROLE IF EXISTS "${base}_b"`).catch(() => {});
    await admin.end();
  }
}

export async function harness(options: Record<string, unknown> = {}): Promise<CliHarness> {
  const h = await CliHarness.create();
  Object.assign(h.env, {
    SECRET_ROTATION_LOG_FILE: `${h.dir}/rotation.jsonl`,
    SECRET_ROTATION_LOCK_DIR: `${h.dir}/locks`,
    KEYWARD_ROTATION_POLICY: `${h.dir}/policy.json`,
    USER: "ops-db",
  });
  await Deno.writeTextFile(
    `${h.dir}/policy.json`,
    JSON.stringify({
      rules: [{
        prefix: "database/app",
        rotator: "postgres-password",
        options: { adminSecret: "database/admin", ...options },
      }],
    }),
  );
  assert.equal((await h.run(["set", "database/admin"], { stdin: BASE_URL! })).code, 0);
  return h;
}

export async function setApp(h: CliHarness, cred: Cred): Promise<void> {
  const run = await h.run(["set", APP, "--field", "username", "--field", "password"], {
    stdin: `username=${cred.username}\npassword=${cred.password}\n`,
  });
  assert.equal(run.code, 0, run.stderr);
}

export async function current(h: CliHarness): Promise<Cred> {
  const run = await h.run(["get", APP]);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout);
}
