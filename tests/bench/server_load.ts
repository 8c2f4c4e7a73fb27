/**
 * Load on the endpoint with wrk (Debian's `wrk`): `GET /v1/secrets/{name}`
 * (authenticated, the value served by `withCache`, one audit line per
 * request) against a bare Hono route answering a constant JSON body, in the
 * same process, on Deno and on Node 20. Reports requests per second, the
 * ratio (target >= 0.6x the bare route) and p99. Not run by CI.
 *
 * Run: `deno run --allow-run --allow-read --allow-env tests/bench/server_load.ts [seconds] [deno|node]`
 * (Node needs `npm ci` in tests/node).
 */

const SECONDS = Number(Deno.args[0] ?? "10");
const ROOT = new URL("../../", import.meta.url).pathname;

interface Result {
  rps: number;
  p99: string;
}

async function wrk(url: string, headers: string[]): Promise<Result> {
  const args = ["-t1", "-c16", `-d${SECONDS}s`, "--latency"];
  for (const h of headers) args.push("-H", h);
  args.push(url);
  const out = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
  const p99 = /\s99%\s+(\S+)/.exec(text)?.[1] ?? "?";
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1];
  if (non2xx) throw new Error(`wrk saw ${non2xx} non-2xx answers from ${url}:\n${text}`);
  return { rps, p99 };
}

async function run(runtime: "deno" | "node"): Promise<void> {
  const cmd = runtime === "deno"
    ? new Deno.Command("deno", {
      args: ["run", "--allow-all", "tests/bench/_server_target.ts"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "inherit",
    })
    : new Deno.Command("node", {
      args: ["--import", "./register.mjs", "--import", "tsx", "../bench/_server_target.ts"],
      cwd: `${ROOT}tests/node`,
      stdout: "piped",
      stderr: "inherit",
    });
  const child = cmd.spawn();
  const reader = child.stdout.getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${runtime}: the target did not start`);
    line += new TextDecoder().decode(value);
  }
  const [keywardUrl, bareUrl, token] = line.trim().split(" ");
  try {
    // Warm up both, then measure bare first and keyward second.
    await wrk(`${bareUrl}/bare`, []).catch(() => {});
    const bare = await wrk(`${bareUrl}/bare`, []);
    const keyward = await wrk(`${keywardUrl}/v1/secrets/bench/api_key`, [
      `Authorization: Bearer ${token}`,
    ]);
    const ratio = keyward.rps / bare.rps;
    console.log(
      `| ${runtime} | ${bare.rps.toFixed(0)} | ${bare.p99} | ${
        keyward.rps.toFixed(0)
      } | ${keyward.p99} | ${ratio.toFixed(2)}x |`,
    );
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
}

console.log("| runtime | bare Hono rps | bare p99 | keyward rps | keyward p99 | ratio |");
console.log("| --- | --- | --- | --- | --- | --- |");
const only = Deno.args[1];
for (const runtime of ["deno", "node"] as const) {
  if (only === undefined || only === runtime) await run(runtime);
}
