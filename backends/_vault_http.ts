/**
 * The Vault backend's HTTP layer: one `fetch` per attempt with its own
 * timeout signal, retries of throttling, server errors, timeouts and network
 * failures, and the token's life cycle (static token, or AppRole/Kubernetes
 * login renewed with `renew-self` before it expires and replaced by a fresh
 * login when renewal is refused or the token is rejected).
 *
 * Runtime-neutral: `fetch`, `AbortSignal` and timers only. Nothing here puts
 * a token, a value or a response body into an error or a log line.
 *
 * @module
 */

import type { KeywardLogger as Logger } from "../core/log.ts";
import { type AccessReason, type ErrorContext, SecretAccessError } from "../core/errors.ts";
import { DEFAULT_RETRY, retry, type RetryPolicy } from "../core/retry.ts";

/**
 * How the backend authenticates to Vault.
 *
 * @example AppRole: the backend logs in first and sends the token it got (against a stand-in `fetch`)
 * ```ts
 * import { type VaultAuth, VaultSecretManager } from "@keyward/secrets";
 *
 * const requests: string[] = [];
 * const fakeVault: typeof fetch = (input, init) => {
 *   const path = new URL(String(input)).pathname;
 *   requests.push(`${path} token=${new Headers(init?.headers).get("X-Vault-Token")}`);
 *   if (path === "/v1/auth/approle/login") {
 *     return Promise.resolve(Response.json({ auth: { client_token: "login-token-1", lease_duration: 3600 } }));
 *   }
 *   return Promise.resolve(Response.json({
 *     data: { data: { value: "value-0001" }, metadata: { version: 1, created_time: "2026-11-29T00:00:00Z" } },
 *   }));
 * };
 * const auth: VaultAuth = { appRole: { roleId: "example-role", secretId: "example-secret-id" } };
 * // or { token: "..." }, or { kubernetes: { role: "app", jwt: () => Deno.readTextFile(tokenPath) } }
 * const secrets = new VaultSecretManager({ address: "http://127.0.0.1:8200", auth, fetch: fakeVault });
 * await secrets.getSecret("db/password");
 * if (requests[0] !== "/v1/auth/approle/login token=null") throw new Error(requests[0]);
 * if (requests[1] !== "/v1/secret/data/db/password token=login-token-1") throw new Error(requests[1]);
 * await secrets.close();
 * ```
 */
export type VaultAuth =
  | {
    /** A Vault token (`VAULT_TOKEN`); never renewed or replaced. */
    token: string;
  }
  | {
    /** AppRole login credentials. */
    appRole: {
      /** The role id. */
      roleId: string;
      /** The secret id. */
      secretId: string;
      /**
       * The AppRole auth mount.
       * @default {"approle"}
       */
      mount?: string;
    };
  }
  | {
    /** Kubernetes login: the role and the service-account JWT. */
    kubernetes: {
      /** The Vault role bound to the service account. */
      role: string;
      /** Returns the service-account JWT; called at each login (the token file rotates). */
      jwt: () => Promise<string> | string;
      /**
       * The Kubernetes auth mount.
       * @default {"kubernetes"}
       */
      mount?: string;
    };
  };

/** A response the callers handle themselves: 2xx, 400 and 404. */
export interface VaultReply {
  /** The HTTP status. */
  status: number;
  /** The parsed JSON body, or `null` for an empty or non-JSON body. */
  body: unknown;
}

/** Options of one request. */
export interface VaultRequest {
  /** A JSON body. */
  body?: unknown;
  /** The content type of the body. */
  contentType?: string;
  /** The caller's cancellation signal. */
  signal?: AbortSignal;
  /** Names the secret/stage/version in any error. */
  ctx: ErrorContext;
}

/** Settings of {@linkcode VaultTransport}. */
export interface TransportConfig {
  address: string;
  namespace?: string;
  timeoutMs: number;
  retry: RetryPolicy;
  fetch: typeof fetch;
  now: () => number;
  auth: VaultAuth;
  log: Logger;
}

/** The fraction of a login token's TTL after which it is renewed. */
export const RENEW_AT_FRACTION = 2 / 3;

/** A failed attempt, before it becomes a keyward error. Never holds a body. */
class VaultFailure extends Error {
  declare readonly kind: "network" | "timeout" | "status";
  declare readonly status: number | undefined;
  declare readonly retryable: boolean;
  declare readonly invalidToken: boolean;

  constructor(
    kind: VaultFailure["kind"],
    status: number | undefined,
    retryable: boolean,
    invalidToken = false,
    cause?: unknown,
  ) {
    super(kind === "status" ? `HTTP ${status}` : kind, cause === undefined ? undefined : { cause });
    Object.assign(this, { name: "VaultFailure", kind, status, retryable, invalidToken });
  }
}

interface TokenState {
  token: string;
  obtainedAt: number;
  ttlMs: number;
  renewable: boolean;
  loginTtlMs: number;
}

/** Sends requests to Vault with retries, timeouts and a valid token. */
export class VaultTransport {
  readonly #cfg: TransportConfig;
  readonly #base: string;
  readonly #attempts: number;
  #state: TokenState | undefined;
  #inflight: Promise<string> | undefined;

  constructor(cfg: TransportConfig) {
    this.#cfg = cfg;
    this.#base = `${cfg.address.replace(/\/+$/, "")}/v1/`;
    this.#attempts = cfg.retry.attempts ?? DEFAULT_RETRY.attempts;
    if ("token" in cfg.auth) {
      this.#state = {
        token: cfg.auth.token,
        obtainedAt: 0,
        ttlMs: 0,
        renewable: false,
        loginTtlMs: 0,
      };
    }
  }

  /** Whether the token comes from a login (and may be replaced by another). */
  get loginDerived(): boolean {
    return !("token" in this.#cfg.auth);
  }

  /**
   * Sends `method path` with a valid token. 2xx, 400 and 404 are returned;
   * everything else is thrown as a keyward error. A login-derived token that
   * Vault rejects with 403 is replaced by a fresh login once and the request
   * sent once more.
   */
  async call(method: string, path: string, req: VaultRequest): Promise<VaultReply> {
    let relogged = false;
    for (;;) {
      let token: string;
      try {
        token = await this.#token(req);
      } catch (err) {
        throw this.#convert(err, req.ctx, "login");
      }
      try {
        return await this.#send(method, path, req, token);
      } catch (err) {
        if (
          err instanceof VaultFailure && err.status === 403 && this.loginDerived && !relogged
        ) {
          relogged = true;
          this.#cfg.log.info(
            "Vault refused the token for {secret}; logging in",
            { secret: req.ctx.secret ?? null },
          );
          if (this.#state?.token === token) this.#state = undefined;
          continue;
        }
        throw this.#convert(err, req.ctx, "request");
      }
    }
  }

  /** Revokes a login-derived token (best effort) and forgets the token. */
  async close(): Promise<void> {
    const state = this.#state;
    this.#state = undefined;
    if (!state || !this.loginDerived) return;
    try {
      await this.#once("POST", "auth/token/revoke-self", { ctx: {} }, state.token);
    } catch {
      // The token expires on its own; closing must not fail because Vault is away.
    }
  }

  /** Sends with retries; returns 2xx/400/404, throws a VaultFailure otherwise. */
  #send(
    method: string,
    path: string,
    req: VaultRequest,
    token: string | undefined,
  ): Promise<VaultReply> {
    return retry((_attempt) => this.#once(method, path, req, token), {
      ...this.#cfg.retry,
      signal: req.signal,
      retryable: (err) => err instanceof VaultFailure && err.retryable,
      onRetry: ({ attempt, error, delayMs }) => {
        this.#cfg.log.warn(
          "Vault request for {secret} failed ({why}, attempt {attempt}/{attempts}); retry in {delayMs} ms",
          {
            secret: req.ctx.secret ?? null,
            why: (error as VaultFailure).message,
            delayMs,
            attempt,
            attempts: this.#attempts,
          },
        );
      },
    });
  }

  /** One attempt: its own timeout signal, the body always read to the end. */
  async #once(
    method: string,
    path: string,
    req: VaultRequest,
    token: string | undefined,
  ): Promise<VaultReply> {
    req.signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(this.#cfg.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const headers: Record<string, string> = { "X-Vault-Request": "true" };
    if (token !== undefined) headers["X-Vault-Token"] = token;
    if (this.#cfg.namespace !== undefined) headers["X-Vault-Namespace"] = this.#cfg.namespace;
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers["Content-Type"] = req.contentType ?? "application/json";
    }
    let status: number;
    let text: string;
    try {
      const res = await this.#cfg.fetch(this.#base + path, { method, headers, body, signal });
      status = res.status;
      text = await res.text();
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason;
      if (timeout.aborted) throw new VaultFailure("timeout", undefined, true);
      throw new VaultFailure("network", undefined, true, false, err);
    }
    if ((status >= 200 && status < 300) || status === 400 || status === 404) {
      return { status, body: parseJson(text) };
    }
    if (status === 403) {
      throw new VaultFailure(
        "status",
        403,
        false,
        errorsOf(parseJson(text)).includes("invalid token"),
      );
    }
    // 412: Enterprise consistency, retried with backoff (REFERENCE A.1).
    const retryable = status === 429 || status === 412 || status >= 500;
    throw new VaultFailure("status", status, retryable);
  }

  /** A token valid now: the static one, or a login token renewed or replaced as needed. */
  #token(req: VaultRequest): Promise<string> {
    const state = this.#state;
    if (!this.loginDerived) return Promise.resolve(state!.token);
    const now = this.#cfg.now();
    if (state && (state.ttlMs === 0 || now < state.obtainedAt + state.ttlMs * RENEW_AT_FRACTION)) {
      return Promise.resolve(state.token);
    }
    // Single flight: concurrent requests share one login or renewal.
    this.#inflight ??= this.#refresh(state, req).finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #refresh(state: TokenState | undefined, req: VaultRequest): Promise<string> {
    if (state && state.renewable && this.#cfg.now() < state.obtainedAt + state.ttlMs) {
      const renewed = await this.#renew(state, req);
      if (renewed !== undefined) return renewed;
    }
    return await this.#login(req);
  }

  /** Renews with `renew-self`; `undefined` means "log in again". */
  async #renew(state: TokenState, req: VaultRequest): Promise<string | undefined> {
    let reply: VaultReply;
    try {
      reply = await this.#send("POST", "auth/token/renew-self", { ...req, body: {} }, state.token);
    } catch (err) {
      if (err instanceof VaultFailure && err.status === 403) return undefined;
      if (!(err instanceof VaultFailure)) throw err;
      // Vault is unreachable: keep using the token while it is still valid.
      this.#cfg.log.warn("Vault token renewal failed ({why}); token kept", {
        why: err.message,
      });
      return state.token;
    }
    const auth = authOf(reply);
    if (reply.status !== 200 || !auth) {
      this.#cfg.log.info("Vault refused the renewal (HTTP {status}); logging in", {
        status: reply.status,
      });
      return undefined;
    }
    // A renewal that no longer extends the token (max TTL reached) is replaced by a login.
    if (auth.ttlMs > 0 && auth.ttlMs < state.loginTtlMs * (1 - RENEW_AT_FRACTION)) {
      return undefined;
    }
    this.#state = {
      token: auth.token || state.token,
      obtainedAt: this.#cfg.now(),
      ttlMs: auth.ttlMs,
      renewable: auth.renewable,
      loginTtlMs: state.loginTtlMs,
    };
    this.#cfg.log.debug("Vault token renewed for {ttlMs} ms", { ttlMs: auth.ttlMs });
    return this.#state.token;
  }

  async #login(req: VaultRequest): Promise<string> {
    const auth = this.#cfg.auth;
    let path: string;
    let body: Record<string, string>;
    let method: string;
    if ("appRole" in auth) {
      method = "AppRole";
      path = `auth/${auth.appRole.mount ?? "approle"}/login`;
      body = { role_id: auth.appRole.roleId, secret_id: auth.appRole.secretId };
    } else {
      // A static token never logs in (`#token` returns it), so this is Kubernetes.
      const k8s = (auth as Extract<VaultAuth, { kubernetes: unknown }>).kubernetes;
      method = "Kubernetes";
      path = `auth/${k8s.mount ?? "kubernetes"}/login`;
      let jwt: string;
      try {
        jwt = (await k8s.jwt()).trim();
      } catch (err) {
        throw new SecretAccessError(
          { ...req.ctx, cause: err },
          "the service-account token could not be read",
          "denied",
        );
      }
      body = { role: k8s.role, jwt };
    }
    const refused = (status: number) =>
      new SecretAccessError(
        req.ctx,
        `Vault refused the ${method} login (HTTP ${status})`,
        "denied",
      );
    let reply: VaultReply;
    try {
      reply = await this.#send("POST", path, { ...req, body }, undefined);
    } catch (err) {
      throw err instanceof VaultFailure && err.status === 403 ? refused(403) : err;
    }
    const parsed = authOf(reply);
    if (reply.status !== 200 || !parsed || parsed.token === "") throw refused(reply.status);
    this.#state = {
      token: parsed.token,
      obtainedAt: this.#cfg.now(),
      ttlMs: parsed.ttlMs,
      renewable: parsed.renewable,
      loginTtlMs: parsed.ttlMs,
    };
    this.#cfg.log.info("Vault {method} login (TTL {ttlMs} ms)", {
      method,
      ttlMs: parsed.ttlMs,
    });
    return parsed.token;
  }

  /** Turns a failure into a keyward error; anything else (an abort reason) passes. */
  #convert(err: unknown, ctx: ErrorContext, what: "login" | "request"): unknown {
    if (!(err instanceof VaultFailure)) return err;
    const attempts = `${this.#attempts} attempt${this.#attempts === 1 ? "" : "s"}`;
    let reason: AccessReason = "unreachable";
    let detail: string;
    if (err.kind === "timeout") {
      reason = "timeout";
      detail = `no answer within ${this.#cfg.timeoutMs} ms (${attempts})`;
    } else if (err.kind === "network") {
      detail = `unreachable (${attempts})`;
    } else if (err.status === 403) {
      reason = "denied";
      detail = err.invalidToken
        ? "token invalid or expired (HTTP 403)"
        : "permission denied (HTTP 403)";
    } else if (err.status === 429) {
      reason = "throttled";
      detail = `throttled (HTTP 429, ${attempts})`;
    } else if (err.retryable) {
      detail = `failing (HTTP ${err.status}, ${attempts})`;
    } else {
      detail = `unexpected response (HTTP ${err.status})`;
    }
    if (what === "login") detail = `login failed: ${detail}`;
    return new SecretAccessError({ ...ctx, cause: err }, detail, reason);
  }
}

function parseJson(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The `errors` strings of a Vault error body, joined (for substring checks only). */
export function errorsOf(body: unknown): string {
  const errors = (body as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? errors.filter((e) => typeof e === "string").join("\n") : "";
}

/** Token and TTL of a login or renewal: from `auth.*`, never the top level (REFERENCE A.7). */
function authOf(
  reply: VaultReply,
): { token: string; ttlMs: number; renewable: boolean } | undefined {
  const auth = (reply.body as { auth?: Record<string, unknown> } | null)?.auth;
  if (!auth || typeof auth !== "object") return undefined;
  const token = typeof auth.client_token === "string" ? auth.client_token : "";
  const lease = typeof auth.lease_duration === "number" && auth.lease_duration > 0
    ? auth.lease_duration
    : 0;
  return { token, ttlMs: lease * 1000, renewable: auth.renewable === true };
}
