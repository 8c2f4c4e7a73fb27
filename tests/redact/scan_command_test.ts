import assert from "node:assert/strict";
import { join } from "node:path";
import { MemorySecretManager } from "../../backends/memory.ts";
import { SecretAccessError } from "../../core/errors.ts";
import { createScanCommand, scanCommand } from "../../cli/scan.ts";
import { captureIo } from "../../testing/canary.ts";
import { fakes } from "./_fakes.ts";
import { fixtureTree, leakyFiles, plantedValues } from "./_fixtures.ts";

const DB_VALUE = plantedValues.get("db/password")![0];

async function withTree<T>(
  files: Record<string, string>,
  fn: (root: string) => Promise<T>,
): Promise<T> {
  const root = await fixtureTree(files);
  try {
    return await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("scan exits 1 and prints file:line and kind for each finding, never the value", async () => {
  const { files } = leakyFiles();
  await withTree(files, async (root) => {
    const io = captureIo({ env: {} });
    const code = await scanCommand([root], io);
    assert.equal(code, 1);
    assert.match(
      io.stdoutText,
      new RegExp(`${root}/app/\\.env:2: aws-access-key \\[[0-9a-f]{8}\\]`),
    );
    assert.match(io.stdoutText, /id_rsa:1: private-key/);
    assert.match(io.stdoutText, /8 finding\(s\)/);
    assert.match(io.stderrText, /SECRET_BACKEND is not set/);
    for (const value of [fakes.awsKey, fakes.vaultToken, fakes.brokerSecret, "T4v9-Qm2xLp7Z"]) {
      assert.ok(!io.stdoutText.includes(value) && !io.stderrText.includes(value));
    }
  });
});

Deno.test("scan exits 0 on a clean tree", async () => {
  await withTree({ "a.txt": "hello\n", "b/c.md": "API_TOKEN=${API_TOKEN}\n" }, async (root) => {
    const io = captureIo();
    assert.equal(await scanCommand(["--no-values", root], io), 0);
    assert.match(io.stdoutText, /^no findings \(2 file\(s\) scanned, 0 allowed/);
  });
});

Deno.test("scan compares the configured backend's values and names the secret", async () => {
  const { files } = leakyFiles();
  await withTree(files, async (root) => {
    const scan = createScanCommand({
      createManager: () =>
        Promise.resolve(
          new MemorySecretManager({
            initial: Object.fromEntries([...plantedValues].map(([k, v]) => [k, v[0]])),
          }),
        ),
    });
    const io = captureIo({ env: { SECRET_BACKEND: "memory" } });
    assert.equal(await scan(["--json", join(root, "logs")], io), 1);
    const out = JSON.parse(io.stdoutText);
    assert.deepEqual(
      out.findings.map((f: { line: number; kind: string; name: string; form: string }) => [
        f.line,
        f.kind,
        f.name,
        f.form,
      ]),
      [[2, "secret-value", "db/password", "plain"], [3, "secret-value", "broker/keys", "base64"]],
    );
    assert.equal(out.secretsCompared, 2);
    assert.ok(!io.stdoutText.includes(DB_VALUE));
  });
});

Deno.test("scan reads the backend through the factory (SECRET_BACKEND=env)", async () => {
  const io = captureIo({
    env: { SECRET_BACKEND: "env", KEYWARD_ENV_PREFIXES: "APP_", APP_DB_PASSWORD: DB_VALUE },
    stdin: `line one\nconnecting with ${DB_VALUE}\n`,
  });
  assert.equal(await scanCommand(["-"], io), 1);
  assert.match(io.stdoutText, /^<stdin>:2: value of secret "app\/db_password" \[[0-9a-f]{8}\]$/m);
  assert.ok(!io.stdoutText.includes(DB_VALUE));
});

Deno.test("scan names short secrets it cannot compare", async () => {
  const scan = createScanCommand({
    createManager: () => Promise.resolve(new MemorySecretManager({ initial: { "a/pin": "1234" } })),
  });
  const io = captureIo({ env: { SECRET_BACKEND: "memory" }, stdin: "pin 1234\n" });
  assert.equal(await scan(["-"], io), 0);
  assert.match(io.stderrText, /1 secret\(s\) shorter than 8 bytes not compared: a\/pin/);
});

Deno.test("scan honours --allow-list and exits 0 when everything is allowed", async () => {
  const { files } = leakyFiles();
  await withTree(files, async (root) => {
    const list = join(root, "allow.txt");
    await Deno.writeTextFile(list, `# fixtures\n${root}/**  # the whole fixture tree\n`);
    const io = captureIo();
    assert.equal(await scanCommand(["--allow-list", list, "--no-values", root], io), 0);
    assert.match(io.stdoutText, /no findings \(5 file\(s\) scanned, 8 allowed/);
  });
});

Deno.test("scan exits 2 on usage errors", async () => {
  for (
    const args of [
      ["--bogus"],
      ["--allow-list"],
      ["-", "also-a-path"],
      ["/definitely/not/here"],
      ["--allow-list", "/no/such/allow-list", "."],
    ]
  ) {
    const io = captureIo();
    assert.equal(await scanCommand(args, io), 2, args.join(" "));
    assert.match(io.stderrText, /^error: /);
  }
  const io = captureIo();
  assert.equal(await scanCommand(["--json", "--bogus"], io), 2);
  assert.equal(JSON.parse(io.stderrText).error.code, "usage");
});

Deno.test("scan --help prints the usage and exits 0", async () => {
  const io = captureIo();
  assert.equal(await scanCommand(["--help"], io), 0);
  assert.match(io.stdoutText, /usage: secrets scan/);
});

Deno.test("scan maps a backend failure to its exit code without the error's text", async () => {
  const scan = createScanCommand({
    createManager: () =>
      Promise.reject(new SecretAccessError({ backend: "vault" }, "connection refused")),
  });
  const io = captureIo({ env: { SECRET_BACKEND: "vault" }, stdin: "x" });
  assert.equal(await scan(["-"], io), 4);
  assert.match(io.stderrText, /^error: secret cannot be accessed in the vault backend/);
  const foreign = createScanCommand({
    createManager: () => Promise.reject(new Error(`body: ${DB_VALUE}`)),
  });
  const io2 = captureIo({ env: { SECRET_BACKEND: "vault" }, stdin: "x" });
  assert.equal(await foreign(["-"], io2), 1);
  assert.ok(!io2.stderrText.includes(DB_VALUE), io2.stderrText);
});

Deno.test("deno run cli/scan.ts reads .keyward-scan-allow from the current folder", async () => {
  const { files } = leakyFiles();
  await withTree(files, async (root) => {
    const script = new URL("../../cli/scan.ts", import.meta.url).pathname;
    const run = (stdin?: string) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-read", "--allow-env", script, "--no-values", "."],
        cwd: root,
        stdout: "piped",
        stderr: "piped",
        stdin: stdin === undefined ? "null" : "piped",
        env: { NO_COLOR: "1" },
      }).output();
    const before = await run();
    assert.equal(before.code, 1);
    assert.match(new TextDecoder().decode(before.stdout), /^app\/\.env:2: aws-access-key/m);
    await Deno.writeTextFile(
      join(root, ".keyward-scan-allow"),
      "app/**   # fixture\nlogs/\ndocs/*.md\n",
    );
    const after = await run();
    assert.equal(after.code, 0, new TextDecoder().decode(after.stdout));
  });
});
