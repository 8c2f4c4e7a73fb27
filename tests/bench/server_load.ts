/**
 * Load on the endpoint with wrk (Debian's `wrk`): `GET /v1/secrets/{name}`
 * (authenticated, the value served by `withCache`, the audit on: a cache hit
 * is counted, as in production) against a bare Hono route answering a
 * constant JSON body, in the same process, on Deno and on Node 20. Reports
 * requests per second, the ratio (target >= 0.6x the bare route) and p99 for
 * each pair, then the medians. Not run by CI.
 *
 * Both targets start first and stay up; each round measures one pair per
 * runtime (Deno, then Node), the bare route and the endpoint back to back, in
 * alternating order from one round to the next, so the machine's load (it is
 * shared) falls on both sides of a ratio alike.
 *
 * Run: `deno run --allow-run --allow-read --allow-env tests/bench/server_load.ts [seconds] [deno|node|both] [rounds]`
 * (Node needs `npm ci` in tests/node). `KEYWARD_BENCH_ROOT=<dir>` runs the
 * targets of another checkout (to compare with an earlier commit).
 */

const SECONDS = Number(Deno.args[0] ?? "10");
const ONLY = Deno.args[1] ?? "both";
const ROUNDS = Number(Deno.args[2] ?? "1");
const ROOT = Deno.env.get("KEYWARD_BENCH_ROOT")?.replace(/\/?$/, "/") ??
  new URL("../../", import.meta.url).pathname;

interface Result {
  rps: number;
  p99: string;
  p99ms: number;
}

async function wrk(url: string, headers: string[], seconds = SECONDS): Promise<Result> {
  const args = ["-t1", "-c16", `-d${seconds}s`, "--latency"];
  for (const h of headers) args.push("-H", h);
  args.push(url);
  const out = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
  const p99 = /\s99%\s+(\S+)/.exec(text)?.[1] ?? "?";
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1];
  if (non2xx) throw new Error(`wrk saw ${non2xx} non-2xx answers from ${url}:\n${text}`);
  return { rps, p99, p99ms: toMs(p99) };
}

function toMs(s: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(s);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "s" ? n * 1000 : n;
}

interface Target {
  runtime: "deno" | "node";
  keyward: string;
  bare: string;
  token: string;
  child: Deno.ChildProcess;
}

async function start(runtime: "deno" | "node"): Promise<Target> {
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
  reader.releaseLock();
  const [keyward, bare, token] = line.trim().split(" ");
  return {
    runtime,
    keyward: `${keyward}/v1/secrets/bench/api_key`,
    bare: `${bare}/bare`,
    token,
    child,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const runtimes = (["deno", "node"] as const).filter((r) => ONLY === "both" || ONLY === r);
const targets: Target[] = [];
const rows = new Map<string, { bare: Result; keyward: Result }[]>();
try {
  for (const r of runtimes) targets.push(await start(r));
  for (const t of targets) {
    const headers = [`Authorization: Bearer ${t.token}`];
    // Warm up both routes (JIT, connections, the token map, the cache).
    await wrk(t.bare, [], 3);
    await wrk(t.keyward, headers, 3);
    rows.set(t.runtime, []);
  }
  console.log("| round | runtime | bare Hono rps | bare p99 | keyward rps | keyward p99 | ratio |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      const headers = [`Authorization: Bearer ${t.token}`];
      let bare: Result;
      let keyward: Result;
      if (round % 2 === 1) {
        bare = await wrk(t.bare, []);
        keyward = await wrk(t.keyward, headers);
      } else {
        keyward = await wrk(t.keyward, headers);
        bare = await wrk(t.bare, []);
      }
      rows.get(t.runtime)!.push({ bare, keyward });
      console.log(
        `| ${round} | ${t.runtime} | ${bare.rps.toFixed(0)} | ${bare.p99} | ${
          keyward.rps.toFixed(0)
        } | ${keyward.p99} | ${(keyward.rps / bare.rps).toFixed(2)}x |`,
      );
    }
  }
  console.log(
    "\n| runtime | pairs | median bare rps | median keyward rps | median ratio | ratios (min to max) | median keyward p99 |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const [runtime, rs] of rows) {
    const ratios = rs.map((r) => r.keyward.rps / r.bare.rps);
    console.log(
      `| ${runtime} | ${rs.length} | ${median(rs.map((r) => r.bare.rps)).toFixed(0)} | ${
        median(rs.map((r) => r.keyward.rps)).toFixed(0)
      } | ${median(ratios).toFixed(2)}x | ${Math.min(...ratios).toFixed(2)}x to ${
        Math.max(...ratios).toFixed(2)
      }x | ${median(rs.map((r) => r.keyward.p99ms)).toFixed(2)} ms |`,
    );
  }
} finally {
  for (const t of targets) {
    t.child.kill("SIGTERM");
    await t.child.status;
  }
}
