/**
 * The operator console in a real browser: Debian's headless Chromium,
 * driven by puppeteer-core, against `startServer` with `KEYWARD_CONSOLE=on`
 * over a seeded store whose values hold a canary, a rotation policy with a
 * live health server and a dead one, a JSON-lines rotation log and audit
 * trail. It signs in through the form, checks the tables, the due-date
 * highlight (computed style: the stylesheet loaded under the CSP), sorting
 * (the script ran by its nonce), "verify now" and sign-out; takes
 * screenshots at 1280 and 390 px under `.ci/logs/`; and asserts the canary
 * appears in no DOM, network response or console message.
 *
 * Outside CI a missing /usr/bin/chromium skips with a message; with
 * CI=true it fails (`.ci/run` installs it).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { startServer } from "../../server/serve.ts";
import { RecordingAuditSink } from "../../testing.ts";
import { IN_CI } from "../_postgres.ts";
import { makeToken } from "./_helpers.ts";
import { CANARY, seedConsole } from "./_console_fixture.ts";

const CHROMIUM = "/usr/bin/chromium";
const LOGS = new URL("../../.ci/logs/", import.meta.url).pathname;

async function chromiumPresent(): Promise<boolean> {
  try {
    return (await Deno.stat(CHROMIUM)).isFile;
  } catch {
    return false;
  }
}

const present = await chromiumPresent();
if (!present) {
  if (IN_CI) throw new Error(`CI=true but ${CHROMIUM} is missing (apt-get install -y chromium)`);
  console.warn(
    `tests/server/console_browser_test.ts: skipped: ${CHROMIUM} is missing ` +
      "(apt-get install -y chromium)",
  );
}

Deno.test({
  name:
    "console in headless Chromium: sign-in, tables, highlight, sorting, verify, 1280/390 px, no canary",
  ignore: !present,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // A live health server: signal reports the previous version of webhooks/signing.
    let signalVersion = "";
    const health = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => Response.json({ status: "ok", versions: { "webhooks/signing": signalVersion } }),
    );
    // A port nothing listens on: billing does not answer.
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadPort = (closed.addr as Deno.NetAddr).port;
    closed.close();
    const seed = await seedConsole({
      signalUrl: `http://127.0.0.1:${health.addr.port}/healthz`,
      billingUrl: `http://127.0.0.1:${deadPort}/healthz`,
    });
    const signing = await seed.manager.describeSecret("webhooks/signing");
    signalVersion = signing.versions.find((v) => v.stages.includes("previous"))!.version;
    const policyPath = join(seed.dir, "keyward.rotation.json");
    await Deno.writeTextFile(
      policyPath,
      JSON.stringify({
        rules: seed.policy.rules.map((r) => ({
          prefix: r.prefix,
          rotator: r.rotator,
          maxAgeDays: r.maxAgeDays,
          verify: r.verify.map((v) => ({ service: v.service, url: v.url, timeoutSeconds: 1 })),
        })),
      }),
    );
    const op = await makeToken({ service: "ops", roles: ["operator"], prefixes: ["*"] });
    const tokensFile = join(seed.dir, "tokens.json");
    await Deno.writeTextFile(tokensFile, JSON.stringify({ version: 1, tokens: [op.entry] }));
    const profile = await Deno.makeTempDir({ prefix: "kw-chromium-" });
    await Deno.mkdir(LOGS, { recursive: true });

    const server = await startServer(
      {
        KEYWARD_CONSOLE: "on",
        KEYWARD_SERVER_PORT: "0",
        KEYWARD_TOKENS_FILE: tokensFile,
        KEYWARD_SERVER_AUDIT_FILE: join(seed.dir, "server-audit.jsonl"),
        KEYWARD_ROTATION_POLICY: policyPath,
        SECRET_ROTATION_LOG_FILE: seed.logPath,
        SECRET_AUDIT: "jsonl",
        SECRET_AUDIT_FILE: seed.trailPath,
        KEYWARD_AUDIT_KEY: seed.keyB64,
      },
      () => {},
      { manager: seed.manager, audit: new RecordingAuditSink() },
    );
    let browser: Browser | undefined;
    const bodies: string[] = [];
    const consoleLines: string[] = [];
    const pending: Promise<void>[] = [];
    try {
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        userDataDir: profile,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          `--user-data-dir=${profile}`,
        ],
      });
      const page: Page = await browser.newPage();
      page.on("console", (m) => void consoleLines.push(`${m.type()}: ${m.text()}`));
      page.on("pageerror", (e) => void consoleLines.push(`pageerror: ${String(e)}`));
      page.on("response", (r) => {
        if (r.status() >= 300 && r.status() < 400) return;
        pending.push(r.text().then((t) => void bodies.push(t), () => {}));
      });
      await page.setViewport({ width: 1280, height: 900 });
      const shot = async (name: string) => {
        await page.screenshot({
          path: join(LOGS, `${name}.png`) as `${string}.png`,
          fullPage: true,
        });
      };
      const dom = async () => await page.evaluate("document.documentElement.outerHTML") as string;
      const doms: string[] = [];

      // Not signed in: the sign-in form.
      await page.goto(`${server.url}/console`, { waitUntil: "load" });
      assert.ok(page.url().endsWith("/console/signin"), page.url());
      await shot("console-signin-1280");
      await page.type("#token", op.token);
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.click("form.signin button"),
      ]);
      assert.ok(
        page.url().endsWith("/console"),
        `${page.url()} ${await page.evaluate("document.body.textContent")}`,
      );
      doms.push(await dom());

      // Secrets: sorted by due date, the overdue row highlighted in red.
      const names = await page.$$eval(
        "#secrets tbody tr",
        (rows) => rows.map((r) => r.getAttribute("data-name")),
      );
      assert.deepEqual(names, [
        "database/orders",
        "database/replica",
        "webhooks/signing",
        "misc/untracked",
      ]);
      const overdue = await page.$eval("#secrets tbody tr:first-child td.due", (td) => ({
        text: td.textContent,
        cls: td.className,
        bg: (globalThis as unknown as {
          getComputedStyle(e: unknown): { backgroundColor: string };
        }).getComputedStyle(td).backgroundColor,
      }));
      assert.equal(overdue.cls, "due overdue");
      assert.match(overdue.text ?? "", /^overdue by 10\.0 d$/);
      assert.equal(overdue.bg, "rgb(253, 232, 230)", "the stylesheet applies under the CSP");
      const soon = await page.$eval("#secrets tbody tr:nth-child(2) td.due", (td) => td.className);
      assert.equal(soon, "due soon");
      await shot("console-secrets-1280");

      // The script runs (by its nonce): clicking "Name" twice sorts descending.
      await page.click("#secrets thead th:first-child");
      await page.click("#secrets thead th:first-child");
      const sorted = await page.$$eval(
        "#secrets tbody tr",
        (rows) => rows.map((r) => r.getAttribute("data-name")),
      );
      assert.equal(sorted[0], "webhooks/signing");

      // Rotations: the failed one with its commands.
      await page.goto(`${server.url}/console/rotations`, { waitUntil: "load" });
      const cmds = await page.$$eval(
        "details.rot-failed .cmd code",
        (c) => c.map((x) => x.textContent),
      );
      assert.deepEqual(cmds, [
        `deno task secrets rotation resume ${seed.failedRotationId}`,
        `deno task secrets rotation rollback ${seed.failedRotationId}`,
      ]);
      doms.push(await dom());
      await shot("console-rotations-1280");

      // Services: signal on previous, billing not answering.
      await page.goto(`${server.url}/console/services`, { waitUntil: "load" });
      const services = await page.$$eval(
        "#services tbody tr",
        (rows) => rows.map((r) => [r.className, r.cells[0].textContent, r.cells[2].textContent]),
      );
      assert.deepEqual(services, [
        ["row-down", "billing", "not answering (unreachable)"],
        ["row-previous", "signal", "answering"],
      ]);
      doms.push(await dom());
      await shot("console-services-1280");

      // Reads: charts drawn on the server.
      await page.goto(`${server.url}/console/reads`, { waitUntil: "load" });
      assert.equal(await page.$$eval("#reads svg.chart", (s) => s.length), 4);
      doms.push(await dom());
      await shot("console-reads-1280");

      // Audit: the recorded run, then "verify now".
      await page.goto(`${server.url}/console/audit`, { waitUntil: "load" });
      assert.match(await page.$eval("dl.verify", (d) => d.textContent ?? ""), /intact/);
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.click("form[action='/console/audit/verify'] button"),
      ]);
      assert.match(
        await page.$eval("p.note", (p) => p.textContent ?? ""),
        /Verified just now: 31 rows/,
      );
      doms.push(await dom());
      await shot("console-audit-1280");

      // 390 px wide: the page still works (tables scroll inside their box).
      await page.setViewport({ width: 390, height: 844 });
      await page.goto(`${server.url}/console`, { waitUntil: "load" });
      const width = await page.evaluate("document.documentElement.scrollWidth") as number;
      assert.ok(width <= 390, `no page-wide horizontal scroll at 390 px (${width})`);
      await shot("console-secrets-390");
      await page.goto(`${server.url}/console/rotations`, { waitUntil: "load" });
      await shot("console-rotations-390");
      doms.push(await dom());

      // Sign out: back to the form, and the console is closed again.
      await Promise.all([
        page.waitForNavigation({ waitUntil: "load" }),
        page.click("form.signout button"),
      ]);
      assert.ok(page.url().endsWith("/console/signin"));
      await page.goto(`${server.url}/console`, { waitUntil: "load" });
      assert.ok(page.url().endsWith("/console/signin"));

      await Promise.all(pending);
      assert.ok(bodies.length >= 10, `responses seen: ${bodies.length}`);
      for (const [i, d] of doms.entries()) assert.ok(!d.includes(CANARY), `DOM ${i}`);
      for (const [i, b] of bodies.entries()) assert.ok(!b.includes(CANARY), `response ${i}`);
      for (const line of consoleLines) assert.ok(!line.includes(CANARY), "console message");
      assert.deepEqual(
        consoleLines.filter((l) => /Content Security Policy|error/i.test(l)),
        [],
        "no CSP violation and no script error",
      );
    } finally {
      await browser?.close();
      await server.shutdown();
      await health.shutdown();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      await Deno.remove(seed.dir, { recursive: true });
    }
  },
});
