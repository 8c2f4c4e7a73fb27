/**
 * Bundles keyward's entries with esbuild (npm, pinned in deno.json) the way an
 * edge or Node consumer's bundler would: bare specifiers resolve from
 * tests/node/node_modules (filled by `npm ci` from the same pinned versions),
 * nothing is external except what the platform itself provides, and every
 * bundle is built once per process and reused by every test that needs it.
 *
 * @module
 */

import { builtinModules } from "node:module";
import * as esbuild from "esbuild";

/** The repository root, as a file URL. */
export const ROOT: URL = new URL("../../", import.meta.url);

/** Where the npm packages of the bundles come from (`npm ci` in tests/node). */
export const NODE_MODULES: string = new URL("../node/node_modules", import.meta.url).pathname;

/** What a free reference to `Deno` is rewritten to when one module is scanned for it. */
const DENO_MARKER = "__KEYWARD_REFERS_TO_DENO__";

/** A built bundle and what went into it. */
export interface Bundle {
  /** The entry, relative to the repository root (`mod.ts`). */
  entry: string;
  /** The bundled JavaScript (ES module; with `splitting`, the entry chunk). */
  code: string;
  /** Bytes loaded at start-up: the entry chunk and the chunks it imports statically. */
  bytes: number;
  /** The same chunks, each gzipped (CompressionStream, "gzip"), added up. */
  gzipBytes: number;
  /** With `splitting`: the chunks only a dynamic `import()` loads, gzipped, added up. */
  lazyGzipBytes: number;
  /**
   * Every module with code in the bundle: a path relative to the repository
   * root, or `npm:<package>/<file>` for a module from node_modules.
   */
  inputs: string[];
  /** Minified bytes each module adds to the start-up chunks (what `gzipBytes` measures). */
  inputBytes: Record<string, number>;
  /** Node built-ins imported (left to the platform), each as `<module> (from <importer>)`. */
  builtins: string[];
  /**
   * Per module of `inputs` that refers to the `Deno` global (a free
   * identifier, not a string that mentions it): how many times.
   */
  denoReferences: Record<string, number>;
}

/** How one entry is bundled. */
export interface BundleOptions {
  /**
   * "browser": an edge worker (no built-ins at all); "node": a Node service
   * (built-ins stay imports of the platform).
   */
  platform: "browser" | "node";
  /**
   * Modules (paths relative to the repository root) replaced by an import of
   * another module of the worker, e.g. `{ "mod.ts": "./keyward.js" }`.
   * @default {{}}
   */
  externalAs?: Record<string, string>;
  /**
   * Split the chunks a dynamic `import()` loads from the start-up chunks
   * (as the factory loads each backend only when chosen).
   * @default {false}
   */
  splitting?: boolean;
}

const BUILTIN_NAMES = new Set(builtinModules.flatMap((m) => [m, m.split("/")[0]]));
const NODE_BUILTIN = /^(node:.*|[a-z_0-9]+(\/[a-z_0-9/]+)?)$/;

/** Gzipped size of `text`, through the web-standard CompressionStream. */
export async function gzipSize(text: string): Promise<number> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

function relative(path: string): string {
  const root = ROOT.pathname;
  const nm = path.lastIndexOf("/node_modules/");
  if (nm >= 0) return `npm:${path.slice(nm + "/node_modules/".length)}`;
  return path.startsWith(root) ? path.slice(root.length) : path;
}

async function build(entry: string, options: BundleOptions): Promise<Bundle> {
  const builtins = new Set<string>();
  const externalAs = options.externalAs ?? {};
  const plugin: esbuild.Plugin = {
    name: "keyward-resolve",
    setup(b) {
      b.onResolve({ filter: NODE_BUILTIN }, (args) => {
        if (!args.path.startsWith("node:") && !BUILTIN_NAMES.has(args.path)) return undefined;
        builtins.add(`${args.path} (from ${relative(args.importer)})`);
        return { path: args.path, external: true };
      });
      b.onResolve({ filter: /\.ts$/ }, (args) => {
        if (!args.path.startsWith(".")) return undefined;
        const target = new URL(args.path, `file://${args.resolveDir}/`).pathname;
        const replacement = externalAs[relative(target)];
        return replacement ? { path: replacement, external: true } : undefined;
      });
    },
  };
  const browser = options.platform === "browser";
  const result = await esbuild.build({
    entryPoints: [new URL(entry, ROOT).pathname],
    absWorkingDir: ROOT.pathname,
    bundle: true,
    write: false,
    format: "esm",
    platform: options.platform,
    target: "es2022",
    minify: true,
    metafile: true,
    legalComments: "none",
    splitting: options.splitting ?? false,
    outdir: `${ROOT.pathname}.bundle-out`, // never written (write: false)
    nodePaths: [NODE_MODULES],
    conditions: browser ? ["worker", "browser"] : [],
    logLevel: "silent",
    plugins: [plugin],
  });
  const files = new Map(result.outputFiles!.map((f) => [relative(f.path), f.text]));
  const outputs = Object.entries(result.metafile!.outputs).map(([path, meta]) => ({
    path: relative(new URL(path, ROOT).pathname),
    meta,
  }));
  // With splitting, every dynamically imported module is an entry point too.
  const entryOut = outputs.find((o) => o.meta.entryPoint === entry)!;
  // The start-up chunks: the entry and what it imports statically, transitively.
  const eager = new Set<string>([entryOut.path]);
  for (const path of eager) {
    const out = outputs.find((o) => o.path === path)!;
    for (const i of out.meta.imports) {
      if (!i.external && i.kind === "import-statement") {
        eager.add(relative(new URL(i.path, ROOT).pathname));
      }
    }
  }
  let bytes = 0, gzipBytes = 0, lazyGzipBytes = 0;
  const used = new Set<string>();
  const eagerBytes = new Map<string, number>();
  for (const out of outputs) {
    const text = files.get(out.path) ?? "";
    const gz = await gzipSize(text);
    if (eager.has(out.path)) {
      bytes += new TextEncoder().encode(text).byteLength;
      gzipBytes += gz;
    } else {
      lazyGzipBytes += gz;
    }
    for (const [p, v] of Object.entries(out.meta.inputs)) {
      const path = new URL(p, ROOT).pathname;
      if (v.bytesInOutput === 0) continue;
      used.add(path);
      if (eager.has(out.path)) {
        eagerBytes.set(relative(path), (eagerBytes.get(relative(path)) ?? 0) + v.bytesInOutput);
      }
    }
  }
  const denoReferences: Record<string, number> = {};
  for (const path of used) {
    const count = await denoReferencesIn(path);
    if (count > 0) denoReferences[relative(path)] = count;
  }
  return {
    entry,
    code: files.get(entryOut.path)!,
    bytes,
    gzipBytes,
    lazyGzipBytes,
    inputs: [...used].map(relative),
    inputBytes: Object.fromEntries(eagerBytes),
    builtins: [...builtins].sort(),
    denoReferences,
  };
}

/**
 * Free references to `Deno` in one module: esbuild rewrites them (and
 * `globalThis.Deno`) to a marker, leaving strings and comments that merely
 * mention Deno alone, and the marker is counted.
 */
async function denoReferencesIn(path: string): Promise<number> {
  const loader = path.endsWith(".ts") ? "ts" : path.endsWith(".json") ? "json" : "js";
  if (loader === "json") return 0;
  const { code } = await esbuild.transform(await Deno.readTextFile(path), {
    loader,
    minify: true,
    define: { "Deno": DENO_MARKER, "globalThis.Deno": DENO_MARKER },
    logLevel: "silent",
  });
  return code.split(DENO_MARKER).length - 1;
}

const built = new Map<string, Promise<Bundle>>();
let queue: Promise<unknown> = Promise.resolve();

/**
 * Bundles `entry` (relative to the repository root) once per process and
 * returns the same bundle to every later caller. Stops esbuild's service
 * afterwards, so no child process outlives the test that asked.
 */
export function bundle(entry: string, options: BundleOptions): Promise<Bundle> {
  const key = JSON.stringify([entry, options]);
  let pending = built.get(key);
  if (!pending) {
    // One build at a time: stopping esbuild's service ends every build in flight.
    pending = queue.then(() => build(entry, options)).finally(() => esbuild.stop());
    queue = pending.catch(() => undefined);
    built.set(key, pending);
  }
  return pending;
}

/** Whether `npm ci` has filled tests/node/node_modules. */
export async function nodeModulesInstalled(): Promise<boolean> {
  try {
    await Deno.stat(`${NODE_MODULES}/@logtape/logtape/package.json`);
    return true;
  } catch {
    return false;
  }
}

/** The message a test shows when it skips for want of `npm ci`. */
export const NPM_CI_HINT = "run `npm ci` in tests/node first (CI does)";
