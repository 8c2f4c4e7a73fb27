/**
 * The one error answer: `{ error: { code, message } }`, JSON, never a value,
 * a token or a stack.
 *
 * @module
 */

import type { Context } from "hono";
import { httpStatusFor, KeywardError } from "../core/errors.ts";

/** The body of every error answer. */
export interface ErrorBody {
  /** The error. */
  error: {
    /** A stable code (`unauthorized`, `forbidden`, `not_found`, `invalid_name`, ...). */
    code: string;
    /** A sentence for people; never a value or a token. */
    message: string;
  };
}

/** An error answer. */
export function errorResponse(
  c: Context,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  const body: ErrorBody = { error: { code, message } };
  c.set("errorCode", code);
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json",
      "cache-control": "no-store",
      ...headers,
    },
  });
}

/**
 * Maps an error thrown by a manager to status (from `httpStatusFor`, the one
 * place statuses are decided), code and a fixed message: never the error's
 * own text, so nothing a backend said reaches a client.
 */
export function fromManagerError(err: unknown): { status: number; code: string; message: string } {
  const code = err instanceof KeywardError ? err.code : undefined;
  const status = httpStatusFor(code);
  switch (code) {
    case "not_found":
      return { status, code, message: "no such secret, stage, field or version" };
    case "invalid_name":
    case "invalid_value":
      return { status, code, message: "invalid request" };
    case "access":
      return { status, code: "backend_unavailable", message: "the backend cannot be reached" };
    case "unsupported":
      return { status, code, message: "the backend cannot do this" };
    default:
      return { status: 500, code: "internal", message: "internal error" };
  }
}
