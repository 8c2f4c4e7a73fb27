/**
 * The Vault backend runs on the edge: backends/vault.ts, core/retry.ts and
 * every local module they import use web standards only: no `node:` import,
 * no `Deno` API, no `process`, and no npm package but LogTape (itself
 * runtime-neutral).
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const ALLOWED_PACKAGES = new Set(["@logtape/logtape"]);
const IMPORT =
  /(?:^|[;\s])(?:import|export)\s[^"';]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;

/** Code without comments (so a doc comment may mention Deno). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

async function closure(entries: string[]): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const queue = entries.map((e) => new URL(e, ROOT).href);
  while (queue.length) {
    const href = queue.pop()!;
    if (seen.has(href)) continue;
    const text = await Deno.readTextFile(new URL(href));
    seen.set(href, text);
    for (const match of code(text).matchAll(IMPORT)) {
      const spec = match[1] ?? match[2];
      if (spec.startsWith(".")) queue.push(new URL(spec, href).href);
      else seen.set(`${href} -> ${spec}`, "");
    }
  }
  return seen;
}

Deno.test("backends/vault.ts and core/retry.ts (and all they import) use no node: import and no Deno API", async () => {
  const files = await closure(["backends/vault.ts", "core/retry.ts"]);
  const local = [...files.keys()].filter((k) => !k.includes(" -> "));
  assert.ok(local.some((f) => f.endsWith("backends/_vault_http.ts")), "the walk follows imports");
  assert.ok(local.some((f) => f.endsWith("core/errors.ts")));
  for (const key of files.keys()) {
    if (!key.includes(" -> ")) continue;
    const spec = key.split(" -> ")[1];
    assert.ok(!spec.startsWith("node:"), `${key}: a node: import`);
    assert.ok(ALLOWED_PACKAGES.has(spec), `${key}: only LogTape may be imported from npm`);
  }
  for (const file of local) {
    const body = code(files.get(file)!);
    assert.doesNotMatch(body, /\bDeno\s*[.[]/, `${file} uses a Deno API`);
    assert.doesNotMatch(body, /\bglobalThis\s*\.\s*Deno\b/, `${file} reaches for Deno`);
    assert.doesNotMatch(body, /\bprocess\s*\.\s*(env|versions|argv)\b/, `${file} reads process`);
    assert.doesNotMatch(body, /\brequire\s*\(/, `${file} uses require`);
  }
});

Deno.test("the neutrality check itself catches a node: import and a Deno call", () => {
  const sample = 'import { x } from "node:fs";\nconst y = Deno.env.get("A"); // Deno in a comment';
  const specs = [...code(sample).matchAll(IMPORT)].map((m) => m[1] ?? m[2]);
  assert.deepEqual(specs, ["node:fs"]);
  assert.match(code(sample), /\bDeno\s*[.[]/);
  assert.doesNotMatch(code("/** runs on Deno. */\nconst a = 1; // Deno.exit"), /\bDeno\s*[.[]/);
});
