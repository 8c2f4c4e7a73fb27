/**
 * Bundle-size budgets (tests/bench/budgets.json): a bundle larger than its
 * gzipped budget fails; the budget is the limit, with no tolerance to drift
 * in (issue 18). Sizes are deterministic for
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
    name: `the bundle of ${spec.name} stays within ${spec.budgetGzipBytes} B gzipped`,
    ignore: !installed && !CI,
    async fn() {
      assert.ok(installed, NPM_CI_HINT);
      const m = await measure(spec);
      if (m.bundle.gzipBytes > spec.budgetGzipBytes) {
        const top = (await contributors(spec)).slice(0, 8).map(([i, n]) => `${i} ${n} B`);
        assert.fail(
          `${spec.name}: ${m.bundle.gzipBytes} B gzipped (${kb(m.bundle.gzipBytes)}), over its ` +
            `budget of ${spec.budgetGzipBytes} B (${spec.why}); largest minified contributors: ` +
            top.join(", "),
        );
      }
      if (spec.platform === "browser") {
        assert.deepEqual(m.bundle.builtins, [], `${spec.name} imports Node built-ins`);
      }
    },
  });
}

Deno.test("the budgets are the limits: budgets.json has no tolerance", () => {
  assert.ok(!("toleranceRatio" in budgets), "a tolerance lets a bundle drift past its budget");
  for (const spec of budgets.bundles) {
    assert.ok(Number.isInteger(spec.budgetGzipBytes) && spec.budgetGzipBytes > 0, spec.name);
    assert.match(spec.why, /\d{4}-\d{2}-\d{2}/, `${spec.name}: the budget's "why" has a date`);
  }
});
