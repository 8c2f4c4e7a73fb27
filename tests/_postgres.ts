/**
 * Postgres for tests: a connection to `DATABASE_URL` in a schema of the test
 * file's own, and throwaway clusters (their own port and data directory) for
 * tests that stop the database.
 *
 * Several runs may share one database (two terminals, two CI jobs), so every
 * name a run creates there is its own: schemas are `test_<file>_<RUN_ID>`,
 * where {@linkcode RUN_ID} is this process's pid and random hex. Tests make
 * other shared names (application names, secret names sent on the fixed
 * `keyward_rotation` channel, channels of their own) unique with
 * `crypto.randomUUID()` and filter what they receive by them. The tests
 * create no roles, no tables in `public` and no advisory lock ids of their own.
 *
 * Where the database URL comes from ({@linkcode databaseUrl}, the one place
 * every test and bench asks): `DATABASE_URL` when it is set (a developer's own
 * Postgres, the README's test command); otherwise, as in CI, from a secret
 * manager: the credential `test/database/app` {`username`, `password`} read
 * through `createSecretManager()` built from the `KEYWARD_TEST_`-prefixed
 * settings (`KEYWARD_TEST_SECRET_BACKEND=file`,
 * `KEYWARD_TEST_KEYWARD_FILE_PATH`, `KEYWARD_TEST_KEYWARD_FILE_KEY_FILE`, or
 * the Vault ones), plus the plain settings `KEYWARD_TEST_PGHOST`,
 * `KEYWARD_TEST_PGPORT` and `KEYWARD_TEST_PGDATABASE`. The prefix keeps the
 * tests' own backend out of the code under test: a test that starts the CLI
 * or builds a factory from the environment sees no `SECRET_BACKEND` of CI's.
 * `.ci/run` writes that store (`.ci/provision_db.ts`) with a password made
 * for the run; no password is in this repository.
 *
 * Outside CI, a missing Postgres skips the tests with a message; with
 * `CI=true` it fails them.
 *
 * @module
 */

import postgres, { type Sql } from "postgres";
import { createSecretManager } from "../factory.ts";
import { postgresUrl } from "../config/connection.ts";

const HOW =
  "start Postgres and set DATABASE_URL=postgres://<user>:<password>@127.0.0.1:5432/keyward_test " +
  "(or run `bash .ci/run`, which keeps a fresh password in a test store)";

/** The prefix of the settings of the tests' own secret manager. */
export const TEST_SETTINGS_PREFIX = "KEYWARD_TEST_";

let cachedUrl: Promise<string | undefined> | undefined;

/**
 * The base URL of the test database, or `undefined` when none is configured:
 * `DATABASE_URL`, else the `test/database/app` secret of the tests' own
 * manager (see the module comment). Read once per process. Throws (naming
 * the setting or the secret, never a value) when the manager is configured
 * but cannot give the credential.
 */
export function databaseUrl(): Promise<string | undefined> {
  cachedUrl ??= readDatabaseUrl();
  return cachedUrl;
}

async function readDatabaseUrl(): Promise<string | undefined> {
  const direct = Deno.env.get("DATABASE_URL");
  if (direct) return direct;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(Deno.env.toObject())) {
    if (name.startsWith(TEST_SETTINGS_PREFIX)) env[name.slice(TEST_SETTINGS_PREFIX.length)] = value;
  }
  if (!env.SECRET_BACKEND) return undefined;
  const secretName = "test/database/app";
  const database = env.PGDATABASE;
  if (!database) throw new Error(`${TEST_SETTINGS_PREFIX}PGDATABASE is not set`);
  const settings = Object.fromEntries(
    Object.entries(env).filter(([name]) => !name.startsWith("PG")),
  );
  const manager = await createSecretManager({ env: settings });
  try {
    const [username, password] = await Promise.all([
      manager.getSecret(secretName, { field: "username" }),
      manager.getSecret(secretName, { field: "password" }),
    ]);
    return postgresUrl(
      { host: env.PGHOST ?? "127.0.0.1", port: Number(env.PGPORT ?? 5432), database },
      { username, password },
    ).reveal();
  } finally {
    await manager.close();
  }
}

/** This run's part of every schema name: the pid and 8 random hex digits (`1234_0f3a9c2e`). */
export const RUN_ID: string = `${Deno.pid}_${
  Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0"))
    .join("")
}`;

/** True when running under CI, where a missing service is a failure. */
export const IN_CI: boolean = Deno.env.get("CI") === "true";

/** A connection to a schema of the test file's own. */
export interface TestDatabase {
  /** Connected with `search_path` set to `schema`. */
  sql: Sql;
  /** The schema, `test_<name>_<RUN_ID>` (created on open, dropped on `close()`). */
  schema: string;
  /** A URL to the same database and schema (for the CLI and sinks built from a URL). */
  url: string;
  /** Drops the schema and closes the connection. */
  close(): Promise<void>;
}

/** Complains about a missing service: fails under CI, warns (and the caller skips) outside. */
export function missing(what: string, how: string = HOW): void {
  const message = `${what}: ${how}`;
  if (IN_CI) throw new Error(`CI=true but ${message}`);
  console.warn(`skipping Postgres tests: ${message}`);
}

/** Adds `search_path=<schema>` to a Postgres URL. */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set("search_path", schema);
  return u.toString();
}

/**
 * Connects to the test database ({@linkcode databaseUrl}) and gives the test
 * file a fresh schema of this run's own, `test_<name>_<RUN_ID>`; returns
 * `null` (after a skip message) when Postgres is not there outside CI.
 */
export async function openTestDatabase(name: string): Promise<TestDatabase | null> {
  const base = await databaseUrl();
  if (!base) {
    missing("DATABASE_URL is not set and no test secret store is configured");
    return null;
  }
  const schema = `test_${name.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${RUN_ID}`;
  if (schema.length > 63) throw new Error(`schema name ${schema} is longer than 63 bytes`);
  const admin = postgres(base, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; CREATE SCHEMA "${schema}"`);
  } catch (err) {
    await admin.end({ timeout: 1 }).catch(() => {});
    missing(`the test database is not reachable (${(err as Error).message})`);
    return null;
  }
  await admin.end();
  const url = withSearchPath(base, schema);
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  return {
    sql,
    schema,
    url,
    async close() {
      await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      await sql.end();
    },
  };
}

async function run(cmd: string, args: string[], asPostgres: boolean): Promise<string> {
  const [bin, argv] = asPostgres
    ? ["runuser", ["-u", "postgres", "--", cmd, ...args]]
    : [cmd, args];
  const out = await new Deno.Command(bin, { args: argv, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}`);
  return text;
}

function pgBin(name: string): string {
  const dir = Deno.env.get("PG_BINDIR") ?? "/usr/lib/postgresql/15/bin";
  try {
    Deno.statSync(`${dir}/${name}`);
    return `${dir}/${name}`;
  } catch {
    return name; // from PATH
  }
}

/**
 * A random port in 10000-32767, below the range the kernel hands out by itself to `port: 0`
 * listeners and outgoing connections (Linux: 32768-60999, BSD and macOS: 49152-65535; Deno
 * cannot read /proc/sys without --allow-all). So nothing takes it by chance while a cluster is
 * down between `stop()` and `start()`; only an explicit bind can, and the first start then
 * retries with another port.
 */
function candidatePort(): number {
  return 10_000 + Math.floor(Math.random() * (32_768 - 10_000));
}

/** A Postgres cluster of the test's own: its own port and data directory under /tmp. */
export interface ThrowawayCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  url: string;
  /** The port it listens on. */
  port: number;
  /** Stops the server (fast shutdown); the data stays. */
  stop(): Promise<void>;
  /** Starts it again. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  destroy(): Promise<void>;
}

/**
 * Creates and starts a throwaway cluster (initdb as the `postgres` OS user
 * when running as root: initdb refuses root). Returns `null` (after a skip
 * message) when initdb is not available outside CI.
 */
export async function startThrowawayCluster(): Promise<ThrowawayCluster | null> {
  const asPostgres = Deno.uid() === 0;
  const dir = await Deno.makeTempDir({ prefix: "keyward-pg-" });
  const data = `${dir}/data`;
  const initdb = pgBin("initdb");
  const pgCtl = pgBin("pg_ctl");
  try {
    if (asPostgres) await run("chown", ["postgres:postgres", dir], false);
    await run(
      initdb,
      ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"],
      asPostgres,
    );
  } catch (err) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    missing(
      `cannot create a throwaway Postgres cluster (${(err as Error).message.split("\n")[0]})`,
      "install Debian's postgresql package (initdb, pg_ctl) as .ci/run does",
    );
    return null;
  }
  const log = `${dir}/log`;
  const startOn = async (port: number) => {
    const opts =
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    await run(pgCtl, ["-D", data, "-o", opts, "-l", log, "-w", "-t", "30", "start"], asPostgres);
  };
  const stop = async () => {
    await run(pgCtl, ["-D", data, "-m", "fast", "-w", "stop"], asPostgres);
  };
  // Postgres binds the port itself; when another process holds it, try another one.
  let port = 0;
  for (let attempt = 1;; attempt++) {
    port = candidatePort();
    await Deno.remove(log).catch(() => {});
    try {
      await startOn(port);
      break;
    } catch (err) {
      const inUse = /Address already in use/.test(await Deno.readTextFile(log).catch(() => ""));
      if (!inUse || attempt === 20) {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        throw err;
      }
    }
  }
  const start = () => startOn(port);
  let destroyed = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await stop().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
  };
}
