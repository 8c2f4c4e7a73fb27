// A Node module-resolution hook for running keyward's TypeScript sources with
// tsx, the way a JSR consumer's Node runs the published package:
// - the sources are ES modules (JSR publishes them as such), so a `.ts` file
//   outside node_modules resolves with format "module" (the repository has no
//   package.json saying `"type": "module"`, and must not: Deno reads it);
// - a bare specifier the sources import (`@logtape/logtape`, `dotenv`, ...)
//   that cannot be found from the importer's folder resolves again from
//   tests/node/, whose node_modules `npm ci` fills.
const HERE = new URL("./package.json", import.meta.url).href;

/**
 * @param {string} specifier
 * @param {{ parentURL?: string }} context
 * @param {(specifier: string, context: object) => Promise<{ url: string, format?: string }>} nextResolve
 */
export async function resolve(specifier, context, nextResolve) {
  let result;
  try {
    result = await nextResolve(specifier, context);
  } catch (err) {
    const bare = !/^(\.{0,2}\/|[a-z][a-z0-9+.-]*:)/i.test(specifier);
    if (!bare || err?.code !== "ERR_MODULE_NOT_FOUND") throw err;
    return nextResolve(specifier, { ...context, parentURL: HERE });
  }
  const url = result.url;
  if (
    url.startsWith("file:") && url.endsWith(".ts") &&
    !url.includes("/node_modules/")
  ) {
    return { ...result, format: "module" };
  }
  return result;
}
