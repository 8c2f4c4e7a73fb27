/**
 * Bundle-size budgets (tests/bench/budgets.json): a bundle more than the
 * tolerance (10%) over its gzipped budget fails. Sizes are deterministic for
 * the pinned esbuild and npm versions, so this is no timing assertion.
 * `deno run --allow-read --allow-env --allow-run tests/bench/bundle_size.ts`
 * prints the whole table with the largest contributors.
 */

import assert from "node:assert/strict";
import { contributors, measure, readBudgets } from "../bench/bundle_size.ts";
import { nodeModulesInstalled, NPM_CI_HINT } from "./_bundle.ts";

const installed = await nodeModulesInstalled();
const CI = Deno.env.get("CI") === "true";
const budgets = await readBudgets();
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

for (const spec of budgets.bundles) {
  Deno.test({
    name: `the bundle of ${spec.name} stays within ${kb(spec.budgetGzipBytes)} gzipped (+${
      budgets.toleranceRatio * 100
    }%)`,
    ignore: !installed && !CI,
    async fn() {
      assert.ok(installed, NPM_CI_HINT);
      const m = await measure(spec);
      const limit = spec.budgetGzipBytes * (1 + budgets.toleranceRatio);
      if (m.bundle.gzipBytes > limit) {
        const top = (await contributors(spec)).slice(0, 8).map(([i, n]) => `${i} ${n} B`);
        assert.fail(
          `${spec.name}: ${kb(m.bundle.gzipBytes)} gzipped, ${
            m.ratioToBudget.toFixed(2)
          }x its budget of ${
            kb(spec.budgetGzipBytes)
          } (${spec.why}); largest minified contributors: ${top.join(", ")}`,
        );
      }
      if (spec.platform === "browser") {
        assert.deepEqual(m.bundle.builtins, [], `${spec.name} imports Node built-ins`);
      }
    },
  });
}
