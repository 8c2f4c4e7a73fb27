import assert from "node:assert/strict";
import {
  DEFAULT_CACHE_MAX_ENTRIES,
  DEFAULT_CACHE_STALE_MS,
  DEFAULT_CACHE_STALE_RETRY_MS,
  DEFAULT_CACHE_TTL_MS,
} from "../../cache/cached_manager.ts";
import { DEFAULT_READ_DEADLINE_MS } from "../../core/_backend_base.ts";
import { ConfigError } from "../../core/errors.ts";
import {
  generate,
  GENERATED_FILES,
  renderEnvTemplate,
  renderReadmeTable,
} from "../../settings/docs.ts";
import { FEATURES, MEANINGS } from "../../settings/meanings.ts";
import { parseSettings } from "../../settings/parse.ts";
import { SETTINGS } from "../../settings/table.ts";

const root = new URL("../../", import.meta.url);

Deno.test("the generated settings tables in the docs are the generated text", async () => {
  for (const path of GENERATED_FILES) {
    const text = await Deno.readTextFile(new URL(path, root));
    assert.equal(text, generate(path, text), `${path} is stale: run deno task settings:generate`);
  }
  for (const { name } of SETTINGS) {
    assert.ok(renderReadmeTable().includes(`\`${name}\``), name);
    assert.ok(renderEnvTemplate().includes(`\n${name}=`), name);
  }
});

Deno.test("a changed row of the table makes the committed README stale", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const edited = readme.replace("| `VAULT_MOUNT`", "| `VAULT_MOUNTS`");
  assert.notEqual(edited, readme);
  assert.notEqual(generate("README.md", edited), edited);
  // a meaning (settings/meanings.ts) edited by hand in the README is drift too
  const meaning = readme.replace(MEANINGS.VAULT_MOUNT, "the KV v1 mount");
  assert.notEqual(meaning, readme);
  assert.notEqual(generate("README.md", meaning), meaning);
});

/** Every .ts file of the library (not tests, not node_modules). */
async function* sources(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    // examples/ are services with settings of their own (DATABASE_HOST, ...), not keyward's
    if (
      entry.name.startsWith(".") ||
      ["tests", "node_modules", "coverage", "examples"].includes(entry.name)
    ) {
      continue;
    }
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* sources(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}

/** Names that look like settings but are not read from the environment by keyward. */
const NOT_SETTINGS = new Set([
  "AWSCURRENT",
  "AWSPENDING",
  "AWSPREVIOUS",
  "SECRET_NAME", // an example variable in docs
  "KEYWARD_DEPRECATED_", // the AWS staging label prefix of a deprecated version
  // Bootstrap credentials the classifier (config/classify.ts) recognises that keyward does not
  // read itself: the AWS SDK reads them.
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  // A test hook, not a setting (rotation/_settings.ts): the crash tests make the CLI kill
  // itself after a step; kept out of the table so no operator finds it in the docs.
  "KEYWARD_ROTATION_TEST_CRASH_AFTER",
]);

Deno.test("every setting the code names is in the settings table", async () => {
  const known = new Set<string>(SETTINGS.map((s) => s.name));
  const missing = new Map<string, string>();
  for await (const file of sources(root)) {
    const text = await Deno.readTextFile(file);
    // Quoted names outside comments: what code reads (settings.X or env reads).
    const code = text.split("\n").filter((l) => !/^\s*(\*|\/\/)/.test(l)).join("\n");
    for (const m of code.matchAll(/["'`.]((?:SECRET|VAULT|AWS|KEYWARD|DATABASE)_[A-Z0-9_]+)\b/g)) {
      const name = m[1];
      if (!known.has(name) && !NOT_SETTINGS.has(name) && !name.startsWith("AWS_ACCESS")) {
        missing.set(name, file.pathname.slice(root.pathname.length));
      }
    }
  }
  assert.deepEqual([...missing], [], "settings read by the code but missing from the table");
});

Deno.test("the table's defaults are the constants the library exports", () => {
  // The table holds them as numbers (importing them would load the cache at `import ./factory`).
  const s = parseSettings({});
  assert.equal(s.SECRET_READ_DEADLINE_MS, DEFAULT_READ_DEADLINE_MS);
  assert.equal(s.SECRET_CACHE_TTL_MS, DEFAULT_CACHE_TTL_MS);
  assert.equal(s.SECRET_CACHE_STALE_MS, DEFAULT_CACHE_STALE_MS);
  assert.equal(s.SECRET_CACHE_STALE_RETRY_MS, DEFAULT_CACHE_STALE_RETRY_MS);
  assert.equal(s.SECRET_CACHE_MAX_ENTRIES, DEFAULT_CACHE_MAX_ENTRIES);
  assert.equal(s.SECRET_AUDIT, "off");
  assert.equal(s.SECRET_BACKEND, undefined);
  assert.equal(s.VAULT_TIMEOUT_MS, undefined, "the backend applies its own default");
});

Deno.test("values are trimmed, and blank counts as unset", () => {
  const s = parseSettings({
    SECRET_BACKEND: " vault ",
    SECRET_NAMESPACE: "   ",
    SECRET_CACHE_TTL_MS: " 5000 ",
    KEYWARD_ENV_PREFIXES: "APP_, ,DB_",
  });
  assert.equal(s.SECRET_BACKEND, "vault");
  assert.equal(s.SECRET_NAMESPACE, undefined);
  assert.equal(s.SECRET_CACHE_TTL_MS, 5000);
  assert.deepEqual(s.KEYWARD_ENV_PREFIXES, ["APP_", "DB_"]);
});

Deno.test("every integer setting is parsed by one parser that names the setting, never the value", () => {
  const canary = "sk_live_0123456789abcdef";
  for (const spec of SETTINGS) {
    if (spec.type !== "integer") continue;
    for (const bad of ["1.5", "-1", "soon", canary, String(spec.min - 1)]) {
      if (bad === String(spec.min - 1) && spec.min === 0) continue;
      const s = parseSettings({ [spec.name]: bad });
      assert.throws(() => s[spec.name], (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.match(err.message, new RegExp(`^${spec.name} must be a whole number`));
        assert.ok(!err.message.includes(canary));
        return true;
      });
    }
    if ("max" in spec && spec.max !== undefined) {
      assert.throws(() => parseSettings({ [spec.name]: String(spec.max + 1) })[spec.name]);
    }
  }
});

Deno.test("a bad setting of a feature not in use does not stop the others", () => {
  const s = parseSettings({ SECRET_BACKEND: "file", VAULT_TIMEOUT_MS: "soon" });
  assert.equal(s.SECRET_BACKEND, "file");
  assert.throws(() => s.VAULT_TIMEOUT_MS, /VAULT_TIMEOUT_MS/);
});

Deno.test("a choice setting lists the choices; SECRET_BACKEND shows a value only when it is a word", () => {
  assert.throws(
    () => parseSettings({ SECRET_AUDIT: "syslog" }).SECRET_AUDIT,
    (e: unknown) =>
      (e as Error).message === "SECRET_AUDIT must be one of: off, jsonl, postgres, endpoint",
  );
  assert.throws(
    () => parseSettings({ SECRET_BACKEND: "consul" }).SECRET_BACKEND,
    /SECRET_BACKEND=consul is not a backend; choose one of: file, env, memory, vault, aws/,
  );
  assert.throws(() => parseSettings({ SECRET_BACKEND: "a/b+c==" }).SECRET_BACKEND, (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.ok(e.message.startsWith("SECRET_BACKEND is not a backend"), e.message);
    return true;
  });
});

Deno.test("the table names each setting once", () => {
  const names = SETTINGS.map((s) => s.name);
  assert.equal(new Set(names).size, names.length);
});

/**
 * What is wrong between the table's names and the meanings' names: each
 * problem names the setting and the file to fix.
 */
function proseDrift(
  names: readonly string[],
  meanings: Readonly<Record<string, string>>,
): string[] {
  const problems: string[] = [];
  const known = new Set(names);
  for (const name of names) {
    const meaning = Object.hasOwn(meanings, name) ? meanings[name] : undefined;
    if (meaning === undefined) {
      problems.push(`${name} (settings/table.ts) has no meaning in settings/meanings.ts`);
    } else if (meaning.trim().length <= 5) {
      problems.push(`${name}'s meaning in settings/meanings.ts is blank or too short`);
    }
  }
  for (const name of Object.keys(meanings)) {
    if (!known.has(name)) {
      problems.push(
        `settings/meanings.ts has a meaning for ${name}, not a setting of settings/table.ts`,
      );
    }
  }
  return problems;
}

Deno.test("every setting has its meaning, and every meaning is of a setting of the table", () => {
  assert.deepEqual(proseDrift(SETTINGS.map((s) => s.name), MEANINGS), []);
  // every feature a setting belongs to has its title
  for (const s of SETTINGS) assert.ok(FEATURES[s.feature]?.title, `${s.name}: ${s.feature}`);
});

Deno.test("a setting without a meaning, or a meaning without a setting, is named exactly", () => {
  const names = SETTINGS.map((s) => s.name);
  const { VAULT_MOUNT: _dropped, ...lacking } = MEANINGS;
  assert.deepEqual(proseDrift(names, lacking), [
    "VAULT_MOUNT (settings/table.ts) has no meaning in settings/meanings.ts",
  ]);
  assert.deepEqual(proseDrift(names, { ...MEANINGS, VAULT_MOUNTS: "the KV v2 mount" }), [
    "settings/meanings.ts has a meaning for VAULT_MOUNTS, not a setting of settings/table.ts",
  ]);
  assert.deepEqual(proseDrift(names, { ...MEANINGS, VAULT_MOUNT: " " }), [
    "VAULT_MOUNT's meaning in settings/meanings.ts is blank or too short",
  ]);
});

Deno.test("nothing factory.ts imports, eagerly or lazily, reaches the docs' prose", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "factory.ts"],
    cwd: root.pathname,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(out.success, "deno info failed");
  const info: { modules: { specifier: string }[] } = JSON.parse(
    new TextDecoder().decode(out.stdout),
  );
  const modules = info.modules.map((m) => m.specifier.slice(root.href.length));
  assert.ok(modules.includes("settings/table.ts"), modules.join(", "));
  for (const docsOnly of ["settings/meanings.ts", "settings/docs.ts"]) {
    assert.ok(!modules.includes(docsOnly), `factory.ts reaches ${docsOnly}`);
  }
});
