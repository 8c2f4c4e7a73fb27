/**
 * Start-up cost of keyward's entries: `deno run` of a script importing
 * `mod.ts`, next to an empty script (the baseline), one importing `./aws`,
 * one importing both (a service on the AWS backend) and one importing
 * `./factory`, in one run: interleaved, a warm-up run each (module cache
 * filled), then several runs each; medians and ratios. (This replaces
 * tests/bench/aws_startup.ts, whose start-up rows were these; the `./aws`
 * bundle sizes are rows of tests/bench/bundle_size.ts.)
 * Reported in docs/PERFORMANCE.md, never enforced (timings are noisy).
 *
 * With `--bisect`, rows for what `mod.ts` pulled in before issue 18 (LogTape,
 * `@logtape/redaction`, `@noble/hashes`), each imported alone, so the cost of
 * each import can be read off beside the entries.
 *
 * With `--before=DIR`, rows for `mod.ts` and `./factory` of another checkout
 * in DIR (an older commit), interleaved with the rest: before and after in
 * one run.
 *
 * Run: `deno run --allow-run --allow-read --allow-write tests/bench/startup.ts [runs] [--bisect] [--before=DIR]`
 * (default 21 runs each; the figure is the median, the runs interleaved).
 *
 * @module
 */

const root = new URL("../../", import.meta.url);
const rootPath = decodeURIComponent(root.pathname);

/** The scripts, by name: each imports one entry and touches one export. */
const SCRIPTS: Record<string, string> = {
  empty: "export {};\n",
  "mod.ts": `import { MemorySecretManager, VaultSecretManager, withCache } from ${
    JSON.stringify(new URL("mod.ts", root).href)
  };\nif (!MemorySecretManager || !VaultSecretManager || !withCache) throw new Error();\n`,
  "./aws": `import { AwsSecretManager } from ${
    JSON.stringify(new URL("backends/aws.ts", root).href)
  };\nif (!AwsSecretManager) throw new Error();\n`,
  "mod.ts + ./aws": `import { MemorySecretManager } from ${
    JSON.stringify(new URL("mod.ts", root).href)
  };\nimport { AwsSecretManager } from ${
    JSON.stringify(new URL("backends/aws.ts", root).href)
  };\nif (!MemorySecretManager || !AwsSecretManager) throw new Error();\n`,
  "./factory": `import { createSecretManager } from ${
    JSON.stringify(new URL("factory.ts", root).href)
  };\nif (!createSecretManager) throw new Error();\n`,
};

/**
 * Rows run with extra `deno run` flags, by name. The factory once more under
 * Deno's `--unstable-lazy-dynamic-imports` (or `"unstable":
 * ["lazy-dynamic-imports"]` in a deno.json): without it Deno resolves, at
 * start-up, the module graph of every statically analyzable dynamic
 * `import()`, so `./factory` pays for walking the graphs of backends it may
 * never load (the AWS SDK's, postgres.js's); with it, only for its own.
 */
const FLAGS: Record<string, string[]> = {
  "./factory, lazy dynamic imports": ["--unstable-lazy-dynamic-imports"],
};
SCRIPTS["./factory, lazy dynamic imports"] = SCRIPTS["./factory"];

/** The bisection rows: one import each, by specifier (resolved through deno.json). */
const BISECT: Record<string, string> = {
  "@logtape/logtape alone":
    `import { getLogger } from "@logtape/logtape";\nif (!getLogger) throw new Error();\n`,
  "@logtape/redaction alone":
    `import { redactByField } from "@logtape/redaction";\nif (!redactByField) throw new Error();\n`,
  "@noble/hashes (hmac + sha2) alone": `import { hmac } from "@noble/hashes/hmac.js";\n` +
    `import { sha256 } from "@noble/hashes/sha2.js";\nif (!hmac || !sha256) throw new Error();\n`,
  "audit/chain.ts alone": `import { AuditChain } from ${
    JSON.stringify(new URL("audit/chain.ts", root).href)
  };\nif (!AuditChain) throw new Error();\n`,
};

/** The median of `xs`. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function runOnce(path: string, flags: string[] = []): Promise<number> {
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...flags,
      "--quiet",
      "--no-check",
      "--no-prompt",
      "--allow-env", // the AWS SDK reads its settings at import time; every script gets the same flags
      `--config=${rootPath}deno.json`,
      path,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  const elapsed = performance.now() - started;
  if (!out.success) throw new Error(`${path}: ${new TextDecoder().decode(out.stderr)}`);
  return elapsed;
}

if (import.meta.main) {
  const args = Deno.args.filter((a) => !a.startsWith("--"));
  const runs = Number(args[0] ?? 21);
  if (Deno.args.includes("--bisect")) Object.assign(SCRIPTS, BISECT);
  // --before=DIR: the same entries from another checkout (e.g. `git worktree add DIR <commit>`),
  // measured in the same run, so a change is read as a ratio, not across runs.
  const before = Deno.args.find((a) => a.startsWith("--before="))?.slice("--before=".length);
  if (before !== undefined) {
    const other = new URL(`file://${before.replace(/\/?$/, "/")}`);
    for (
      const [entry, symbol] of [["mod.ts", "withCache"], ["factory.ts", "createSecretManager"]]
    ) {
      SCRIPTS[`${entry} (before: ${before})`] = `import { ${symbol} } from ${
        JSON.stringify(new URL(entry, other).href)
      };\nif (!${symbol}) throw new Error();\n`;
    }
  }
  const dir = await Deno.makeTempDir({ prefix: "keyward-startup-" });
  try {
    const paths: Record<string, string> = {};
    for (const [i, [name, text]] of Object.entries(SCRIPTS).entries()) {
      paths[name] = `${dir}/script_${i}.ts`;
      await Deno.writeTextFile(paths[name], text);
    }
    const samples: Record<string, number[]> = Object.fromEntries(
      Object.keys(SCRIPTS).map((k) => [k, []]),
    );
    for (const name of Object.keys(SCRIPTS)) await runOnce(paths[name], FLAGS[name]); // warm-up
    for (let i = 0; i < runs; i++) {
      for (const name of Object.keys(SCRIPTS)) {
        samples[name].push(await runOnce(paths[name], FLAGS[name]));
      }
    }
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
    console.log(
      `start-up: \`deno run\` wall time, median of ${runs} interleaved runs each (${Deno.version.deno})\n`,
    );
    console.log("| script imports | median | ratio to empty | over empty | ratio to mod.ts |");
    console.log("|---|---:|---:|---:|---:|");
    for (const [name, value] of Object.entries(m)) {
      console.log(
        `| ${name} | ${value.toFixed(1)} ms | ${(value / m.empty).toFixed(2)} | +${
          (value - m.empty).toFixed(1)
        } ms | ${(value / m["mod.ts"]).toFixed(2)} |`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
