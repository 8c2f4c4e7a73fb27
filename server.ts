/**
 * The secrets endpoint: a Hono app that serves secrets from any
 * `SecretManager` to services that cannot embed the library, with per-token
 * policies (the token file), an AWS Secrets Manager Agent compatible route,
 * metrics, an audit trail (an event per request; reads the cache answered
 * counted per service, name, version and minute) and `/openapi.json`. It starts
 * nothing itself: `deno task serve` (server/serve.ts) runs it, or hand
 * `app.fetch` to any runtime's server.
 *
 * Routes: `GET /v1/secrets/{name}` (`?stage=`, `?field=`), `GET /v1/secrets?prefix=`,
 * `GET /secretsmanager/get?secretId=` (the agent's API), `GET /ping`, `GET /healthz`,
 * `GET /readyz`, `GET /metrics`, `GET /openapi.json`; with the `console` option, the
 * operator console at `/console` (docs/CONSOLE.md). See docs/SERVER.md.
 *
 * @example Serving one secret to one service
 * ```ts
 * import { createServerApp, hashToken, staticTokens } from "@keyward/secrets/server";
 * import { MemorySecretManager, RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const manager = new MemorySecretManager({ initial: { "database/app": "pw-0123456789" } });
 * const token = "kw_example-token-for-the-docs-only-00000000";
 * const { app } = createServerApp({
 *   manager,
 *   audit: new RecordingAuditSink(),
 *   tokens: staticTokens([{
 *     id: "tok_000000000001",
 *     sha256: await hashToken(token),
 *     service: "signal",
 *     prefixes: ["database/"],
 *     stages: ["current"],
 *     roles: ["read"],
 *     created: "2026-12-07T00:00:00Z",
 *   }]),
 * });
 * const res = await app.request("/v1/secrets/database/app", {
 *   headers: { authorization: `Bearer ${token}` },
 * });
 * const body = await res.json();
 * if (res.status !== 200 || body.value !== "pw-0123456789") throw new Error(String(res.status));
 * if (res.headers.get("cache-control") !== "no-store") throw new Error();
 * ```
 *
 * @module
 */

import { buildServerApp, type ServerApp, type ServerAppOptions } from "./server/app.ts";

export type { EndpointApp, ServerApp, ServerAppOptions } from "./server/app.ts";
export type { LimitOptions } from "./server/_limits.ts";
export type { ConsoleOptions } from "./server/console/mod.ts";
export type {
  AuditView,
  ConsoleData,
  ReadsView,
  RotationView,
  SecretView,
  ServiceView,
} from "./server/console/data.ts";
export type { VerifyRun } from "./audit/trail.ts";
export { type AuditIngest, postgresAuditIngest } from "./server/audit_ingest.ts";
export {
  generateToken,
  hashToken,
  staticTokens,
  TOKEN_ROLES,
  type TokenEntry,
  tokenFileSource,
  type TokenFileSourceOptions,
  type TokenRole,
  type TokenSource,
} from "./server/tokens.ts";

/**
 * Builds the endpoint's Hono app from a manager, a token source and an audit
 * sink. Put `withCache` in front of a remote backend and pass the returned
 * `onServe` to it, so metrics and audit rows tell cache hits and stale
 * serves apart, and cache hits are counted instead of written one by one
 * (`flush()` writes the counts; `deno task serve` does it on shutdown).
 *
 * @example The policy answers before the backend does
 * ```ts
 * import { createServerApp, hashToken, staticTokens } from "@keyward/secrets/server";
 * import { MemorySecretManager, RecordingAuditSink } from "@keyward/secrets/testing";
 *
 * const token = "kw_example-token-for-the-docs-only-00000001";
 * const { app } = createServerApp({
 *   manager: new MemorySecretManager({ initial: { "admin/root": "pw-0123456789" } }),
 *   audit: new RecordingAuditSink(),
 *   tokens: staticTokens([{
 *     id: "tok_000000000002", sha256: await hashToken(token), service: "signal",
 *     prefixes: ["database/"], stages: ["current"], roles: ["read"],
 *     created: "2026-12-07T00:00:00Z",
 *   }]),
 * });
 * const headers = { authorization: `Bearer ${token}` };
 * if ((await app.request("/v1/secrets/admin/root", { headers })).status !== 403) throw new Error();
 * if ((await app.request("/v1/secrets/admin/root")).status !== 401) throw new Error();
 * ```
 */
export function createServerApp(options: ServerAppOptions): ServerApp {
  return buildServerApp(options);
}
