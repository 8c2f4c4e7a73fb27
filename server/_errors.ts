/**
 * The one error answer: `{ error: { code, message } }`, JSON, never a value,
 * a token or a stack.
 *
 * @module
 */

import type { Context } from "hono";
import { KeywardError } from "../core/errors.ts";

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
 * Maps an error thrown by a manager to status, code and message. Access
 * errors (backend unreachable, denied upstream) are 503; the message is the
 * keyward error's own, which names the secret and backend, never a value.
 */
export function fromManagerError(err: unknown): { status: number; code: string; message: string } {
  if (err instanceof KeywardError) {
    switch (err.code) {
      case "not_found":
        return { status: 404, code: "not_found", message: "no such secret, stage or version" };
      case "invalid_name":
      case "invalid_value":
        return { status: 400, code: err.code, message: "invalid request" };
      case "access":
        return {
          status: 503,
          code: "backend_unavailable",
          message: "the backend cannot be reached",
        };
      case "unsupported":
        return { status: 501, code: "unsupported", message: "the backend cannot do this" };
      default:
        return { status: 500, code: "internal", message: "internal error" };
    }
  }
  return { status: 500, code: "internal", message: "internal error" };
}
