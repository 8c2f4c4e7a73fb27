/**
 * `deno task settings:generate`: rewrites the README's settings table and
 * `.env.template`'s settings section from the settings table
 * (`settings/table.ts`). With `--check`, writes nothing and exits 1 when
 * either file differs from the generated text.
 *
 * @module
 */

import { generated } from "./docs.ts";

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  const readmePath = new URL("README.md", root);
  const templatePath = new URL(".env.template", root);
  const readme = await Deno.readTextFile(readmePath);
  const template = await Deno.readTextFile(templatePath);
  const next = generated(readme, template);
  const stale = [
    ...(next.readme !== readme ? ["README.md"] : []),
    ...(next.template !== template ? [".env.template"] : []),
  ];
  if (Deno.args.includes("--check")) {
    if (stale.length > 0) {
      console.error(`out of date: ${stale.join(", ")}; run deno task settings:generate`);
      Deno.exit(1);
    }
  } else {
    if (next.readme !== readme) await Deno.writeTextFile(readmePath, next.readme);
    if (next.template !== template) await Deno.writeTextFile(templatePath, next.template);
    console.log(stale.length > 0 ? `rewrote ${stale.join(", ")}` : "up to date");
  }
}
