/**
 * CI reads its database password from a backend (issue 14, section 6): no
 * database password is written into `.ci/run` or the tests, and, in a CI run,
 * the password `.ci/run` made is in the test store only.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { createSecretManager } from "../factory.ts";
import { databaseUrl, TEST_SETTINGS_PREFIX } from "./_postgres.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, "");

/**
 * The made-up passwords the tests may write in a Postgres URL: each is fed to
 * the code under test (a classifier, a URL parser, a connection to a closed
 * port) to prove it is recognised or never printed. None opens a database.
 * Keep this list small: a test that needs a working login creates a
 * throwaway role with a password it generates.
 */
const FAKE_PASSWORDS: ReadonlyMap<string, string> = new Map([
  ["x", "URLs to a closed port (127.0.0.1:1): the audit CLI's unreachable-database cases"],
  ["p", "pg/connect_test.ts: a syntactically valid URL that is never connected"],
  ["pw1", "config/classify_test.ts: a URL with a password is classified as a secret"],
  ["pw-not-shown-1", "cli/definition_test.ts: a closed port; the error must not show it"],
  ["Sup3r/Secr3t#pw", "a password that needs percent-encoding: refused, never quoted"],
  ["changeme", "redact/patterns_test.ts: a connection string the patterns must find"],
]);

/** The literal CI used before it made a password per run (built, so this file does not hold it). */
const OLD_LITERAL = ["keyward", "ci", "only"].join("-");

/** One database password written into a file. */
export interface PasswordLiteral {
  /** 1-based line. */
  line: number;
  /** What kind of literal. */
  kind: "postgres-url" | "sql-password" | "pgpassword" | "old-ci-literal";
}

const URL_RE = /postgres(?:ql)?(?:\+[a-z0-9]+)?:\/\/[^\s:/@'"`]*:([^\s@'"`]*)@/gi;
const SQL_RE = /\bPASSWORD\s+'([^']*)'/gi;
const PGPASSWORD_RE = /\bPGPASSWORD\s*[=:]\s*["']?([^\s"'`;]*)/g;

/** True for a placeholder or an interpolation rather than a written password. */
function notWritten(password: string): boolean {
  return password === "" ||
    /^\$\{/.test(password) || // ${variable} in a template literal
    /^\$[A-Za-z_]/.test(password) || // $VARIABLE in a shell script
    /^\{[a-z_]+\}$/.test(password) || // {password}: a `secrets run --map` template
    /^<[^>]*>$/.test(password) || // <password>: a placeholder in a message
    /^\[REDACTED/.test(password); // a redactor's output
}

/**
 * The database password literals in `text`: a Postgres URL with a written
 * password, a quoted SQL password literal, a `PGPASSWORD=` value, or the old CI
 * literal. Passwords in `allowed` (made-up ones) do not count.
 */
export function passwordLiterals(
  text: string,
  allowed: ReadonlySet<string> = new Set(FAKE_PASSWORDS.keys()),
): PasswordLiteral[] {
  const found: PasswordLiteral[] = [];
  const lineOf = (index: number) => text.slice(0, index).split("\n").length;
  const check = (re: RegExp, kind: PasswordLiteral["kind"]) => {
    for (const m of text.matchAll(re)) {
      if (!notWritten(m[1]) && !allowed.has(m[1])) found.push({ line: lineOf(m.index), kind });
    }
  };
  check(URL_RE, "postgres-url");
  check(SQL_RE, "sql-password");
  check(PGPASSWORD_RE, "pgpassword");
  for (let i = text.indexOf(OLD_LITERAL); i !== -1; i = text.indexOf(OLD_LITERAL, i + 1)) {
    found.push({ line: lineOf(i), kind: "old-ci-literal" });
  }
  return found.sort((a, b) => a.line - b.line);
}

async function* filesUnder(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name === "node_modules" || entry.name === ".git" || entry.name === "coverage") {
      continue;
    }
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* filesUnder(path);
    else if (entry.isFile) yield path;
  }
}

async function literalsIn(paths: AsyncIterable<string> | string[]): Promise<string[]> {
  const report: string[] = [];
  for await (const path of paths) {
    const bytes = await Deno.readFile(path);
    if (bytes.includes(0)) continue; // binary
    const text = new TextDecoder().decode(bytes);
    for (const f of passwordLiterals(text)) {
      report.push(`${path.slice(ROOT.length + 1)}:${f.line}: ${f.kind}`);
    }
  }
  return report;
}

Deno.test("passwordLiterals() finds written database passwords and lets interpolations pass", () => {
  // Written with "§" for "@", "¤" for a space and "¦" for "=", so that this
  // file holds no literal itself (and the repository scan stays quiet).
  const text = [
    'const a = "postgres://keyward:hunter2-pw§127.0.0.1:5432/keyward_test";',
    "psql -c \"CREATE ROLE ci LOGIN PASSWORD¤'hunter2-pw'\"",
    "export PGPASSWORD¦hunter2-pw",
    `DATABASE_URL=postgresql+asyncpg://app:s3cret§db/app`,
    `old: ${OLD_LITERAL}`,
    // not written: generated, templated or placeholders
    "const b = `postgres://${role}:${encodeURIComponent(password)}§127.0.0.1/x`;",
    "await sql.unsafe(`ALTER ROLE r PASSWORD '${next}'`);",
    'DATABASE_URL = "postgres://{username}:{password}§127.0.0.1:5432/keyward_test"',
    'echo "postgres://$PGUSER:$PGPASS§127.0.0.1/x"',
    "set DATABASE_URL=postgres://<user>:<password>§127.0.0.1:5432/keyward_test",
    'const c = "postgres://nobody:x§127.0.0.1:1/none";', // an allowed fake
    'const d = "postgres://app§db/prod";', // no password at all
  ].join("\n").replaceAll("§", "@").replaceAll("¤", " ").replaceAll("¦", "=");
  assert.deepEqual(passwordLiterals(text), [
    { line: 1, kind: "postgres-url" },
    { line: 2, kind: "sql-password" },
    { line: 3, kind: "pgpassword" },
    { line: 4, kind: "postgres-url" },
    { line: 5, kind: "old-ci-literal" },
  ]);
  // Without the allow-list the fake counts too.
  assert.deepEqual(passwordLiterals('"postgres://nobody:x@127.0.0.1:1/none"', new Set()), [
    { line: 1, kind: "postgres-url" },
  ]);
});

Deno.test(".ci/run and its provisioning script hold no database password literal", async () => {
  const report = await literalsIn([`${ROOT}/.ci/run`, `${ROOT}/.ci/provision_db.ts`]);
  assert.deepEqual(report, []);
  const run = await Deno.readTextFile(`${ROOT}/.ci/run`);
  // The credential is made per run and handed over in a store, not in DATABASE_URL.
  assert.doesNotMatch(run, /export\s+DATABASE_URL\b/);
  assert.match(run, /unset DATABASE_URL/);
  assert.match(run, /\.ci\/provision_db\.ts/);
});

Deno.test("no file under tests/ holds a database password literal beyond the listed fakes", async () => {
  const report = await literalsIn(filesUnder(`${ROOT}/tests`));
  assert.deepEqual(
    report,
    [],
    "write a generated password, or add a made-up one to FAKE_PASSWORDS",
  );
});

Deno.test("no file in the repository holds the old CI password literal", async () => {
  const report = (await literalsIn(filesUnder(ROOT))).filter((r) => r.endsWith("old-ci-literal"));
  assert.deepEqual(report, []);
});

Deno.test("tests and benches get the database URL from tests/_postgres.ts only", async () => {
  // databaseUrl() reads DATABASE_URL or, in CI, the test store: a file that
  // reads the variable itself skips (or fails) in CI, where it is not set.
  const direct: string[] = [];
  for await (const path of filesUnder(`${ROOT}/tests`)) {
    if (!path.endsWith(".ts") || path.endsWith("/tests/_postgres.ts")) continue;
    const text = await Deno.readTextFile(path);
    if (/env\.get\(\s*["'`]DATABASE_URL["'`]\s*\)/.test(text)) {
      direct.push(path.slice(ROOT.length + 1));
    }
  }
  assert.deepEqual(direct, [], "use `await databaseUrl()` from tests/_postgres.ts");
});

const inCiStore = Deno.env.get(`${TEST_SETTINGS_PREFIX}SECRET_BACKEND`) !== undefined &&
  !Deno.env.has("DATABASE_URL");

Deno.test({
  name: "in CI, the database password is in the test store only: no variable holds it",
  ignore: !inCiStore,
  fn: async () => {
    const env = Deno.env.toObject();
    const storePath = env[`${TEST_SETTINGS_PREFIX}KEYWARD_FILE_PATH`];
    const keyFile = env[`${TEST_SETTINGS_PREFIX}KEYWARD_FILE_KEY_FILE`];
    assert.ok(storePath && keyFile, "CI's store settings are exported");
    for (const path of [storePath, keyFile]) {
      assert.ok(!path.startsWith(`${ROOT}/`), `${path} is outside the repository`);
    }
    assert.equal((await Deno.stat(keyFile)).mode! & 0o077, 0, "the key file is its owner's only");

    const manager = await createSecretManager({
      env: { SECRET_BACKEND: "file", KEYWARD_FILE_PATH: storePath, KEYWARD_FILE_KEY_FILE: keyFile },
    });
    let password: string;
    try {
      password = await manager.getSecret("test/database/app", { field: "password" });
    } finally {
      await manager.close();
    }
    assert.ok(password.length >= 32, "a long random password");
    const holders = Object.entries(env)
      .filter(([, value]) =>
        value.includes(password) || value.includes(encodeURIComponent(password))
      )
      .map(([name]) => name);
    assert.deepEqual(holders, [], "no environment variable holds the password");
    assert.ok(!FAKE_PASSWORDS.has(password));

    // And it is the password that opens the test database.
    const url = await databaseUrl();
    assert.ok(url);
    assert.equal(decodeURIComponent(new URL(url).password), password);
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const [{ ok }] = await sql`SELECT 1 AS ok`;
      assert.equal(ok, 1);
    } finally {
      await sql.end();
    }
  },
});
