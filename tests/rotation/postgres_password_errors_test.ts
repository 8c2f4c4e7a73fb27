/**
 * `postgres-password`'s error paths an operator meets, on the real Postgres
 * (role names unique per run): a secret without the alternating-user
 * fields, a missing `_b` role, a test login refused (the `url` option names
 * a database that does not exist), a policy with bad options (a URL with a
 * password among them); plus the `url` option's happy path and the
 * rotator's guards against touching the login `current` uses. Every failure
 * leaves `current` working and prints no password.
 */

import assert from "node:assert/strict";
import {
  APP,
  BASE_URL,
  canConnect,
  type Cred,
  current,
  harness,
  PG_OK as ok,
  setApp,
  withRoles,
} from "./_pg_roles.ts";
import { postgresPasswordRotator } from "../../rotation/rotators/postgres_password.ts";
import { RotatorError } from "../../rotation/types.ts";

/** The test database's URL without its credentials, on another database name. */
function plainUrl(database?: string): string {
  const u = new URL(BASE_URL!);
  u.username = "";
  u.password = "";
  if (database !== undefined) u.pathname = `/${database}`;
  return u.toString();
}

function noPassword(text: string, ...creds: Cred[]): void {
  const admin = new URL(BASE_URL!).password;
  for (const v of [...creds.map((c) => c.password), ...(admin ? [admin] : [])]) {
    assert.ok(!text.includes(v), "no password printed or logged");
  }
}

Deno.test({
  name:
    "postgres-password: a secret that is not an alternating-users credential is refused, nothing written",
  ignore: !ok,
  async fn() {
    const h = await harness();
    try {
      for (
        const [stdin, args, message] of [
          [`postgres://app:${crypto.randomUUID()}@db/app`, [], /must hold fields username/],
          [
            "username=app_user\npassword=canary-pw-0000000000\n",
            ["--field", "username", "--field", "password"],
            /its username must end in _a or _b/,
          ],
        ] as const
      ) {
        assert.equal((await h.run(["set", APP, ...args], { stdin })).code, 0);
        const run = await h.run(["rotate", APP]);
        assert.notEqual(run.code, 0);
        assert.match(run.stderr, message);
        assert.ok(!run.stderr.includes("canary-pw-0000000000"));
      }
      await assert.rejects(Deno.stat(`${h.dir}/rotation.jsonl`), Deno.errors.NotFound);
    } finally {
      await h.dispose();
    }
  },
});

Deno.test({
  name: "postgres-password: a missing _b role is named with what to create; nothing written",
  ignore: !ok,
  async fn() {
    await withRoles(async (base, first) => {
      const h = await harness();
      try {
        await setApp(h, first);
        const run = await h.run(["rotate", APP]);
        assert.notEqual(run.code, 0);
        assert.match(
          run.stderr,
          new RegExp(`role ${base}_b does not exist: create ${base}_a and _b first`),
        );
        await assert.rejects(Deno.stat(`${h.dir}/rotation.jsonl`), Deno.errors.NotFound);
        assert.deepEqual(await current(h), first);
        assert.ok(await canConnect(first));
        noPassword(run.stdout + run.stderr, first);
      } finally {
        await h.dispose();
      }
    }, true);
  },
});

Deno.test({
  name:
    "postgres-password: the url option is where the new login is tested; a refused login rolls back",
  ignore: !ok,
  async fn() {
    await withRoles(async (base, first) => {
      const missingDb = `kw_nodb_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
      const h = await harness({ url: plainUrl(missingDb) });
      try {
        await setApp(h, first);
        const run = await h.run(["rotate", APP]);
        assert.equal(run.code, 4, run.stderr);
        assert.match(run.stderr, new RegExp(`a connection as ${base}_b failed \\(3D000\\)`));
        assert.match(run.stderr, /rotation rollback [0-9a-f-]{36}/);
        assert.deepEqual(await current(h), first, "current is untouched");
        assert.ok(await canConnect(first), "the current login still works");
        const log = await Deno.readTextFile(`${h.dir}/rotation.jsonl`);
        assert.match(log, /"errorCode":"login_refused"/);
        noPassword(run.stdout + run.stderr + log, first);

        const id = /rotation rollback ([0-9a-f-]{36})/.exec(run.stderr)![1];
        const back = await h.run(["rotation", "rollback", id]);
        assert.equal(back.code, 8, back.stderr);
        // Regression: the summary printed "version undefined is current again".
        const before = JSON.parse(log.trim().split("\n")[0]).fromVersion;
        assert.equal(typeof before, "string", "the log names the version rotated from");
        assert.match(back.stderr, new RegExp(`rolled back: version ${before} is current again`));
        assert.deepEqual(await current(h), first);

        // The same url on the right database: the rotation goes through.
        await Deno.writeTextFile(
          `${h.dir}/policy.json`,
          JSON.stringify({
            rules: [{
              prefix: "database/app",
              rotator: "postgres-password",
              options: { adminSecret: "database/admin", url: plainUrl(), passwordLength: 24 },
            }],
          }),
        );
        const again = await h.run(["rotate", APP]);
        assert.equal(again.code, 0, again.stderr);
        const now = await current(h);
        assert.equal(now.username, `${base}_b`);
        assert.equal(now.password.length, 24);
        assert.ok(await canConnect(now));
        noPassword(again.stdout + again.stderr, first, now);
      } finally {
        await h.dispose();
      }
    });
  },
});

Deno.test({
  name:
    "postgres-password: bad policy options are all named; a url with a password is refused (regression)",
  ignore: !ok,
  async fn() {
    const h = await harness();
    try {
      const policy = (options: Record<string, unknown>) =>
        Deno.writeTextFile(
          `${h.dir}/policy.json`,
          JSON.stringify({
            rules: [{ prefix: "database/app", rotator: "postgres-password", options }],
          }),
        );
      await policy({ passwordLength: 8, url: "mysql://db/app", admin: "database/admin" });
      const run = await h.run(["rotate", APP]);
      assert.equal(run.code, 2, run.stderr);
      for (
        const m of [
          /admin: unknown option/,
          /adminSecret: required/,
          /passwordLength: must be an integer from 16 to 99/,
          /url: must be a postgres:\/\/ URL without credentials/,
        ]
      ) assert.match(run.stderr, m);
      // The policy file is not a secret: a password in it is refused, and not echoed.
      const policyPw = `canary-policy-${crypto.randomUUID()}`;
      await policy({
        adminSecret: "database/admin",
        url: `postgres://app_a:${policyPw}@127.0.0.1:5432/app`,
      });
      const withPw = await h.run(["rotate", APP]);
      assert.equal(withPw.code, 2, withPw.stderr);
      assert.match(withPw.stderr, /url: must be a postgres:\/\/ URL without credentials/);
      assert.ok(!withPw.stderr.includes(policyPw));
      await assert.rejects(Deno.stat(`${h.dir}/rotation.jsonl`), Deno.errors.NotFound);
    } finally {
      await h.dispose();
    }
  },
});

Deno.test("postgres-password: never changes the password of, nor disables, the login current uses", async () => {
  const cur = { username: "app_a", password: "canary-cur-0000000000" };
  const ctx = { name: APP, current: cur, options: { adminSecret: "database/admin" } };
  // Both refusals come before any connection (no manager is even given).
  await assert.rejects(
    () => postgresPasswordRotator.setAtProvider(ctx, { ...cur, password: "canary-x-000000" }),
    (err) => err instanceof RotatorError && err.reason === "same_user",
  );
  await assert.rejects(
    () => postgresPasswordRotator.disableOld(ctx, { ...cur }),
    (err) => err instanceof RotatorError && /refusing to disable app_a/.test(err.message),
  );
  // Without a manager to read the admin secret from: a clear configuration error.
  await assert.rejects(
    () => postgresPasswordRotator.prepare!(ctx),
    /postgres-password needs option adminSecret/,
  );
  assert.equal(
    postgresPasswordRotator.conflicts!(cur, { username: "app_b", password: "y" }),
    true,
  );
  assert.equal(postgresPasswordRotator.conflicts!("text", cur), false);
});
