/**
 * What the AWS backend costs to import, measured against baselines in the
 * same run:
 *
 * 1. start-up: `deno run` of a script importing `./aws` (backends/aws.ts), of
 *    one importing only `mod.ts`, of an empty script, and of one importing
 *    both (what a service using the AWS backend loads), interleaved, several
 *    runs each; medians and ratios.
 * 2. bundle size: `./aws` and `mod.ts` bundled with esbuild (platform browser,
 *    ESM, minified, the SDK's browser build), raw and gzipped.
 *
 * Run: `deno run --allow-run --allow-read --allow-write --allow-env tests/bench/aws_startup.ts [runs]`
 * (a script, not `deno bench`: each sample is a fresh process).
 */

import * as esbuild from "esbuild";

const root = new URL("../../", import.meta.url);
const rootPath = decodeURIComponent(root.pathname);
const runs = Number(Deno.args[0] ?? 15);
const dir = await Deno.makeTempDir({ prefix: "keyward-aws-startup-" });

try {
  // ---- start-up ----
  const scripts = {
    empty: "export {};\n",
    core: `import * as core from ${JSON.stringify(new URL("mod.ts", root).href)};\n` +
      "if (!core.MemorySecretManager) throw new Error();\n",
    aws: `import * as aws from ${JSON.stringify(new URL("backends/aws.ts", root).href)};\n` +
      "if (!aws.AwsSecretManager) throw new Error();\n",
    both: `import * as core from ${JSON.stringify(new URL("mod.ts", root).href)};\n` +
      `import * as aws from ${JSON.stringify(new URL("backends/aws.ts", root).href)};\n` +
      "if (!core.MemorySecretManager || !aws.AwsSecretManager) throw new Error();\n",
  };
  for (const [name, text] of Object.entries(scripts)) {
    await Deno.writeTextFile(`${dir}/${name}.ts`, text);
  }
  const run = async (name: string): Promise<number> => {
    const started = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-check",
        `--config=${rootPath}deno.json`,
        "--allow-env",
        `${dir}/${name}.ts`,
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    const elapsed = performance.now() - started;
    if (!out.success) throw new Error(`${name}: ${new TextDecoder().decode(out.stderr)}`);
    return elapsed;
  };
  const samples: Record<string, number[]> = { empty: [], core: [], aws: [], both: [] };
  for (const name of Object.keys(samples)) await run(name); // warm the module cache
  for (let i = 0; i < runs; i++) {
    for (const name of Object.keys(samples)) samples[name].push(await run(name));
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  console.log(`start-up, ${runs} interleaved runs each, median wall time of \`deno run\`:`);
  for (const [name, value] of Object.entries(m)) {
    console.log(`  ${name.padEnd(6)} ${value.toFixed(1).padStart(7)} ms`);
  }
  console.log(`  aws / core  = ${(m.aws / m.core).toFixed(2)}x`);
  console.log(`  aws / empty = ${(m.aws / m.empty).toFixed(2)}x`);
  console.log(`  core / empty = ${(m.core / m.empty).toFixed(2)}x`);
  console.log(`  both / core = ${(m.both / m.core).toFixed(2)}x`);
  console.log(
    `  import cost over an empty script: core ${(m.core - m.empty).toFixed(1)} ms, aws ${
      (m.aws - m.empty).toFixed(1)
    } ms, both ${(m.both - m.empty).toFixed(1)} ms`,
  );

  // ---- bundle size ----
  // A node_modules with the pinned npm imports of deno.json, for esbuild to resolve.
  const config = JSON.parse(await Deno.readTextFile(`${rootPath}deno.json`));
  const dependencies: Record<string, string> = {};
  for (const spec of Object.values(config.imports as Record<string, string>)) {
    const match = /^npm:(@?[^@]+)@(.+)$/.exec(spec);
    if (match) dependencies[match[1]] = match[2];
  }
  await Deno.writeTextFile(
    `${dir}/package.json`,
    JSON.stringify({ private: true, dependencies }, null, 2),
  );
  const install = await new Deno.Command(Deno.execPath(), {
    args: ["install", "--quiet"],
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!install.success) throw new Error(new TextDecoder().decode(install.stderr));
  const NODE_BUILTINS =
    /^(node:.*|assert|buffer|child_process|crypto|events|fs|http|https|net|os|path|process|stream|tls|url|util|zlib)(\/.*)?$/;
  const bundle = async (entries: string[]) => {
    // A Node built-in cannot be bundled for the browser; it is left out and reported.
    const nodeBuiltins = new Set<string>();
    const result = await esbuild.build({
      plugins: [{
        name: "report-node-builtins",
        setup(build) {
          build.onResolve({ filter: NODE_BUILTINS }, (args) => {
            nodeBuiltins.add(
              `${args.path} (from ${args.importer.replace(/^.*node_modules\//, "")})`,
            );
            return { path: args.path, external: true };
          });
        },
      }],
      stdin: {
        contents: entries.map((e, i) =>
          `import * as m${i} from ${JSON.stringify(`${rootPath}${e}`)}; export { m${i} };`
        ).join("\n"),
        resolveDir: rootPath,
        loader: "ts",
      },
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      mainFields: ["browser", "module", "main"],
      minify: true,
      target: "es2022",
      nodePaths: [`${dir}/node_modules`],
      logLevel: "silent",
    });
    const bytes = result.outputFiles[0].contents;
    const gzipped = await new Response(
      new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new CompressionStream("gzip")),
    ).arrayBuffer();
    return { raw: bytes.byteLength, gzip: gzipped.byteLength, nodeBuiltins: [...nodeBuiltins] };
  };
  const core = await bundle(["mod.ts"]);
  const aws = await bundle(["backends/aws.ts"]);
  const both = await bundle(["mod.ts", "backends/aws.ts"]);
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log("bundle (esbuild, platform browser, ESM, minified; gzip level default):");
  for (
    const [name, b] of [["mod.ts", core], ["./aws alone", aws], ["mod.ts + ./aws", both]] as const
  ) {
    console.log(
      `  ${name.padEnd(15)} ${kb(b.raw).padStart(10)} raw, ${kb(b.gzip).padStart(9)} gzip`,
    );
  }
  console.log(
    `  mod.ts + ./aws over mod.ts: +${kb(both.raw - core.raw)} raw (${
      (both.raw / core.raw).toFixed(2)
    }x), +${kb(both.gzip - core.gzip)} gzip (${(both.gzip / core.gzip).toFixed(2)}x)`,
  );
  for (const [name, b] of [["mod.ts", core], ["./aws", aws]] as const) {
    if (b.nodeBuiltins.length) {
      console.log(`  ${name} imports Node built-ins (left out): ${b.nodeBuiltins.join(", ")}`);
    }
  }
} finally {
  await esbuild.stop();
  await Deno.remove(dir, { recursive: true });
}
