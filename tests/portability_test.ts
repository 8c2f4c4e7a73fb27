/**
 * What keeps the portability tests honest: the node_modules the edge bundles
 * and the Node run resolve from (tests/node, `npm ci`) holds exactly the
 * versions deno.json pins, so Deno, Node and the bundles run the same code.
 */

import assert from "node:assert/strict";

const root = new URL("../", import.meta.url);

Deno.test("tests/node/package.json pins exactly the npm versions deno.json imports", async () => {
  const deno = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const node = JSON.parse(await Deno.readTextFile(new URL("tests/node/package.json", root)));
  const pinned = new Map<string, string>();
  for (const spec of Object.values(deno.imports as Record<string, string>)) {
    const m = /^npm:(@?[^@]+)@(.+)$/.exec(spec);
    if (m) pinned.set(m[1], m[2]);
  }
  const deps = node.dependencies as Record<string, string>;
  assert.equal(node.private, true);
  for (const [name, version] of Object.entries(deps)) {
    assert.match(version, /^\d+\.\d+\.\d+$/, `${name} is pinned to an exact version`);
    if (pinned.has(name)) {
      assert.equal(version, pinned.get(name), `${name}: deno.json pins ${pinned.get(name)}`);
    }
  }
  // Every npm package the sources import (not the test-only tools) is installed for Node.
  for (
    const name of [
      "@logtape/logtape",
      "@logtape/redaction",
      "hono",
      "postgres",
      "@aws-sdk/client-secrets-manager",
    ]
  ) {
    assert.ok(name in deps, `${name} is missing from tests/node/package.json`);
  }
  const lock = JSON.parse(await Deno.readTextFile(new URL("tests/node/package-lock.json", root)));
  for (const [name, version] of Object.entries(deps)) {
    assert.equal(
      lock.packages[`node_modules/${name}`]?.version,
      version,
      `package-lock.json: ${name}`,
    );
  }
});
