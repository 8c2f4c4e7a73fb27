/**
 * CI's database credential, made fresh for each run and kept only in a backend.
 *
 *     deno run --no-prompt --allow-read --allow-write=<dir> --allow-run=su \
 *       .ci/provision_db.ts <dir> <role> <database>
 *
 * 1. Generates a random password (32 bytes from WebCrypto, base64url).
 * 2. Computes its SCRAM-SHA-256 verifier and creates (or resets) the Postgres
 *    role `<role>` with it, through `su postgres -c psql` fed on standard input:
 *    the password itself never reaches psql, the server, its log, argv or the
 *    environment; Postgres stores the verifier as it is.
 * 3. Creates `<database>` when it is missing (owned by `postgres`, so the
 *    run's role can be dropped at the end).
 * 4. Writes `test/database/app` {`username`, `password`} into an embedded file
 *    store `<dir>/store.json`, with its key in `<dir>/file.key` (mode 0600,
 *    `writeKeyFile`, which refuses a directory inside a git repository).
 *
 * It prints the non-secret settings the tests need (`KEYWARD_TEST_*`), one
 * `NAME=value` a line, for `.ci/run` to export; never the password.
 *
 * @module
 */

import { FileSecretManager, generateFileKey, writeKeyFile } from "../backends/file.ts";

export const SECRET_NAME = "test/database/app";
const ITERATIONS = 4096;

const [dir, role, database] = Deno.args;
if (!dir || !role || !database) {
  console.error("usage: provision_db.ts <store dir outside the repository> <role> <database>");
  Deno.exit(2);
}
for (const [what, value] of [["role", role], ["database", database]]) {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(value)) {
    console.error(`provision_db.ts: the ${what} name must match [a-z_][a-z0-9_]*`);
    Deno.exit(2);
  }
}

function b64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

async function hmac(key: Uint8Array, text: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(text)));
}

/** Postgres' SCRAM-SHA-256 verifier (RFC 5802/7677), the form `pg_authid` stores. */
async function scramVerifier(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const base = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const salted = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt, iterations: ITERATIONS },
      base,
      256,
    ),
  );
  const clientKey = await hmac(salted, "Client Key");
  const storedKey = new Uint8Array(
    await crypto.subtle.digest("SHA-256", clientKey as Uint8Array<ArrayBuffer>),
  );
  const serverKey = await hmac(salted, "Server Key");
  return `SCRAM-SHA-256$${ITERATIONS}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}

const password = b64(crypto.getRandomValues(new Uint8Array(32)))
  .replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
const verifier = await scramVerifier(password);

// SUPERUSER: the suites create throwaway roles and schemas, LISTEN/NOTIFY and
// read pg_stat_activity; the role lives for this run only (.ci/run drops it).
const sql = `
SELECT format('CREATE ROLE %I', '${role}')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') \\gexec
ALTER ROLE "${role}" LOGIN SUPERUSER PASSWORD '${verifier}';
SELECT format('CREATE DATABASE %I', '${database}')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${database}') \\gexec
`;
const psql = new Deno.Command("su", {
  args: ["postgres", "-c", "psql -q -X -v ON_ERROR_STOP=1"],
  stdin: "piped",
  stdout: "piped",
  stderr: "piped",
}).spawn();
const writer = psql.stdin.getWriter();
await writer.write(new TextEncoder().encode(sql));
await writer.close();
const out = await psql.output();
if (!out.success) {
  // psql's messages name the role or the database, never the verifier.
  console.error(`provision_db.ts: psql failed:\n${new TextDecoder().decode(out.stderr)}`);
  Deno.exit(1);
}

const keyFile = `${dir}/file.key`;
const storePath = `${dir}/store.json`;
const key = generateFileKey();
await writeKeyFile(keyFile, key);
const store = new FileSecretManager({ path: storePath, key });
try {
  await store.setSecret(SECRET_NAME, { username: role, password });
  const back = await store.getSecret(SECRET_NAME, { field: "password" });
  if (back !== password) throw new Error("the store did not read back what was written");
} finally {
  await store.close();
}

console.log(
  [
    "KEYWARD_TEST_SECRET_BACKEND=file",
    `KEYWARD_TEST_KEYWARD_FILE_PATH=${storePath}`,
    `KEYWARD_TEST_KEYWARD_FILE_KEY_FILE=${keyFile}`,
    "KEYWARD_TEST_PGHOST=127.0.0.1",
    "KEYWARD_TEST_PGPORT=5432",
    `KEYWARD_TEST_PGDATABASE=${database}`,
  ].join("\n"),
);
