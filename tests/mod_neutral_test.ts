/**
 * mod.ts is the edge entry: web standards only. Nothing it imports may read
 * the environment or a file, touch `Deno.*`, or load a Node built-in or an
 * npm package (LogTape loads when the application configures logging).
 */
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);

async function moduleGraph(
  entry: string,
): Promise<{ local: string[]; npm: string[]; other: string[]; dynamic: string[] }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(entry, root).href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: {
      specifier: string;
      dependencies?: { specifier: string; isDynamic?: boolean; code?: { specifier: string } }[];
    }[];
  };
  const modules = new Map(graph.modules.map((m) => [m.specifier, m]));
  // What loads at import: the graph through static imports only.
  const specifiers = new Set<string>();
  const dynamic = new Set<string>();
  const todo = [...graph.roots];
  while (todo.length > 0) {
    const s = todo.pop()!;
    if (specifiers.has(s)) continue;
    specifiers.add(s);
    for (const dep of modules.get(s)?.dependencies ?? []) {
      const target = dep.code?.specifier;
      if (target === undefined) continue;
      if (!dep.isDynamic) todo.push(target);
      else dynamic.add(`${s.slice(root.href.length)} ${dep.specifier}`);
    }
  }
  const all = [...specifiers];
  return {
    local: all.filter((s) => s.startsWith(root.href)),
    npm: all.filter((s) => s.startsWith("npm:"))
      .map((s) => s.replace(/^npm:\/?/, "").replace(/@[^@/]+$/, "")).sort(),
    other: all.filter((s) => !s.startsWith(root.href) && !s.startsWith("npm:")),
    dynamic: [...dynamic].sort(),
  };
}

function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

Deno.test("mod.ts imports nothing that reads the environment or a file", async () => {
  const { local, npm, other, dynamic } = await moduleGraph("mod.ts");
  assert.ok(local.length > 10, "the graph was read");
  assert.deepEqual(other, [], "no node: built-ins or remote modules");
  // Issue 18: no npm package loads at import (each costs start-up time under Deno), and none
  // hides behind a dynamic import() either: Deno walks and resolves those at start-up too, so
  // LogTape's setup (configureRedactedLogging) is the `./logging` entry, not part of mod.ts.
  assert.deepEqual(npm, [], "no npm package in the static graph");
  assert.deepEqual(dynamic, [], "no dynamic import: Deno resolves their graphs at start-up");
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
