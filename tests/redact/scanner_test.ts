import assert from "node:assert/strict";
import { join } from "node:path";
import { MemorySecretManager } from "../../backends/memory.ts";
import { denoScanFs } from "../../cli/scan.ts";
import { ConfigError } from "../../core/errors.ts";
import {
  parseAllowList,
  scanPaths,
  type ScanReport,
  scanText,
  valuesFromManager,
} from "../../redact/scanner.ts";
import { fakes } from "./_fakes.ts";
import { fixtureTree, leakyFiles, plantedValues } from "./_fixtures.ts";

function describe(report: ScanReport, root: string): string[] {
  return report.findings
    .map((f) => `${f.path.slice(root.length + 1)}:${f.line}:${f.kind}${f.name ? `:${f.name}` : ""}`)
    .sort();
}

Deno.test("the scanner finds every planted secret in a fixture tree", async () => {
  const { files, expected } = leakyFiles();
  const root = await fixtureTree(files);
  try {
    const report = await scanPaths([root], denoScanFs, { values: plantedValues });
    assert.deepEqual(describe(report, root), expected);
    assert.equal(report.files, 4);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the scanner finds nothing in a clean tree, and skips .git, node_modules, coverage and binaries", async () => {
  const hidden = `AWS_ACCESS_KEY_ID=${fakes.awsKey}\n`;
  const binary = new Uint8Array([0, 1, 2, ...new TextEncoder().encode(hidden)]);
  const root = await fixtureTree({
    "README.md": "# app\nSet DATABASE_URL=postgres://app:${DB_PASSWORD}@db/app\n",
    "src/main.ts": 'const token = Deno.env.get("API_TOKEN");\nconst SIGNING_KEY = "<set me>";\n',
    ".env.template": "WEBHOOK_SECRET=changeme\nAPI_TOKEN=\n",
    ".git/config": hidden,
    "node_modules/x/index.js": hidden,
    "coverage/lcov.info": hidden,
    "assets/blob.bin": binary as unknown as string,
  });
  await Deno.writeFile(join(root, "assets/blob.bin"), binary);
  try {
    const report = await scanPaths([root], denoScanFs, { values: plantedValues });
    assert.deepEqual(report.findings, []);
    assert.equal(report.binary, 1);
    assert.equal(report.files, 3);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a finding holds the place, kind, name and fingerprint, never the value", async () => {
  const value = plantedValues.get("db/password")![0];
  const { findings } = await scanText(`one\ntwo ${value}\n${fakes.awsKey}`, "x.log", {
    values: plantedValues,
  });
  assert.deepEqual(findings.map((f) => [f.line, f.kind, f.name ?? null]), [
    [2, "secret-value", "db/password"],
    [3, "aws-access-key", null],
  ]);
  for (const f of findings) assert.match(f.fingerprint, /^[0-9a-f]{8}$/);
  const text = JSON.stringify(findings);
  assert.ok(!text.includes(value) && !text.includes(fakes.awsKey));
});

Deno.test("the allow-list is honoured by path:line:kind, by glob:kind and by glob", async () => {
  const { files } = leakyFiles();
  const root = await fixtureTree(files);
  try {
    const list = parseAllowList([
      "# known false positives",
      `${root}/**:aws-access-key   # fake AWS key of a fixture`,
      `${root}/app/keys/id_rsa:1:private-key`,
      `${root}/logs/**`,
      "notes.md  # a base-name glob matches anywhere",
    ].join("\n"));
    const report = await scanPaths([root], denoScanFs, { values: plantedValues, allowList: list });
    assert.deepEqual(describe(report, root), [
      "app/.env:3:vault-token",
      "app/.env:4:broker-key-pair",
      "app/.env:5:assigned-secret",
      "app/.env:6:connection-string",
      "app/.env:7:assigned-secret",
    ]);
    assert.equal(report.allowed, 5);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("valuesFromManager() reads every stage and field of every secret", async () => {
  const manager = new MemorySecretManager({
    initial: {
      "db/login": { user: "app", password: "current-pass-01" },
      "api/short": "tiny",
    },
  });
  await manager.setSecret("db/login", { user: "app", password: "pending-pass-02" }, {
    stage: "pending",
  });
  const { redactor, secrets, short } = await valuesFromManager(manager);
  assert.equal(secrets, 2);
  assert.deepEqual(short, ["api/short"]);
  const { findings } = await scanText("current-pass-01 pending-pass-02 tiny", "-", {
    values: redactor,
  });
  assert.deepEqual(findings.map((f) => f.name), ["db/login", "db/login"]);
});

/** The first 8 hex digits of the unkeyed SHA-256 of `text` (what fingerprints used to be). */
async function unkeyedPrefix(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest).slice(0, 4), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

Deno.test("issue 12 item 3: a finding's fingerprint is keyed: a dictionary of unkeyed hashes does not match it", async () => {
  // The reproduction: a weak password in a scanned file; its old fingerprint was the unkeyed
  // SHA-256 prefix of kind + "\0" + match, so hashing a dictionary recovered it.
  const weak = "Winter2731!";
  const text = `DB_PASSWORD=${weak}\n`;
  const { findings } = await scanText(text, "app/.env", {
    values: new Map([["db/password", [weak]]]),
  });
  assert.ok(findings.length >= 1);
  for (const f of findings) {
    assert.match(f.fingerprint, /^[0-9a-f]{8}$/);
    for (const guess of [weak, `${f.kind}\0${weak}`, `${f.kind}\0DB_PASSWORD=${weak}`]) {
      assert.notEqual(f.fingerprint, await unkeyedPrefix(guess));
    }
  }
  // Equal matches still share a fingerprint within one run.
  const again = await scanText(text, "other/.env", { values: new Map([["db/password", [weak]]]) });
  assert.deepEqual(again.findings.map((f) => f.fingerprint), findings.map((f) => f.fingerprint));
});

Deno.test("issue 12 item 3: an allow-list entry that is a fingerprint is refused with what to write instead", () => {
  assert.throws(
    () => parseAllowList("# why\nff0161e9\n"),
    (err: unknown) =>
      err instanceof ConfigError && /line 2/.test(err.message) &&
      /path:line:kind/.test(err.message),
  );
});

Deno.test("the repository's own allow-list parses: it holds no fingerprint", async () => {
  const path = new URL("../../.keyward-scan-allow", import.meta.url);
  const list = parseAllowList(await Deno.readTextFile(path));
  assert.ok(list.kinds.some((k) => k.kind === "connection-string"));
  assert.ok(list.kinds.some((k) => k.kind === "vault-token"));
});
