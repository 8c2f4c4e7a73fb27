/**
 * The operator console through `app.request()`: sign-in (operator role,
 * Origin check, cookie flags), the pages' content over a seeded store, the
 * security headers, "verify now", and the canary nowhere in any answer.
 */

import assert from "node:assert/strict";
import { CANARY, type ConsoleWorld, consoleWorld } from "./_console_fixture.ts";
import { createServerApp, staticTokens } from "../../server.ts";
import { MemorySecretManager, RecordingAuditSink } from "../../testing.ts";

const ORIGIN = "http://localhost";

async function signIn(w: ConsoleWorld, token: string, origin: string | null = ORIGIN) {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (origin !== null) headers.origin = origin;
  return await w.server.app.request("/console/signin", {
    method: "POST",
    headers,
    body: new URLSearchParams({ token }).toString(),
  });
}

async function session(w: ConsoleWorld): Promise<string> {
  const res = await signIn(w, w.operator);
  assert.equal(res.status, 303);
  const cookie = res.headers.get("set-cookie")!;
  return cookie.split(";")[0];
}

async function page(w: ConsoleWorld, path: string, cookie: string) {
  const res = await w.server.app.request(path, { headers: { cookie } });
  // The cells' data-label attributes (the narrow layout's captions) are left out of the matches.
  return { res, text: (await res.text()).replace(/ data-label="[^"]*"/g, "") };
}

function assertSecured(res: Response, path: string) {
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.match(csp, /default-src 'none'/, path);
  assert.match(csp, /frame-ancestors 'none'/, path);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:|\*/, path);
  assert.equal(res.headers.get("x-frame-options"), "DENY", path);
  assert.equal(res.headers.get("cache-control"), "no-store", path);
}

Deno.test("console: an operator token signs in; the cookie is HttpOnly, SameSite=Strict, 8 hours", async () => {
  const w = await consoleWorld();
  try {
    const res = await signIn(w, w.operator);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/console");
    const cookie = res.headers.get("set-cookie")!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Max-Age=28800/);
    assert.match(cookie, /Path=\/console/);
    assert.doesNotMatch(cookie, /Secure/, "no Secure flag over plain http");
    assert.ok(!cookie.includes(w.operator), "the cookie never holds the token");
    const { res: home, text } = await page(w, "/console", cookie.split(";")[0]);
    assert.equal(home.status, 200);
    assert.match(text, /database\/orders/);
    assert.match(text, /ops \(tok_/);
  } finally {
    await w.close();
  }
});

Deno.test("console: Secure cookie under TLS", async () => {
  const w = await consoleWorld();
  try {
    const res = await w.server.app.request("https://console.example/console/signin", {
      method: "POST",
      headers: {
        origin: "https://console.example",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ token: w.operator }).toString(),
    });
    assert.equal(res.status, 303);
    assert.match(res.headers.get("set-cookie")!, /Secure/);
  } finally {
    await w.close();
  }
});

Deno.test("console: refused sign-ins: a read token, a wrong token, a foreign or missing Origin", async () => {
  const w = await consoleWorld();
  try {
    const read = await signIn(w, w.reader);
    assert.equal(read.status, 401);
    assert.equal(read.headers.get("set-cookie"), null);
    assert.match(await read.text(), /does not hold the operator role/);
    const wrong = await signIn(w, "kw_not-a-token");
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /Not a valid token/);
    const foreign = await signIn(w, w.operator, "https://evil.example");
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get("set-cookie"), null);
    await foreign.body?.cancel();
    const none = await signIn(w, w.operator, null);
    assert.equal(none.status, 403);
    await none.body?.cancel();
  } finally {
    await w.close();
  }
});

Deno.test("console: pages without a session, or with a forged one, go to the sign-in form", async () => {
  const w = await consoleWorld();
  try {
    for (const path of ["/console", "/console/rotations", "/console/reads", "/console/audit"]) {
      const res = await w.server.app.request(path);
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.get("location"), "/console/signin");
      await res.body?.cancel();
    }
    const cookie = await session(w);
    // A changed MAC byte, and a changed last character (its unused bits only): both refused.
    const at = cookie.length - 10;
    const flip = (c: string) => (c === "A" ? "B" : "A");
    const forged = cookie.slice(0, at) + flip(cookie[at]) + cookie.slice(at + 1);
    const padded = cookie.slice(0, -1) +
      String.fromCharCode(cookie.charCodeAt(cookie.length - 1) ^ 1);
    for (const bad of [forged, padded]) {
      const res = await w.server.app.request("/console", { headers: { cookie: bad } });
      assert.equal(res.status, 303, bad);
      await res.body?.cancel();
    }
    const form = await w.server.app.request("/console/signin");
    assert.equal(form.status, 200);
    assertSecured(form, "/console/signin");
    assert.match(await form.text(), /<form method="post" action="\/console\/signin"/);
  } finally {
    await w.close();
  }
});

Deno.test("console: a session ends when its token is revoked", async () => {
  const w = await consoleWorld();
  try {
    const cookie = await session(w);
    // Another app with the same data but a token file without the operator.
    const other = createServerApp({
      manager: new MemorySecretManager(),
      tokens: staticTokens([]),
      audit: new RecordingAuditSink(),
      console: { data: w.data },
    });
    const res = await other.app.request("/console", { headers: { cookie } });
    assert.equal(res.status, 303, "a cookie signed by another key or for a gone token is refused");
    await res.body?.cancel();
  } finally {
    await w.close();
  }
});

Deno.test("console: Secrets shows versions, stages, policy, due dates (overdue highlighted), last rotation; filter and sort", async () => {
  const w = await consoleWorld();
  try {
    const cookie = await session(w);
    const { text } = await page(w, "/console", cookie);
    // Sorted by due date: the overdue secret first, the untracked one last.
    const order = ["database/orders", "database/replica", "webhooks/signing", "misc/untracked"]
      .map((n) => text.indexOf(`data-name="${n}"`));
    assert.ok(order.every((i) => i > 0), "every secret is listed");
    assert.deepEqual([...order].sort((a, b) => a - b), order, "sorted by due date");
    assert.match(text, /class="due overdue"[^>]*>overdue by 10\.0 d</);
    assert.match(text, /class="due soon"[^>]*>5\.0 d left</);
    assert.match(text, /stage stage-previous/);
    assert.match(text, /random, max 90 d, grace 7 d, delete after 30 d/);
    assert.match(text, /by <strong>alice<\/strong> \(scheduled\)/);
    assert.match(text, /1 overdue/);
    const filtered = await page(w, "/console?prefix=webhooks/", cookie);
    assert.match(filtered.text, /webhooks\/signing/);
    assert.doesNotMatch(filtered.text, /data-name="database\/orders"/);
    const byName = await page(w, "/console?sort=name", cookie);
    assert.ok(
      byName.text.indexOf('data-name="misc/untracked"') <
        byName.text.indexOf('data-name="webhooks/signing"'),
    );
  } finally {
    await w.close();
  }
});

Deno.test("console: Rotations lists the failed one with its resume and rollback commands, and each step", async () => {
  const w = await consoleWorld();
  try {
    const cookie = await session(w);
    const { text } = await page(w, "/console/rotations", cookie);
    assert.ok(text.includes(`deno task secrets rotation resume ${w.failedRotationId}`));
    assert.ok(text.includes(`deno task secrets rotation rollback ${w.failedRotationId}`));
    assert.match(text, /Failed <span class="count">\(1\)<\/span>/);
    assert.match(text, /Scheduled deprecations and deletions <span class="count">\(1\)/);
    assert.match(text, /previous version deprecated after \d{4}-/);
    assert.match(text, /<td>create_pending<\/td><td>failed<\/td>/);
    assert.match(text, /<td>unreachable<\/td>/);
    assert.match(text, /<td>2100 ms<\/td>/);
  } finally {
    await w.close();
  }
});

Deno.test("console: Services marks a service on previous and one not answering", async () => {
  const w = await consoleWorld();
  try {
    const cookie = await session(w);
    const { text } = await page(w, "/console/services", cookie);
    assert.match(text, /<tr class="row-down"><td>billing<\/td>/);
    assert.match(text, /not answering \(unreachable\)/);
    assert.match(text, /<tr class="row-previous"><td>signal<\/td>/);
    assert.match(
      text,
      /webhooks\/signing: <code>[^<]+<\/code> <span class="stage stage-previous">/,
    );
  } finally {
    await w.close();
  }
});

Deno.test("console: Reads draws 24 h and 30 d charts, stale serves and errors from the JSON-lines trail", async () => {
  const w = await consoleWorld();
  try {
    const cookie = await session(w);
    const { text } = await page(w, "/console/reads", cookie);
    // 20 hourly reads + 1 stale (all within 24 h); + 8 daily events of 4 reads.
    assert.match(text, /21 reads in 24 h, per hour/);
    assert.match(text, /53 reads in 30 days, per day/);
    assert.equal((text.match(/<svg/g) ?? []).length, 4, "two charts per (secret, service)");
    assert.match(text, /<td class="warn">1<\/td>/, "one stale serve");
    assert.match(text, /<td class="bad">1<\/td>/, "one error");
  } finally {
    await w.close();
  }
});

Deno.test("console: Audit shows the last verify run and the command; no 'verify now' without the key", async () => {
  const w = await consoleWorld();
  try {
    const cookie = await session(w);
    const { text } = await page(w, "/console/audit", cookie);
    assert.match(text, /intact/);
    assert.match(text, /<dt>Rows<\/dt><dd>31<\/dd>/);
    assert.match(text, /SECRET_AUDIT=jsonl SECRET_AUDIT_FILE=.* deno task secrets audit verify/);
    assert.doesNotMatch(text, /Verify now/);
    const res = await w.server.app.request("/console/audit/verify", {
      method: "POST",
      headers: { cookie, origin: ORIGIN },
    });
    assert.equal(res.status, 403);
    await res.body?.cancel();
  } finally {
    await w.close();
  }
});

Deno.test("console: 'verify now' runs, records the run, and checks Origin and session", async () => {
  const w = await consoleWorld({ withKey: true });
  try {
    const cookie = await session(w);
    assert.match((await page(w, "/console/audit", cookie)).text, /Verify now/);
    const foreign = await w.server.app.request("/console/audit/verify", {
      method: "POST",
      headers: { cookie, origin: "https://evil.example" },
    });
    assert.equal(foreign.status, 403);
    await foreign.body?.cancel();
    const anonymous = await w.server.app.request("/console/audit/verify", {
      method: "POST",
      headers: { origin: ORIGIN },
    });
    assert.equal(anonymous.status, 303);
    await anonymous.body?.cancel();
    // Tamper with a line: verify now must find it and record it.
    const lines = (await Deno.readTextFile(w.trailPath)).split("\n");
    lines[2] = lines[2].replace('"latency_ms":3', '"latency_ms":4');
    await Deno.writeTextFile(w.trailPath, lines.join("\n"));
    const res = await w.server.app.request("/console/audit/verify", {
      method: "POST",
      headers: { cookie, origin: ORIGIN },
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /FAILED \(changed\)/);
    const state = JSON.parse(await Deno.readTextFile(`${w.trailPath}.verify.json`));
    assert.equal(state.ok, false);
    assert.equal(state.by, "console");
    assert.equal(state.first.kind, "changed");
  } finally {
    await w.close();
  }
});

Deno.test("console: every page and asset is secured, and the canary appears in no answer", async () => {
  const w = await consoleWorld({ withKey: true });
  try {
    const cookie = await session(w);
    const paths = [
      "/console",
      "/console?sort=name&prefix=database/",
      "/console/rotations",
      "/console/services",
      "/console/reads",
      "/console/audit",
      "/console/signin",
      "/console/assets/console.css",
      "/console/assets/console.js",
      "/console/assets/icon.svg",
    ];
    for (const path of paths) {
      const { res, text } = await page(w, path, cookie);
      assert.equal(res.status, 200, path);
      assertSecured(res, path);
      assert.ok(!text.includes(CANARY), `${path} holds no value`);
      for (const [k, v] of res.headers) assert.ok(!v.includes(CANARY), `${path} header ${k}`);
      if (res.headers.get("content-type")?.startsWith("text/html")) {
        const nonce = /script-src 'nonce-([^']+)'/.exec(
          res.headers.get("content-security-policy")!,
        )![1];
        const scripts = text.match(/<script[^>]*>/g) ?? [];
        assert.ok(scripts.length >= 1, path);
        for (const s of scripts) assert.ok(s.includes(`nonce="${nonce}"`), `${path}: ${s}`);
        assert.doesNotMatch(text, /<script[^>]*>[^<]+<\/script>/, "no inline script body");
        assert.doesNotMatch(text, / on[a-z]+=/, "no inline event handler");
        assert.doesNotMatch(text, /(src|href)="(https?:)?\/\//, "nothing from elsewhere");
      }
    }
    const verify = await w.server.app.request("/console/audit/verify", {
      method: "POST",
      headers: { cookie, origin: ORIGIN },
    });
    assert.ok(!(await verify.text()).includes(CANARY));
  } finally {
    await w.close();
  }
});

Deno.test("console: off unless configured", async () => {
  const app = createServerApp({
    manager: new MemorySecretManager(),
    tokens: staticTokens([]),
    audit: new RecordingAuditSink(),
  }).app;
  const res = await app.request("/console");
  assert.equal(res.status, 404);
  await res.body?.cancel();
});

Deno.test("console: sign-out clears the cookie, and checks the Origin", async () => {
  const w = await consoleWorld();
  try {
    const cookie = await session(w);
    const foreign = await w.server.app.request("/console/signout", {
      method: "POST",
      headers: { cookie, origin: "https://evil.example" },
    });
    assert.equal(foreign.status, 403);
    await foreign.body?.cancel();
    const res = await w.server.app.request("/console/signout", {
      method: "POST",
      headers: { cookie, origin: ORIGIN },
    });
    assert.equal(res.status, 303);
    assert.match(res.headers.get("set-cookie")!, /Max-Age=0/);
    await res.body?.cancel();
  } finally {
    await w.close();
  }
});

Deno.test("console: an operator token sees the names its prefixes allow, on every page", async () => {
  const w = await consoleWorld({ operatorPrefixes: ["webhooks/"] });
  try {
    const cookie = await session(w);
    const pages = await Promise.all(
      ["/console", "/console/rotations", "/console/services", "/console/reads"].map((p) =>
        page(w, p, cookie)
      ),
    );
    for (const { text } of pages) assert.doesNotMatch(text, /database\//);
    assert.match(pages[0].text, /data-name="webhooks\/signing"/);
    assert.match(pages[1].text, /webhooks\/signing/);
    assert.match(pages[2].text, /<td>signal<\/td>/);
    assert.doesNotMatch(pages[2].text, /billing/);
    assert.match(pages[3].text, /webhooks\/signing/);
  } finally {
    await w.close();
  }
});
