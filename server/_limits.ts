/**
 * Request limits, checked before anything else: only GET (and HEAD), a
 * bounded request line, bounded headers and no body to speak of.
 *
 * @module
 */

import type { Context } from "hono";
import { errorResponse } from "./_errors.ts";

/**
 * Request size limits.
 *
 * @example A stricter request line
 * ```ts
 * import { createServerApp, type LimitOptions, staticTokens } from "@keyward/secrets/server";
 * import { MemorySecretManager, RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const limits: LimitOptions = { maxUrlBytes: 256 };
 * const { app } = createServerApp({
 *   manager: new MemorySecretManager(),
 *   tokens: staticTokens([]),
 *   audit: new RecordingAuditSink(),
 *   limits,
 * });
 * const res = await app.request(`/v1/secrets/${"a".repeat(300)}`);
 * if (res.status !== 414) throw new Error(String(res.status));
 * ```
 */
export interface LimitOptions {
  /**
   * The longest URL accepted, in bytes (414 beyond).
   * @default {4096}
   */
  maxUrlBytes?: number;
  /**
   * The most header bytes accepted, names and values (431 beyond).
   * @default {16384}
   */
  maxHeaderBytes?: number;
  /**
   * The largest request body accepted, in bytes (413 beyond; GET needs none).
   * @default {1024}
   */
  maxBodyBytes?: number;
}

// One callback for every request (no closure per request); requests are
// checked one at a time, synchronously. The same pass notes the two body
// headers and the two the handlers read (names come lower-case, values joined
// as `Headers.get` joins them), so they cost no lookup of their own.
let headerBytes = 0;
let contentLength: string | undefined;
let transferEncoding = false;
let authorization: string | undefined;
let forwardedFor: string | undefined;
/** The request whose headers the pass below noted (the handlers read them then, synchronously). */
let notedFor: Context | undefined;
const addHeaderBytes = (value: string, key: string): void => {
  headerBytes += key.length + value.length + 4;
  if (key === "authorization") authorization = value;
  else if (key === "content-length") contentLength = value;
  else if (key === "transfer-encoding") transferEncoding = true;
  else if (key === "x-forwarded-for") forwardedFor = value;
};

/**
 * A request header the handlers need, as `c.req.header(name)` answers it:
 * taken from the header-size pass of {@linkcode checkLimits} when that pass
 * was over `c`'s own headers (no second lookup), else looked up.
 */
export function requestHeader(
  c: Context,
  name: "authorization" | "x-forwarded-for",
): string | undefined {
  if (c !== notedFor) return c.req.header(name);
  return name === "authorization" ? authorization : forwardedFor;
}

/** Answers the refusal, or `undefined` when the request is within limits. */
export function checkLimits(
  c: Context,
  limits: LimitOptions = {},
  post = false,
  methods: "checked" | "by-caller" = "checked",
): Response | undefined {
  const method = c.req.method;
  if (methods === "checked" && (post ? method !== "POST" : method !== "GET" && method !== "HEAD")) {
    return methodNotAllowed(c, post ? ["POST"] : ["GET"]);
  }
  if (c.req.url.length > (limits.maxUrlBytes ?? 4096)) {
    return errorResponse(c, 414, "uri_too_long", "the request line is too long");
  }
  headerBytes = 0;
  // On Node (@hono/node-server) the raw header list is at hand: summing it
  // spares building a whole `Headers` for the request, which `forEach` on
  // the request's lazy headers does. Elsewhere, the request's `Headers`.
  const raw = (c.env as { incoming?: { rawHeaders?: unknown } } | undefined)?.incoming?.rawHeaders;
  if (Array.isArray(raw)) {
    for (let i = 0; i < raw.length; i++) headerBytes += String(raw[i]).length;
    headerBytes += (raw.length >> 1) * 4;
    contentLength = c.req.header("content-length");
    transferEncoding = c.req.header("transfer-encoding") !== undefined;
  } else {
    contentLength = undefined;
    transferEncoding = false;
    authorization = undefined;
    forwardedFor = undefined;
    notedFor = undefined;
    c.req.raw.headers.forEach(addHeaderBytes);
    notedFor = c;
  }
  if (headerBytes > (limits.maxHeaderBytes ?? 16_384)) {
    return errorResponse(c, 431, "headers_too_large", "the request headers are too large");
  }
  const length = contentLength;
  const maxBody = limits.maxBodyBytes ?? 1024;
  if (
    (length !== undefined && !(Number(length) <= maxBody)) ||
    (post && length === undefined) ||
    transferEncoding
  ) {
    return errorResponse(c, 413, "body_too_large", "the request body is too large");
  }
  return undefined;
}

/** 405 with the methods the path answers in `Allow`. */
export function methodNotAllowed(c: Context, allowed: readonly string[]): Response {
  const list = allowed.join(", ");
  return errorResponse(c, 405, "method_not_allowed", `only ${list} is served here`, {
    allow: list,
  });
}
