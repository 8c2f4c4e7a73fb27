/**
 * mod.ts is the edge entry: web standards only. Nothing it imports may read
 * the environment or a file, touch `Deno.*`, or load a Node built-in or an
 * npm package other than LogTape.
 */
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);

async function moduleGraph(
  entry: string,
): Promise<{ local: string[]; npm: string[]; other: string[] }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(entry, root).href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  const specifiers = graph.modules.map((m) => m.specifier);
  return {
    local: specifiers.filter((s) => s.startsWith(root.href)),
    npm: specifiers.filter((s) => s.startsWith("npm:"))
      .map((s) => s.replace(/^npm:\/?/, "").replace(/@[^@/]+$/, "")).sort(),
    other: specifiers.filter((s) => !s.startsWith(root.href) && !s.startsWith("npm:")),
  };
}

function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

Deno.test("mod.ts imports nothing that reads the environment or a file", async () => {
  const { local, npm, other } = await moduleGraph("mod.ts");
  assert.ok(local.length > 10, "the graph was read");
  assert.deepEqual(other, [], "no node: built-ins or remote modules");
  // @noble/hashes (the audit chain's synchronous HMAC, issue 11 item 9) is allowed while the audit
  // exports live in mod.ts: pure web-standard code, no measurable start-up cost (LogTape already
  // resolves npm; docs/PERFORMANCE.md), tree-shaken out of the edge bundle.
  assert.deepEqual(
    npm.filter((name) => !name.startsWith("@noble/hashes")),
    ["@logtape/logtape", "@logtape/redaction"],
    "LogTape is the only npm dependency besides the audit chain's HMAC",
  );
  const forbidden: [RegExp, string][] = [
    [/(?<!["'`])\bDeno\./, "a Deno API"],
    [/\bprocess\.env\b/, "process.env"],
    [/\bfrom\s+["']node:/, "a node: import"],
    [/\bimport\(\s*["'](?!\.)/, "a dynamic import of a package"],
    [/\brequire\(/, "require()"],
  ];
  for (const specifier of local) {
    const code = stripComments(await Deno.readTextFile(new URL(specifier)));
    for (const [pattern, what] of forbidden) {
      assert.ok(!pattern.test(code), `${specifier.slice(root.href.length)} uses ${what}`);
    }
  }
});

Deno.test("the check above catches a planted environment read", () => {
  const planted = 'const url = Deno.env.get("VAULT_ADDR");';
  assert.ok(/(?<!["'`])\bDeno\./.test(stripComments(planted)));
  assert.ok(!/(?<!["'`])\bDeno\./.test('[Symbol.for("Deno.customInspect")]()'));
});
