import assert from "node:assert/strict";
import { readKeyFile } from "../../backends/file.ts";
import { runMain, withHarness } from "./_capture.ts";

Deno.test("set then get prints the value followed by a newline", async () => {
  await withHarness(async (h) => {
    const set = await h.run(["set", "alpaca/api_key_id"], { stdin: "PKCLI00000000001\n" });
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, "set alpaca/api_key_id: version 1 (current)\n");
    const get = await h.run(["get", "alpaca/api_key_id"]);
    assert.equal(get.code, 0);
    assert.equal(get.stdout, "PKCLI00000000001\n");
    assert.equal(get.stderr, "");
    const json = await h.run(["get", "alpaca/api_key_id", "--json"]);
    assert.deepEqual(JSON.parse(json.stdout), {
      name: "alpaca/api_key_id",
      value: "PKCLI00000000001",
    });
  });
});

Deno.test("get reads a stage, a version and a field", async () => {
  await withHarness(async (h) => {
    await h.run(["set", "db/login", "--field", "user", "--field", "password"], {
      stdin: "user=app\npassword=pw-version-one\n",
    });
    await h.run(["set", "db/login", "--field", "user", "--field", "password"], {
      stdin: "user=app\npassword=pw-version-two\n",
    });
    const read = (args: string[]) => h.run(["get", "db/login", ...args]);
    assert.equal((await read(["--field", "password"])).stdout, "pw-version-two\n");
    assert.equal(
      (await read(["--stage", "previous", "--field", "password"])).stdout,
      "pw-version-one\n",
    );
    assert.equal(
      (await read(["--version", "1", "--field", "password"])).stdout,
      "pw-version-one\n",
    );
    assert.deepEqual(JSON.parse((await read([])).stdout), {
      password: "pw-version-two",
      user: "app",
    });
    const badStage = await read(["--stage", "latest"]);
    assert.equal(badStage.code, 2);
    assert.match(badStage.stderr, /^error: --stage must be one of: current, pending, previous/);
    const noField = await read(["--field", "host"]);
    assert.equal(noField.code, 3);
    assert.match(noField.stderr, /field "host"/);
  });
});

Deno.test("list prints sorted names one a line, under a prefix, and as JSON", async () => {
  await withHarness(async (h) => {
    for (const name of ["db/password", "alpaca/api_key_id", "alpaca/api_secret_key"]) {
      assert.equal((await h.run(["set", name], { stdin: `value-of-${name}` })).code, 0);
    }
    const all = await h.run(["list"]);
    assert.equal(all.stdout, "alpaca/api_key_id\nalpaca/api_secret_key\ndb/password\n");
    const alpaca = await h.run(["list", "alpaca/"]);
    assert.equal(alpaca.stdout, "alpaca/api_key_id\nalpaca/api_secret_key\n");
    const none = await h.run(["list", "nothing/"]);
    assert.equal(none.code, 0);
    assert.equal(none.stdout, "");
    const json = await h.run(["list", "db", "--json"]);
    assert.deepEqual(JSON.parse(json.stdout), { names: ["db/password"] });
  });
});

Deno.test("set --stage pending then promote makes the pending version current", async () => {
  await withHarness(async (h) => {
    await h.run(["set", "webhook/secret"], { stdin: "whsec-current-0001" });
    const pending = await h.run(["set", "webhook/secret", "--stage", "pending", "--json"], {
      stdin: "whsec-pending-0002",
    });
    assert.equal(pending.code, 0, pending.stderr);
    const written = JSON.parse(pending.stdout);
    assert.equal(written.name, "webhook/secret");
    assert.deepEqual(written.stages, ["pending"]);
    assert.ok(!Number.isNaN(Date.parse(written.createdAt)));
    assert.equal((await h.run(["get", "webhook/secret"])).stdout, "whsec-current-0001\n");

    const promoted = await h.run(["promote", "webhook/secret", written.version]);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.equal(promoted.stdout, `promoted webhook/secret version ${written.version} (current)\n`);
    assert.equal((await h.run(["get", "webhook/secret"])).stdout, "whsec-pending-0002\n");
    assert.equal(
      (await h.run(["get", "webhook/secret", "--stage", "previous"])).stdout,
      "whsec-current-0001\n",
    );
    // Promoting it again is a no-op, and --json shows the version.
    const again = await h.run(["promote", "webhook/secret", written.version, "--json"]);
    assert.equal(again.code, 0);
    assert.deepEqual(JSON.parse(again.stdout).stages, ["current"]);
  });
});

Deno.test("describe shows versions and stages, as text and as JSON", async () => {
  await withHarness(async (h) => {
    await h.run(["set", "db/password"], { stdin: "pw-describe-0001" });
    await h.run(["set", "db/password"], { stdin: "pw-describe-0002" });
    const text = await h.run(["describe", "db/password"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^name: +db\/password\nbackend: +file\n/);
    assert.match(text.stdout, /^ {2}1 +\d{4}-\d\d-\d\dT\S+ +previous$/m);
    assert.match(text.stdout, /^ {2}2 +\d{4}-\d\d-\d\dT\S+ +current$/m);
    const json = JSON.parse((await h.run(["describe", "db/password", "--json"])).stdout);
    assert.equal(json.name, "db/password");
    assert.equal(json.backend, "file");
    assert.deepEqual(
      json.versions.map((v: { version: string; stages: string[] }) => [v.version, v.stages]),
      [["1", ["previous"]], ["2", ["current"]]],
    );
    const missing = await h.run(["describe", "db/nothing"]);
    assert.equal(missing.code, 3);
  });
});

Deno.test("delete --yes deletes; without --yes it needs a terminal confirmation", async () => {
  await withHarness(async (h) => {
    await h.run(["set", "a/one"], { stdin: "delete-me-0001" });
    await h.run(["set", "a/two"], { stdin: "delete-me-0002" });

    const refused = await h.run(["delete", "a/one"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^error: delete needs --yes when it cannot ask on a terminal/);
    const noPrompt = await h.run(["delete", "a/one"], { terminalWithoutPrompt: true });
    assert.equal(noPrompt.code, 2);

    const mismatch = await h.run(["delete", "a/one"], { typed: ["a/two"] });
    assert.equal(mismatch.code, 1);
    assert.match(mismatch.stderr, /nothing was deleted/);
    assert.deepEqual(mismatch.prompts, ['type the name "a/one" to delete it: ']);
    assert.equal((await h.run(["list"])).stdout, "a/one\na/two\n");

    const confirmed = await h.run(["delete", "a/one"], { typed: ["a/one"] });
    assert.equal(confirmed.code, 0, confirmed.stderr);
    assert.equal(confirmed.stdout, "deleted a/one\n");

    const yes = await h.run(["delete", "a/two", "-y", "--json"]);
    assert.equal(yes.code, 0);
    assert.deepEqual(JSON.parse(yes.stdout), { name: "a/two", deleted: true });
    assert.equal((await h.run(["list"])).stdout, "");
    assert.equal((await h.run(["get", "a/two"])).code, 3);

    const badDays = await h.run(["delete", "a/two", "--yes", "--recovery-days", "soon"]);
    assert.equal(badDays.code, 2);
    assert.match(badDays.stderr, /--recovery-days must be a whole number of days/);
  });
});

Deno.test("keygen --out writes a 0600 key file that the file backend reads", async () => {
  await withHarness(async (h) => {
    const path = `${h.dir}/keys/file.key`;
    const r = await runMain(["keygen", "--out", path], {});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^wrote a new file key to .*file\.key \(mode 0600\)\n/);
    assert.match(r.stdout, /KEYWARD_FILE_KEY_FILE=/);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const key = (await Deno.readTextFile(path)).trim();
    assert.ok(!r.stdout.includes(key), "keygen --out must not print the key");
    assert.equal((await readKeyFile(path)).length, 32);

    const env = {
      SECRET_BACKEND: "file",
      KEYWARD_FILE_PATH: `${h.dir}/other.json`,
      KEYWARD_FILE_KEY_FILE: path,
    };
    assert.equal((await runMain(["set", "a/b"], env, { stdin: "keyfile-value-01" })).code, 0);
    assert.equal((await runMain(["get", "a/b"], env)).stdout, "keyfile-value-01\n");

    const again = await runMain(["keygen", "--out", path], {});
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists; refusing to overwrite/);
    assert.equal((await Deno.readTextFile(path)).trim(), key);

    const json = await runMain(["keygen", "--out", `${h.dir}/second.key`, "--json"], {});
    assert.deepEqual(JSON.parse(json.stdout), { path: `${h.dir}/second.key` });
  });
});

Deno.test("keygen prints a key only when asked with --stdout", async () => {
  const neither = await runMain(["keygen"], {});
  assert.equal(neither.code, 2);
  assert.equal(neither.stdout, "");
  assert.match(neither.stderr, /--out <path>.*--stdout/);
  const both = await runMain(["keygen", "--out", "/tmp/x.key", "--stdout"], {});
  assert.equal(both.code, 2);
  assert.match(both.stderr, /not both/);

  const a = await runMain(["keygen", "--stdout"], {});
  const b = await runMain(["keygen", "--stdout", "--json"], {});
  assert.equal(a.code, 0);
  assert.match(a.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
  const key = JSON.parse(b.stdout).key as string;
  assert.match(key, /^[A-Za-z0-9+/]{43}=$/);
  assert.notEqual(a.stdout.trim(), key);
});
