/**
 * Bundle sizes of keyward's entries against their budgets
 * (tests/bench/budgets.json): esbuild (pinned in deno.json), ESM, minified,
 * gzipped with the web-standard CompressionStream. Each row also shows its
 * size against a floor bundled in the same run: the least code that reads a
 * Vault secret through a TTL cache (tests/edge/_minimal_floor.ts).
 *
 * Run: `deno run --allow-read --allow-env --allow-run tests/bench/bundle_size.ts`
 * (needs `npm ci` in tests/node). The budgets are enforced by
 * tests/edge/bundle_budget_test.ts. After the table it lists the largest
 * contributors (minified bytes per module) to the edge worker's bundle and
 * to the start-up chunks of each entry with lazy chunks (`./factory`).
 *
 * @module
 */

import { type Bundle, bundle, type BundleOptions } from "../edge/_bundle.ts";

/** One budgeted bundle of budgets.json. */
export interface BudgetEntry {
  /** What the row is called in reports. */
  name: string;
  /** The entry module, relative to the repository root. */
  entry: string;
  /** The platform it is bundled for. */
  platform: BundleOptions["platform"];
  /** Whether dynamic imports become lazy chunks (only the start-up chunks count). */
  splitting?: boolean;
  /** The budget, gzipped bytes. */
  budgetGzipBytes: number;
  /** Why the budget is what it is. */
  why: string;
}

/** budgets.json. */
export interface Budgets {
  /** The budgeted bundles. */
  bundles: BudgetEntry[];
  /** The baseline bundle measured beside them. */
  floor: Omit<BudgetEntry, "budgetGzipBytes" | "why">;
}

/** One measured row. */
export interface Measured {
  /** The budget entry. */
  spec: BudgetEntry;
  /** The bundle. */
  bundle: Bundle;
  /** Gzipped size over budget (1.0 = exactly the budget). */
  ratioToBudget: number;
}

/** Reads tests/bench/budgets.json. */
export async function readBudgets(): Promise<Budgets> {
  return JSON.parse(await Deno.readTextFile(new URL("./budgets.json", import.meta.url)));
}

function options(spec: Omit<BudgetEntry, "budgetGzipBytes" | "why">): BundleOptions {
  return { platform: spec.platform, ...(spec.splitting ? { splitting: true } : {}) };
}

/** Bundles one budgeted entry (once per process; see tests/edge/_bundle.ts). */
export async function measure(spec: BudgetEntry): Promise<Measured> {
  const b = await bundle(spec.entry, options(spec));
  return { spec, bundle: b, ratioToBudget: b.gzipBytes / spec.budgetGzipBytes };
}

/** Bundles the floor (a minimal fetch-based Vault read with a TTL cache). */
export function measureFloor(budgets: Budgets): Promise<Bundle> {
  return bundle(budgets.floor.entry, options(budgets.floor));
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
/** Exact bytes beside the rounded figure: the budgets are exact. */
const kbExact = (n: number): string => `${kb(n)} (${n.toLocaleString("en-US")} B)`;

if (import.meta.main) {
  const budgets = await readBudgets();
  const floor = await measureFloor(budgets);
  const rows: Measured[] = [];
  for (const spec of budgets.bundles) rows.push(await measure(spec));
  console.log(
    "| bundle | platform | minified | gzipped | budget (gzipped) | ratio to budget | ratio to floor | lazy chunks (gzipped) |",
  );
  console.log("|---|---|---:|---:|---:|---:|---:|---:|");
  console.log(
    `| ${budgets.floor.name} | ${budgets.floor.platform} | ${kb(floor.bytes)} | ${
      kb(floor.gzipBytes)
    } | — | — | 1.00 | — |`,
  );
  for (const r of rows) {
    const over = r.ratioToBudget > 1 ? " **over**" : "";
    console.log(
      `| ${r.spec.name} | ${r.spec.platform} | ${kb(r.bundle.bytes)} | ${
        kbExact(r.bundle.gzipBytes)
      } | ${kbExact(r.spec.budgetGzipBytes)} | ${r.ratioToBudget.toFixed(2)}${over} | ${
        (r.bundle.gzipBytes / floor.gzipBytes).toFixed(1)
      } | ${r.bundle.lazyGzipBytes ? kb(r.bundle.lazyGzipBytes) : "—"} |`,
    );
  }
  // The edge worker's bundle, and the start-up chunks of each entry with lazy chunks.
  const edge = rows.find((r) => r.spec.platform === "browser");
  for (const r of [...(edge ? [edge] : []), ...rows.filter((r) => r.spec.splitting)]) {
    console.log(`\nlargest contributors to "${r.spec.name}" (minified bytes):`);
    const sizes = await contributors(r.spec);
    for (const [input, size] of sizes.slice(0, 12)) {
      console.log(`  ${String(size).padStart(6)}  ${input}`);
    }
  }
}

/** The modules of a bundle by the minified bytes they add, largest first. */
export async function contributors(spec: BudgetEntry): Promise<[string, number][]> {
  const b = await bundle(spec.entry, options(spec));
  return Object.entries(b.inputBytes).sort((x, y) => y[1] - x[1]);
}
