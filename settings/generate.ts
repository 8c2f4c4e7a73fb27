/**
 * `deno task settings:generate`: rewrites the generated settings tables (the
 * README's, `.env.template`'s settings section and the guide's per-backend
 * tables) from the settings table (`settings/table.ts`). With `--check`,
 * writes nothing and exits 1 when a file differs from the generated text.
 *
 * @module
 */

import { generate, GENERATED_FILES } from "./docs.ts";

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  const stale: string[] = [];
  for (const path of GENERATED_FILES) {
    const url = new URL(path, root);
    const text = await Deno.readTextFile(url);
    const next = generate(path, text);
    if (next === text) continue;
    stale.push(path);
    if (!Deno.args.includes("--check")) await Deno.writeTextFile(url, next);
  }
  if (Deno.args.includes("--check")) {
    if (stale.length > 0) {
      console.error(`out of date: ${stale.join(", ")}; run deno task settings:generate`);
      Deno.exit(1);
    }
  } else {
    console.log(stale.length > 0 ? `rewrote ${stale.join(", ")}` : "up to date");
  }
}
