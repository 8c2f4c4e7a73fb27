/**
 * What the end-to-end tests share: the Vault test server as a remote
 * backend (the cache and Postgres rotation events on, secrets under the
 * `test/` namespace), the embedded file store, the Postgres roles the
 * signal service logs in with, and the fake broker's key pairs.
 *
 * Every name a run creates is its own: roles `e2e_<RUN_ID>_<n>_{rw,a,b}`,
 * key ids with random hex, temporary directories.
 *
 * @module
 */

import postgres from "postgres";
import { createSecretManager } from "../../factory.ts";
import type { SecretManager } from "../../mod.ts";
import { openTestDatabase, RUN_ID, type TestDatabase } from "../_postgres.ts";
import { FakeVaultServer } from "../fakes/vault_server.ts";
import { openTestStore, ROOT, type TestStore } from "../examples/_services.ts";

export const SIGNAL = "examples/signal-service/main.ts";
export const GATEWAY = "examples/execution-gateway/main.ts";
export const ACCOUNT = "5f0c7d2e-0000-4000-8000-0000000000e2";

/** A random broker key pair of the fake broker's account. */
export function brokerPair(tag: string): { key_id: string; secret_key: string } {
  const hex = crypto.randomUUID().replaceAll("-", "").slice(0, 12).toUpperCase();
  return { key_id: `PK${tag}${hex}`, secret_key: `canary-e2e-${tag}-${crypto.randomUUID()}` };
}

/** A password with characters a URL must encode. */
export function randomPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return "pw/" + Array.from(bytes, (b) => b.toString(36)).join("") + "#@%";
}

/** The database part of the test URL, without the schema parameter. */
export function adminUrl(db: TestDatabase): URL {
  const url = new URL(db.url);
  url.searchParams.delete("search_path");
  return url;
}

/** The settings that point the signal service at the test database. */
export function databaseSettings(db: TestDatabase): Record<string, string> {
  const url = adminUrl(db);
  return {
    DATABASE_HOST: url.hostname,
    DATABASE_PORT: url.port || "5432",
    DATABASE_NAME: decodeURIComponent(url.pathname.slice(1)),
  };
}

let roleCount = 0;

/**
 * The alternating roles of the `postgres-password` rotator, created for this
 * run: `<base>_rw` (NOLOGIN, the group), `<base>_a` (LOGIN, `password`),
 * `<base>_b` (NOLOGIN). `drop()` removes them.
 */
export async function createRoles(
  db: TestDatabase,
  password: string,
): Promise<{ base: string; first: string; drop(): Promise<void> }> {
  const base = `e2e_${RUN_ID}_${++roleCount}`.toLowerCase();
  const quoted = password.replaceAll("'", "''");
  await db.sql.unsafe(`CREATE ROLE "${base}_rw" NOLOGIN`);
  await db.sql.unsafe(`CREATE ROLE "${base}_a" LOGIN PASSWORD '${quoted}' IN ROLE "${base}_rw"`);
  await db.sql.unsafe(`CREATE ROLE "${base}_b" NOLOGIN IN ROLE "${base}_rw"`);
  return {
    base,
    first: `${base}_a`,
    async drop() {
      // a fresh connection: the test's own may have ended
      const admin = postgres(adminUrl(db).toString(), { max: 1, onnotice: () => {} });
      try {
        for (const role of [`${base}_a`, `${base}_b`]) {
          await admin.unsafe(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${role}'`,
          ).catch(() => {});
        }
        for (const role of [`${base}_a`, `${base}_b`, `${base}_rw`]) {
          await admin.unsafe(`DROP ROLE IF EXISTS "${role}"`).catch(() => {});
        }
      } finally {
        await admin.end();
      }
    },
  };
}

/** A backend the services start on: its settings and a manager to seed it with. */
export interface E2eBackend {
  kind: "vault" | "file";
  /** The services' (and the CLI's) settings. */
  env: Record<string, string>;
  /** Writes and reads as the services do (the same namespace). */
  manager: SecretManager;
  /** A directory of the test's own (removed on close). */
  dir: string;
  /** The Vault test server (vault only). */
  vault?: FakeVaultServer;
  close(): Promise<void>;
}

/**
 * The Vault test server as a remote backend: `SECRET_NAMESPACE=test` (every
 * secret lives under `test/`), the cache on (the default for a remote
 * backend) and Postgres rotation events on the test database.
 */
export async function openVaultBackend(db: TestDatabase): Promise<E2eBackend> {
  const vault = await FakeVaultServer.start();
  const dir = await Deno.makeTempDir({ prefix: "keyward-e2e-" });
  const env = {
    SECRET_BACKEND: "vault",
    VAULT_ADDR: vault.url,
    VAULT_TOKEN: vault.rootToken,
    SECRET_NAMESPACE: "test",
    SECRET_ROTATION_EVENTS: "postgres",
    DATABASE_URL: adminUrl(db).toString(),
  };
  const manager = await createSecretManager({ env });
  return {
    kind: "vault",
    env,
    manager,
    dir,
    vault,
    async close() {
      await manager.close();
      await vault.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** The embedded file store, in a directory of the test's own. */
export async function openFileBackend(): Promise<E2eBackend> {
  const store: TestStore = await openTestStore();
  return {
    kind: "file",
    env: store.env,
    manager: store.manager,
    dir: store.dir,
    close: () => store.close(),
  };
}

/**
 * A place for the snapshot the services may write (`--allow-write=.keyward`,
 * as the example tasks grant): `.keyward/e2e-<uuid>/snapshot.bin`, and its key
 * in a file of the test's temporary directory (never beside the snapshot).
 */
export async function snapshotSettings(
  dir: string,
): Promise<{ env: Record<string, string>; remove(): Promise<void> }> {
  const snapDir = `${ROOT}.keyward/e2e-${crypto.randomUUID()}`;
  await Deno.mkdir(snapDir, { recursive: true });
  const keyFile = `${dir}/snapshot.key`;
  const key = crypto.getRandomValues(new Uint8Array(32));
  await Deno.writeTextFile(keyFile, btoa(String.fromCharCode(...key)), { mode: 0o600 });
  return {
    env: { SECRET_CACHE_SNAPSHOT: `${snapDir}/snapshot.bin`, KEYWARD_SNAPSHOT_KEY_FILE: keyFile },
    remove: () => Deno.remove(snapDir, { recursive: true }).catch(() => {}),
  };
}

/** Opens the test database, or `null` (after a skip message) without Postgres outside CI. */
export function openE2eDatabase(name: string): Promise<TestDatabase | null> {
  return openTestDatabase(name);
}
