/**
 * The operator console's routes: `/console` and its pages, the sign-in and
 * sign-out forms, "verify now", and the two assets. Every answer carries a
 * strict Content-Security-Policy (the script only by its nonce, nothing from
 * elsewhere), `X-Frame-Options: DENY` and `Cache-Control: no-store`. POSTs
 * check that the Origin is the endpoint's own; pages need the session cookie
 * of a token that still holds the `operator` role.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { allowsName, type TokenEntry, type TokenSource } from "../tokens.ts";
import { CSS, ICON, JS } from "./assets.ts";
import type { ConsoleData } from "./data.ts";
import {
  auditPage,
  readsPage,
  rotationsPage,
  secretsPage,
  servicesPage,
  signInPage,
} from "./pages.tsx";
import { COOKIE, SESSION_MS, SessionKeys } from "./session.ts";

export type { ConsoleData } from "./data.ts";

/**
 * The console's options (`ServerAppOptions.console`): what the pages show
 * and the key signing the session cookies. See docs/CONSOLE.md.
 *
 * @example The sign-in form, with a fixed session key
 * ```ts
 * import { type ConsoleOptions, createServerApp, staticTokens } from "@keyward/secrets/server";
 * import { MemorySecretManager, RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const options: ConsoleOptions = {
 *   sessionKey: crypto.getRandomValues(new Uint8Array(32)),
 *   data: {
 *     secrets: () => Promise.resolve([]),
 *     rotations: () => Promise.resolve([]),
 *     services: () => Promise.resolve([]),
 *     reads: () => Promise.resolve({ rows: [], available: false }),
 *     audit: () => Promise.resolve({ where: "none", last: null, command: "", canVerify: false }),
 *   },
 * };
 * const { app } = createServerApp({
 *   manager: new MemorySecretManager(),
 *   tokens: staticTokens([]),
 *   audit: new RecordingAuditSink(),
 *   console: options,
 * });
 * const res = await app.request("/console/signin");
 * if (res.headers.get("x-frame-options") !== "DENY") throw new Error();
 * if (!(await res.text()).includes('name="token"')) throw new Error();
 * ```
 */
export interface ConsoleOptions {
  /** What the pages show (`consoleData(...)` over the real sources). */
  data: ConsoleData;
  /** Signs the session cookies (32 bytes or more); omitted: a random key per start. */
  sessionKey?: Uint8Array;
}

/** The largest form accepted (a token is at most 512 characters). */
const MAX_FORM_BYTES = 2048;

type Handler = (c: Context) => Response | Promise<Response>;

/** What the app gives the console. */
export interface ConsoleMount {
  /** The console's options. */
  options: ConsoleOptions;
  /** The token source (sessions are checked against it on every request). */
  tokens: TokenSource;
  /** The clock. */
  now: () => number;
  /** Checks a pasted token for the `operator` role (rate limit included). */
  signIn: (c: Context, token: string) => TokenEntry | Response | Promise<TokenEntry | Response>;
  /** The app's wrapper (limits, metrics). */
  wrap: (label: string, handler: Handler) => Handler;
}

function nonce(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...b));
}

function secure(c: Context, n?: string): void {
  c.header(
    "content-security-policy",
    [
      "default-src 'none'",
      n ? `script-src 'nonce-${n}'` : "script-src 'none'",
      "style-src 'self'",
      "img-src 'self'",
      "connect-src 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join("; "),
  );
  c.header("x-frame-options", "DENY");
  c.header("cache-control", "no-store");
  c.header("x-content-type-options", "nosniff");
  // same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on a form POST.
  c.header("referrer-policy", "same-origin");
}

function html(c: Context, n: string, body: string, status = 200): Response {
  secure(c, n);
  return c.html(body, status as 200);
}

/** The request's own origin: the one a same-site form POST carries. */
function sameOrigin(c: Context): boolean {
  const origin = c.req.header("origin");
  if (origin === undefined || origin === "null") return false;
  return origin === new URL(c.req.url).origin;
}

/** Registers the console's routes on `app`. */
export function mountConsole(app: Hono, m: ConsoleMount): void {
  const keys = new SessionKeys(m.options.sessionKey);
  const data = m.options.data;
  const get = (path: string, label: string, h: Handler) => app.get(path, m.wrap(label, h));
  // The app's wrapper serves GET only; the console's three forms are small POSTs.
  const post = (path: string, _label: string, h: Handler) =>
    app.post(path, (c) => {
      const length = Number(c.req.header("content-length") ?? "0");
      if (
        !(length <= MAX_FORM_BYTES) || c.req.header("transfer-encoding") !== undefined ||
        c.req.url.length > 4096
      ) {
        secure(c);
        return c.text("the request is too large", 413);
      }
      return h(c);
    });

  /** The signed-in operator's token entry, or undefined. */
  const session = async (c: Context): Promise<TokenEntry | undefined> => {
    const s = await keys.check(getCookie(c, COOKIE), m.now());
    if (!s) return undefined;
    let entries: readonly TokenEntry[];
    try {
      entries = await m.tokens.entries();
    } catch {
      return undefined;
    }
    const e = entries.find((x) => x.id === s.tokenId);
    if (!e || !e.roles.includes("operator")) return undefined;
    if (e.expires !== undefined && Date.parse(e.expires) <= m.now()) return undefined;
    return e;
  };
  const who = (e: TokenEntry) => `${e.service} (${e.id})`;
  const toSignIn = (c: Context) => {
    secure(c);
    return c.redirect("/console/signin", 303);
  };
  const refused = (c: Context, why: string) => {
    secure(c);
    return c.text(why, 403);
  };

  const page = (
    path: string,
    label: string,
    render: (c: Context, n: string, w: string, e: TokenEntry) => Promise<string>,
  ) =>
    get(path, label, async (c) => {
      const e = await session(c);
      if (!e) return toSignIn(c);
      const n = nonce();
      try {
        return html(c, n, await render(c, n, who(e), e));
      } catch {
        secure(c);
        return c.text("the console could not read its sources (see the endpoint's log)", 500);
      }
    });

  get("/console/assets/console.css", "/console/assets", (c) => {
    secure(c);
    return c.body(CSS, 200, { "content-type": "text/css; charset=utf-8" });
  });
  get("/console/assets/console.js", "/console/assets", (c) => {
    secure(c);
    return c.body(JS, 200, { "content-type": "text/javascript; charset=utf-8" });
  });

  get("/console/assets/icon.svg", "/console/assets", (c) => {
    secure(c);
    return c.body(ICON, 200, { "content-type": "image/svg+xml" });
  });

  get("/console/signin", "/console/signin", async (c) => {
    const n = nonce();
    return html(c, n, await signInPage(n));
  });

  post("/console/signin", "/console/signin", async (c) => {
    if (!sameOrigin(c)) return refused(c, "cross-origin sign-in refused");
    let token = "";
    try {
      const form = await c.req.parseBody();
      token = typeof form.token === "string" ? form.token.trim() : "";
    } catch {
      token = "";
    }
    const n = nonce();
    const entry = await m.signIn(c, token);
    if (entry instanceof Response) {
      const why = entry.status === 403
        ? "This token does not hold the operator role."
        : entry.status === 429
        ? "Too many attempts; wait a moment."
        : entry.status === 503
        ? "The token file cannot be used."
        : "Not a valid token.";
      await entry.body?.cancel();
      return html(c, n, await signInPage(n, why), entry.status === 503 ? 503 : 401);
    }
    const expiresMs = m.now() + SESSION_MS;
    const https = new URL(c.req.url).protocol === "https:";
    setCookie(c, COOKIE, await keys.sign({ tokenId: entry.id, expiresMs }), {
      path: "/console",
      httpOnly: true,
      sameSite: "Strict",
      secure: https,
      maxAge: SESSION_MS / 1000,
    });
    secure(c);
    return c.redirect("/console", 303);
  });

  post("/console/signout", "/console/signout", (c) => {
    if (!sameOrigin(c)) return refused(c, "cross-origin sign-out refused");
    setCookie(c, COOKIE, "", { path: "/console", httpOnly: true, sameSite: "Strict", maxAge: 0 });
    secure(c);
    return c.redirect("/console/signin", 303);
  });

  // A token sees the names its prefixes allow (an operator token for everything: --prefix '*').
  page("/console", "/console", async (c, n, w, e) => {
    const prefix = (c.req.query("prefix") ?? "").slice(0, 256);
    const sort = c.req.query("sort") === "name" ? "name" : "due";
    const rows = (await data.secrets()).filter((r) => allowsName(e, r.name));
    return secretsPage(n, w, rows, { prefix, sort });
  });
  page("/console/rotations", "/console/rotations", async (_c, n, w, e) => {
    const rows = (await data.rotations()).filter((r) => allowsName(e, r.secretName));
    return rotationsPage(n, w, rows);
  });
  page("/console/services", "/console/services", async (_c, n, w, e) => {
    const rows = (await data.services())
      .map((s) => ({
        ...s,
        covered: s.secrets.length,
        secrets: s.secrets.filter((x) => allowsName(e, x.name)),
      }))
      .filter((s) => s.covered === 0 || s.secrets.length > 0)
      .map(({ covered: _, ...s }) => s);
    return servicesPage(n, w, rows);
  });
  page("/console/reads", "/console/reads", async (_c, n, w, e) => {
    const r = await data.reads();
    return readsPage(n, w, { ...r, rows: r.rows.filter((x) => allowsName(e, x.secretName)) });
  });
  page("/console/audit", "/console/audit", async (_c, n, w) => auditPage(n, w, await data.audit()));

  post("/console/audit/verify", "/console/audit/verify", async (c) => {
    if (!sameOrigin(c)) return refused(c, "cross-origin request refused");
    const e = await session(c);
    if (!e) return toSignIn(c);
    if (!data.verifyNow) return refused(c, "the endpoint does not hold the audit key");
    const n = nonce();
    try {
      const run = await data.verifyNow();
      const note = run.ok
        ? `Verified just now: ${run.rows} rows in ${run.chains} chains, intact.`
        : `Verified just now: FAILED (${run.first?.kind}).`;
      return html(c, n, await auditPage(n, who(e), await data.audit(), note));
    } catch {
      secure(c);
      return c.text("verify could not read the audit trail (see the endpoint's log)", 500);
    }
  });
}
