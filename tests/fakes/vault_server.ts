/**
 * A Vault HTTP server for tests: the slice of Vault's API keyward's Vault
 * backend uses (KV version 2, token self-endpoints, AppRole and Kubernetes
 * login, `sys/health`), on 127.0.0.1 with a port of its own, with Vault's
 * status codes and JSON shapes, token checks, token TTLs on an injectable
 * clock, CAS rules, version retention and namespaces, plus fault switches.
 *
 * Each behaviour cites the REFERENCE.md item it follows
 * (`/work/shared/REFERENCE.md`, section A). Bodies are encoded the way Vault's
 * Go code encodes them: `json.NewEncoder(w).Encode` (a trailing newline) for
 * ordinary and error responses, `json.Marshal` (no newline) for "raw"
 * responses, struct fields in declaration order and map keys sorted.
 *
 * @module
 */

/** One AppRole role the server accepts. */
export interface FakeAppRole {
  roleId: string;
  secretId: string;
  /** @default {3600} */
  ttlSeconds?: number;
  /** @default {86400} */
  maxTtlSeconds?: number;
  /** @default {true} */
  renewable?: boolean;
  /** The token's ACL; full access when absent. */
  policy?: FakePolicy;
}

/** One Kubernetes auth role: the JWTs the (simulated) TokenReview accepts. */
export interface FakeKubernetesRole {
  jwts: string[];
  serviceAccount?: string;
  /** @default {3600} */
  ttlSeconds?: number;
  /** @default {86400} */
  maxTtlSeconds?: number;
  /** The token's ACL; full access when absent. */
  policy?: FakePolicy;
}

/** ACL rules: a path (a trailing `*` matches any suffix, `+` one segment) and its capabilities. */
export type FakePolicy = { path: string; capabilities: string[] }[];

/** Options of {@linkcode FakeVaultServer.start}. */
export interface FakeVaultOptions {
  /** @default {"root"} */
  rootToken?: string;
  /** The server's clock in epoch ms (token TTLs, created and deletion times). @default {Date.now} */
  now?: () => number;
  /** Enterprise namespaces the server knows, e.g. `["team-a"]`; each has its own mounts. */
  namespaces?: string[];
  /** KV v2 mounts in every namespace. @default {["secret"]} */
  mounts?: string[];
  /** AppRole roles by name, at `auth/<appRoleMount>/login`. */
  appRoles?: Record<string, FakeAppRole>;
  /** @default {"approle"} */
  appRoleMount?: string;
  /** Kubernetes roles by name, at `auth/<kubernetesMount>/login`. */
  kubernetesRoles?: Record<string, FakeKubernetesRole>;
  /** @default {"kubernetes"} */
  kubernetesMount?: string;
  /** A fixed port (for restarting after `down()`); 0 picks one. @default {0} */
  port?: number;
}

/** One request the server saw. */
export interface SeenRequest {
  method: string;
  /** The path after `/v1/`, without the query. */
  path: string;
  query: string;
  namespace: string | null;
  /** How the token came: `header` (X-Vault-Token), `bearer`, or none. */
  tokenVia: "header" | "bearer" | null;
  contentType: string | null;
  /** The client's source port (the same port means a reused connection). */
  clientPort: number;
}

interface Token {
  id: string;
  accessor: string;
  policies: string[];
  policy?: FakePolicy;
  issuedAt: number;
  /** 0 = never expires. */
  ttlMs: number;
  expiresAt: number;
  maxExpiresAt: number;
  renewable: boolean;
  revoked: boolean;
  path: string;
  meta: Record<string, string> | null;
  roleTtlMs: number;
}

interface Version {
  data: Record<string, unknown> | null;
  created: number;
  deletion: number | undefined;
  destroyed: boolean;
}

interface Key {
  versions: Map<number, Version>;
  current: number;
  oldest: number;
  created: number;
  updated: number;
  maxVersions: number;
  casRequired: boolean;
  deleteVersionAfterS: number;
  custom: Record<string, string> | null;
}

interface Mount {
  config: { maxVersions: number; casRequired: boolean; deleteVersionAfterS: number };
  keys: Map<string, Key>;
}

type Reply = { status: number; body?: string; headers?: Record<string, string> };

const INVALID_TOKEN = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n";
const POLICY_DENIED = "1 error occurred:\n\t* permission denied\n\n";

/** The Vault test server. */
export class FakeVaultServer {
  /** Every request seen, in order. */
  readonly requests: SeenRequest[] = [];
  /** Fault: delay every answer by this many ms (abandoned when the client goes away). */
  delayMs = 0;
  /** Fault: count the request, then drop the connection without a complete answer. */
  dropConnections = false;
  /** Fault: every answer, health included, is 503 "Vault is sealed". */
  sealed = false;
  /** Fault: `renew-self` is refused (400) as for a token without a renewable lease. */
  refuseRenewal = false;

  readonly #opts: FakeVaultOptions;
  readonly #now: () => number;
  readonly #tokens = new Map<string, Token>();
  readonly #spaces = new Map<string, Map<string, Mount>>();
  #failures: { status: number; remaining: number }[] = [];
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  #port: number;
  readonly #sleepers = new Set<() => void>();

  private constructor(opts: FakeVaultOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#port = opts.port ?? 0;
    for (const ns of ["", ...(opts.namespaces ?? []).map(trimSlashes)]) {
      const mounts = new Map<string, Mount>();
      for (const m of opts.mounts ?? ["secret"]) {
        mounts.set(m, {
          config: { maxVersions: 0, casRequired: false, deleteVersionAfterS: 0 },
          keys: new Map(),
        });
      }
      this.#spaces.set(ns, mounts);
    }
    const root = opts.rootToken ?? "root";
    // REFERENCE A.6: a root token without a TTL is valid indefinitely.
    this.#tokens.set(root, this.#newToken(root, ["root"], 0, 0, false, "auth/token/root", null));
  }

  /** Starts a server on 127.0.0.1. */
  static start(opts: FakeVaultOptions = {}): Promise<FakeVaultServer> {
    const server = new FakeVaultServer(opts);
    server.#listen();
    return Promise.resolve(server);
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** Requests seen so far. */
  get requestCount(): number {
    return this.requests.length;
  }

  /** The root token. */
  get rootToken(): string {
    return this.#opts.rootToken ?? "root";
  }

  /** Fault: the next `count` requests (health included) answer `status` (429, 500, 502, 503...). */
  failNext(count: number, status: number): void {
    this.#failures.push({ status, remaining: count });
  }

  /** Fault "down": stops listening, so connections are refused until {@linkcode up}. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.shutdown();
  }

  /** Listens again on the same port after {@linkcode down}. */
  up(): void {
    if (!this.#server) this.#listen();
  }

  /** Stops the server (slow answers still waiting are released at once). */
  async close(): Promise<void> {
    for (const wake of this.#sleepers) wake();
    await this.down();
  }

  /** Waits `ms` on a timer that {@linkcode close} can cut short (no timer outlives a test). */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }

  /** Creates a token (for tests): a TTL of 0 never expires. */
  createToken(
    opts: { ttlSeconds?: number; policy?: FakePolicy; renewable?: boolean } = {},
  ): string {
    const id = `hvs.${randomId(24)}`;
    const ttlMs = (opts.ttlSeconds ?? 0) * 1000;
    const token = this.#newToken(
      id,
      ["default"],
      ttlMs,
      ttlMs === 0 ? 0 : ttlMs * 24,
      opts.renewable ?? ttlMs > 0,
      "auth/token/create",
      null,
    );
    if (opts.policy) token.policy = opts.policy;
    this.#tokens.set(id, token);
    return id;
  }

  /** Fault "revocation": the token becomes invalid. */
  revokeToken(id: string): void {
    const token = this.#tokens.get(id);
    if (token) token.revoked = true;
  }

  /** Fault "revocation": every token but the root token becomes invalid. */
  revokeLoginTokens(): void {
    for (const token of this.#tokens.values()) {
      if (token.id !== this.rootToken) token.revoked = true;
    }
  }

  /** The tokens issued by logins, newest last (for tests). */
  get loginTokens(): string[] {
    return [...this.#tokens.values()].filter((t) => t.path.endsWith("/login")).map((t) => t.id);
  }

  /** Whether a token is valid now (exists, not revoked, not expired on the server's clock). */
  tokenValid(id: string): boolean {
    const token = this.#tokens.get(id);
    return token !== undefined && this.#alive(token);
  }

  #listen(): void {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: this.#port, onListen: () => {} },
      (req, info) => this.#handle(req, info as Deno.ServeHandlerInfo<Deno.NetAddr>),
    );
    this.#port = this.#server.addr.port;
  }

  async #handle(req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.startsWith("/v1/") ? url.pathname.slice(4) : url.pathname;
    const xToken = req.headers.get("x-vault-token");
    const auth = req.headers.get("authorization");
    // REFERENCE A.1: X-Vault-Token is checked first; Bearer only when it starts with "Bearer ".
    const token = xToken ?? (auth?.startsWith("Bearer ") ? auth.slice(7) : null);
    this.requests.push({
      method: req.method,
      path: decodeURIComponent(path),
      query: url.search,
      namespace: req.headers.get("x-vault-namespace"),
      tokenVia: xToken !== null ? "header" : token !== null ? "bearer" : null,
      contentType: req.headers.get("content-type"),
      clientPort: info.remoteAddr.port,
    });
    const bodyText = await req.text();
    if (this.delayMs > 0) await this.#sleep(this.delayMs);
    if (this.dropConnections) {
      // Headers and a first byte go out, then the body stream fails: Deno aborts the response
      // mid-body and the client sees the connection die. (Deno prints the rejection reason,
      // `undefined`, once per dropped response.)
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.enqueue(new TextEncoder().encode("{"));
          return Promise.reject();
        },
      });
      return new Response(body, { status: 200 });
    }
    const reply = this.#route(req.method, path, url.searchParams, req.headers, bodyText, token);
    const headers = new Headers(reply.headers);
    // REFERENCE A.1: Vault sets Cache-Control: no-store on every response.
    headers.set("Cache-Control", "no-store");
    if (reply.body !== undefined && !headers.has("Content-Type")) {
      headers.set("Content-Type", "application/json");
    }
    return new Response(reply.body ?? null, { status: reply.status, headers });
  }

  #route(
    method: string,
    rawPath: string,
    query: URLSearchParams,
    headers: Headers,
    bodyText: string,
    token: string | null,
  ): Reply {
    const failure = this.#failures.find((f) => f.remaining > 0);
    if (failure) {
      failure.remaining -= 1;
      return this.#failure(failure.status, rawPath);
    }
    if (this.sealed) return errorReply(503, ["Vault is sealed"]);
    const path = decodeURIComponent(rawPath);
    if (path === "sys/health") return this.#health(method);

    // REFERENCE A.1: LIST, or GET with list=true; list must parse as a boolean.
    let op = method;
    if (method === "GET" && query.has("list")) {
      const list = parseBool(query.get("list")!);
      if (list === undefined) return errorReply(400, ["error parsing list parameter"]);
      if (list) op = "LIST";
    }
    if (op === "PUT") op = "POST"; // REFERENCE A.1: POST and PUT are synonyms.

    // REFERENCE A.1: the path is resolved relative to X-Vault-Namespace.
    const nsHeader = headers.get("x-vault-namespace");
    const full = nsHeader ? `${trimSlashes(nsHeader)}/${path}` : path;
    const resolved = this.#resolveNamespace(full);
    if (!resolved) return noHandler(path);
    const { rest, mounts } = resolved;

    if (rest.startsWith("auth/")) return this.#auth(op, rest, bodyText, token, headers);

    const slash = rest.indexOf("/");
    const mountName = slash < 0 ? rest : rest.slice(0, slash);
    const mount = mounts.get(mountName);
    if (!mount) return noHandler(path);
    const sub = slash < 0 ? "" : rest.slice(slash + 1);

    const checked = this.#checkToken(token, capabilityOf(op), rest);
    if (checked) return checked;
    return this.#kv(op, mount, sub, query, headers, bodyText);
  }

  // ---- auth ----

  #auth(op: string, rest: string, bodyText: string, token: string | null, headers: Headers): Reply {
    const appRoleMount = this.#opts.appRoleMount ?? "approle";
    const k8sMount = this.#opts.kubernetesMount ?? "kubernetes";
    if (op === "POST" && rest === `auth/${appRoleMount}/login`) {
      // REFERENCE A.7: AppRole login needs no token.
      const body = parseBody(bodyText);
      const role = Object.entries(this.#opts.appRoles ?? {}).find(([, r]) =>
        r.roleId === body?.role_id
      );
      if (!role || role[1].secretId !== body?.secret_id) {
        return errorReply(400, ["invalid role or secret ID"]);
      }
      const r = role[1];
      return this.#login(`auth/${appRoleMount}/login`, r.ttlSeconds, r.maxTtlSeconds, r.renewable, {
        role_name: role[0],
      }, r.policy);
    }
    if (op === "POST" && rest === `auth/${k8sMount}/login`) {
      // REFERENCE A.7: Kubernetes login with a role and the service-account JWT; the server
      // accepts the JWTs it is configured with, as Vault does after its TokenReview succeeds.
      const body = parseBody(bodyText);
      if (typeof body?.role !== "string" || body.role === "") {
        return errorReply(400, ["missing role"]);
      }
      if (typeof body.jwt !== "string" || body.jwt === "") return errorReply(400, ["missing jwt"]);
      const role = this.#opts.kubernetesRoles?.[body.role];
      if (!role) return errorReply(400, [`invalid role name "${body.role}"`]);
      if (!role.jwts.includes(body.jwt)) return errorReply(403, ["permission denied"]);
      return this.#login(`auth/${k8sMount}/login`, role.ttlSeconds, role.maxTtlSeconds, true, {
        role: body.role,
        service_account_name: role.serviceAccount ?? "default",
        service_account_namespace: "default",
      }, role.policy);
    }
    const t = token === null ? undefined : this.#tokens.get(token);
    if (token === null) return errorReply(403, ["permission denied"]);
    if (!t || !this.#alive(t)) return errorReply(403, [INVALID_TOKEN]);
    if (op === "GET" && rest === "auth/token/lookup-self") {
      // REFERENCE A.6: lookup-self, ttl in seconds.
      const ttl = t.ttlMs === 0 ? 0 : Math.max(0, Math.floor((t.expiresAt - this.#now()) / 1000));
      return okReply(envelope({
        data: {
          accessor: t.accessor,
          creation_time: Math.floor(t.issuedAt / 1000),
          creation_ttl: Math.floor(t.roleTtlMs / 1000),
          display_name: t.path.startsWith("auth/token") ? "token" : t.path.split("/")[1],
          entity_id: "",
          expire_time: t.ttlMs === 0 ? null : goTime(t.expiresAt),
          explicit_max_ttl: 0,
          id: t.id,
          issue_time: goTime(t.issuedAt),
          meta: t.meta,
          num_uses: 0,
          orphan: true,
          path: t.path,
          policies: t.policies,
          renewable: t.renewable,
          ttl,
          type: "service",
        },
        mount_type: "token",
      }));
    }
    if (op === "POST" && rest === "auth/token/renew-self") {
      // REFERENCE A.6: renewal works only if the token has a lease; it may not honour the increment.
      if (this.refuseRenewal || !t.renewable || t.ttlMs === 0) {
        return errorReply(400, ["lease is not renewable"]);
      }
      const now = this.#now();
      const expiresAt = Math.min(now + t.roleTtlMs, t.maxExpiresAt);
      t.expiresAt = expiresAt;
      t.ttlMs = expiresAt - t.issuedAt;
      const leaseSeconds = Math.max(0, Math.floor((expiresAt - now) / 1000));
      return okReply(envelope({
        auth: authBlock(t, leaseSeconds),
        mount_type: "token",
      }));
    }
    if (op === "POST" && rest === "auth/token/revoke-self") {
      t.revoked = true;
      return { status: 204 };
    }
    void headers;
    return noHandler(rest);
  }

  #login(
    path: string,
    ttlSeconds = 3600,
    maxTtlSeconds = 86400,
    renewable = true,
    meta: Record<string, string>,
    policy: FakePolicy | undefined,
  ): Reply {
    const id = `hvs.${randomId(24)}`;
    const token = this.#newToken(
      id,
      ["default"],
      ttlSeconds * 1000,
      maxTtlSeconds * 1000,
      renewable,
      path,
      meta,
    );
    if (policy) token.policy = policy;
    this.#tokens.set(id, token);
    // REFERENCE A.7: token and TTL under `auth`; the top-level lease_duration/renewable are 0/false.
    return okReply(envelope({ auth: authBlock(token, ttlSeconds) }));
  }

  #newToken(
    id: string,
    policies: string[],
    ttlMs: number,
    maxTtlMs: number,
    renewable: boolean,
    path: string,
    meta: Record<string, string> | null,
  ): Token {
    const now = this.#now();
    return {
      id,
      accessor: randomId(24),
      policies,
      issuedAt: now,
      ttlMs,
      expiresAt: ttlMs === 0 ? Infinity : now + ttlMs,
      maxExpiresAt: maxTtlMs === 0 ? Infinity : now + maxTtlMs,
      renewable,
      revoked: false,
      path,
      meta,
      roleTtlMs: ttlMs,
    };
  }

  #alive(t: Token): boolean {
    return !t.revoked && (t.ttlMs === 0 || this.#now() < t.expiresAt);
  }

  /** REFERENCE A.4.13: 403 for a bad token (both messages) or a policy denial. */
  #checkToken(token: string | null, capability: string, path: string): Reply | undefined {
    if (token === null || token === "") return errorReply(403, ["permission denied"]);
    const t = this.#tokens.get(token);
    if (!t || !this.#alive(t)) return errorReply(403, [INVALID_TOKEN]);
    if (t.policy && !allowed(t.policy, capability, path)) return errorReply(403, [POLICY_DENIED]);
    return undefined;
  }

  // ---- KV v2 ----

  #kv(
    op: string,
    mount: Mount,
    sub: string,
    query: URLSearchParams,
    headers: Headers,
    bodyText: string,
  ): Reply {
    const slash = sub.indexOf("/");
    const area = slash < 0 ? sub : sub.slice(0, slash);
    const key = slash < 0 ? "" : sub.slice(slash + 1);

    if (sub === "config") return this.#config(op, mount, bodyText);
    if (slash < 0 && ["metadata", "data", "delete", "undelete", "destroy"].includes(area)) {
      if (area === "metadata" && op === "LIST") return this.#list(mount, "");
      // REFERENCE A.4.8 (KVSRC backend.go pathInvalid): the root of an area.
      return rawReply(
        404,
        rawEnvelope(null, [
          "Non-listing operations on the root of a K/V v2 mount are not supported.",
        ]),
      );
    }
    // REFERENCE A.1: a path segment ending in a period is an unsupported path.
    if (key.split("/").some((s) => s.endsWith(".") && s !== "")) {
      return errorReply(404, ["unsupported path"]);
    }
    switch (area) {
      case "data":
        // REFERENCE A.4.9: the data route does not match a path ending in "/".
        if (key === "" || key.endsWith("/")) break;
        if (op === "GET") return this.#read(mount, key, query);
        if (op === "POST") return this.#write(mount, key, bodyText);
        if (op === "PATCH") return this.#patch(mount, key, headers, bodyText);
        if (op === "DELETE") return this.#softDeleteLatest(mount, key);
        break;
      case "metadata":
        if (op === "LIST") return this.#list(mount, key);
        if (key.endsWith("/")) break;
        if (op === "GET") return this.#readMeta(mount, key);
        if (op === "POST") return this.#writeMeta(mount, key, bodyText, false);
        if (op === "PATCH") {
          const refused = mergePatchRequired(headers);
          if (refused) return refused;
          return this.#writeMeta(mount, key, bodyText, true);
        }
        if (op === "DELETE") {
          // REFERENCE A.2: deletes the metadata and all versions; 204 also when absent.
          mount.keys.delete(key);
          return { status: 204 };
        }
        break;
      case "delete":
      case "undelete":
      case "destroy":
        if (op === "POST") return this.#versionsOp(area, mount, key, bodyText);
        break;
    }
    // REFERENCE A.4.8: anything else under a KV v2 mount is the v1-style 404 with a warning.
    const sub2 = op === "POST"
      ? "put"
      : op === "PATCH"
      ? "patch"
      : op === "LIST"
      ? "list"
      : op === "DELETE"
      ? "delete"
      : "get";
    return rawReply(
      404,
      rawEnvelope(null, [
        "Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate " +
        `API endpoints to use. If using the Vault CLI, use 'vault kv ${sub2}' for this operation.`,
      ]),
    );
  }

  #config(op: string, mount: Mount, bodyText: string): Reply {
    if (op === "GET") {
      // REFERENCE A.2: read engine config.
      return okReply(envelope({
        data: {
          cas_required: mount.config.casRequired,
          delete_version_after: goDuration(mount.config.deleteVersionAfterS),
          max_versions: mount.config.maxVersions,
        },
        mount_type: "kv",
      }));
    }
    if (op !== "POST") return errorReply(405, ["unsupported operation"]);
    const body = parseBody(bodyText);
    if (!body) return errorReply(400, ["failed to parse JSON input"]);
    if (typeof body.max_versions === "number") mount.config.maxVersions = body.max_versions;
    if (typeof body.cas_required === "boolean") mount.config.casRequired = body.cas_required;
    if (body.delete_version_after !== undefined) {
      const s = parseDuration(body.delete_version_after);
      if (s === undefined) return errorReply(400, ["invalid delete_version_after"]);
      mount.config.deleteVersionAfterS = s;
    }
    return { status: 204 };
  }

  #read(mount: Mount, key: string, query: URLSearchParams): Reply {
    const k = mount.keys.get(key);
    const requested = Number(query.get("version") ?? "0");
    if (!Number.isInteger(requested) || requested < 0) {
      return errorReply(400, ["invalid version"]);
    }
    // REFERENCE A.2: version 0 or absent means the latest.
    const number = requested === 0 ? k?.current ?? 0 : requested;
    const v = k?.versions.get(number);
    // REFERENCE A.4.1: a missing path or version is 404 {"errors":[]}.
    if (!k || !v) return errorReply(404, []);
    const meta = this.#versionMeta(k, number, v);
    // REFERENCE A.4.2, A.4.3, A.4.4: deleted (deletion time passed) or destroyed is a raw 404
    // with data:null and the version's metadata, without an `errors` key.
    if (v.destroyed || this.#deleted(v)) {
      return rawReply(404, rawEnvelope({ data: null, metadata: meta }));
    }
    // REFERENCE A.3: read secret.
    return okReply(
      envelope({ data: { data: sortKeys(v.data!), metadata: meta }, mount_type: "kv" }),
    );
  }

  #write(mount: Mount, key: string, bodyText: string): Reply {
    const body = parseBody(bodyText);
    if (!body) return errorReply(400, ["failed to parse JSON input"]);
    // REFERENCE A.4.6: missing data.
    if (!body.data || typeof body.data !== "object" || Array.isArray(body.data)) {
      return errorReply(400, ["no data provided"]);
    }
    const k = mount.keys.get(key);
    const casCheck = this.#cas(mount, k, body.options, false);
    if (casCheck) return casCheck;
    const { number, version, k: written } = this.#addVersion(
      mount,
      key,
      k,
      body.data as Record<string, unknown>,
    );
    // REFERENCE A.3: the write response holds flat version metadata.
    return okReply(
      envelope({ data: this.#versionMeta(written, number, version), mount_type: "kv" }),
    );
  }

  #patch(mount: Mount, key: string, headers: Headers, bodyText: string): Reply {
    const refused = mergePatchRequired(headers);
    if (refused) return refused;
    const body = parseBody(bodyText);
    if (!body) return errorReply(400, ["failed to parse JSON input"]);
    if (!body.data || typeof body.data !== "object") return errorReply(400, ["no data provided"]);
    const k = mount.keys.get(key);
    // REFERENCE A.4.7: PATCH on a path with no metadata is 404 with an empty body.
    if (!k || k.current === 0) return { status: 404 };
    const latest = k.versions.get(k.current);
    if (!latest || latest.destroyed || this.#deleted(latest)) {
      // REFERENCE A.4.7: current version deleted or destroyed: 404 with flat metadata.
      const meta = latest ? this.#versionMeta(k, k.current, latest) : null;
      return rawReply(404, rawEnvelope(meta));
    }
    const casCheck = this.#cas(mount, k, body.options, true);
    if (casCheck) return casCheck;
    const merged = mergePatch(latest.data!, body.data as Record<string, unknown>);
    const { number, version } = this.#addVersion(mount, key, k, merged);
    return okReply(envelope({ data: this.#versionMeta(k, number, version), mount_type: "kv" }));
  }

  /** REFERENCE A.4.5: check-and-set rules; answers 400 with Vault's messages. */
  #cas(mount: Mount, k: Key | undefined, options: unknown, patch: boolean): Reply | undefined {
    const raw = (options as { cas?: unknown } | undefined)?.cas;
    const required = mount.config.casRequired || (k?.casRequired ?? false);
    if (raw === undefined) {
      return required
        ? errorReply(400, ["check-and-set parameter required for this call"])
        : undefined;
    }
    const cas = typeof raw === "number" ? raw : typeof raw === "string" ? Number(raw) : NaN;
    if (!Number.isInteger(cas) || cas < 0) {
      return errorReply(400, ["error parsing check-and-set parameter"]);
    }
    if (patch && cas === 0) {
      return errorReply(400, ["check-and-set parameter did not match the current version"]);
    }
    const current = k?.current ?? 0;
    if (cas !== current) {
      return errorReply(400, ["check-and-set parameter did not match the current version"]);
    }
    return undefined;
  }

  #addVersion(
    mount: Mount,
    key: string,
    existing: Key | undefined,
    data: Record<string, unknown>,
  ): { number: number; version: Version; k: Key } {
    const now = this.#now();
    const k: Key = existing ?? {
      versions: new Map(),
      current: 0,
      oldest: 0,
      created: now,
      updated: now,
      maxVersions: 0,
      casRequired: false,
      deleteVersionAfterS: 0,
      custom: null,
    };
    mount.keys.set(key, k);
    const number = k.current + 1;
    const after = k.deleteVersionAfterS || mount.config.deleteVersionAfterS;
    // REFERENCE A.4.3: with delete_version_after a new version carries a future deletion_time.
    const version: Version = {
      data: structuredClone(data),
      created: now,
      deletion: after > 0 ? now + after * 1000 : undefined,
      destroyed: false,
    };
    k.versions.set(number, version);
    k.current = number;
    k.updated = now;
    if (k.oldest === 0) k.oldest = number;
    // REFERENCE A.4.12: max_versions 0 means the engine default, 10 when unset; older versions
    // beyond it are permanently deleted on write.
    const max = k.maxVersions || mount.config.maxVersions || 10;
    while (k.versions.size > max) {
      const oldest = Math.min(...k.versions.keys());
      k.versions.delete(oldest);
      k.oldest = Math.min(...k.versions.keys());
    }
    return { number, version, k };
  }

  #softDeleteLatest(mount: Mount, key: string): Reply {
    // REFERENCE A.4.10: deleting a missing or already deleted version is a silent 204.
    const k = mount.keys.get(key);
    const v = k?.versions.get(k.current);
    if (v && !v.destroyed && !this.#deleted(v)) v.deletion = this.#now();
    return { status: 204 };
  }

  #versionsOp(area: string, mount: Mount, key: string, bodyText: string): Reply {
    const body = parseBody(bodyText);
    const raw = body?.versions;
    // REFERENCE A.2: versions is a comma-int slice: [1,2] or "1,2".
    const versions = Array.isArray(raw)
      ? raw.map(Number)
      : typeof raw === "string" && raw !== ""
      ? raw.split(",").map((s) => Number(s.trim()))
      : [];
    if (versions.length === 0) {
      // REFERENCE A.4.10: the message differs in case between delete/undelete and destroy.
      return errorReply(400, [
        area === "destroy" ? "no version number provided" : "No version number provided",
      ]);
    }
    const k = mount.keys.get(key);
    for (const n of versions) {
      const v = k?.versions.get(n);
      if (!v) continue;
      if (area === "delete" && !v.destroyed && !this.#deleted(v)) v.deletion = this.#now();
      // REFERENCE A.4.10: undelete skips destroyed versions.
      if (area === "undelete" && !v.destroyed) v.deletion = undefined;
      if (area === "destroy") {
        v.destroyed = true;
        v.data = null;
      }
    }
    return { status: 204 };
  }

  #readMeta(mount: Mount, key: string): Reply {
    const k = mount.keys.get(key);
    if (!k) return errorReply(404, []);
    // REFERENCE A.3: read metadata; version keys are strings; this server models a plugin
    // before v0.25.0 (no attribution fields).
    const versions: Record<string, unknown> = {};
    for (const n of [...k.versions.keys()].sort((a, b) => a - b)) {
      const v = k.versions.get(n)!;
      versions[String(n)] = {
        created_time: goTime(v.created),
        deletion_time: v.deletion === undefined ? "" : goTime(v.deletion),
        destroyed: v.destroyed,
      };
    }
    return okReply(envelope({
      data: {
        cas_required: k.casRequired,
        created_time: goTime(k.created),
        current_version: k.current,
        custom_metadata: k.custom === null ? null : sortKeys(k.custom),
        delete_version_after: goDuration(k.deleteVersionAfterS),
        max_versions: k.maxVersions,
        oldest_version: k.oldest,
        updated_time: goTime(k.updated),
        versions: sortKeys(versions),
      },
      mount_type: "kv",
    }));
  }

  #writeMeta(mount: Mount, key: string, bodyText: string, patch: boolean): Reply {
    const body = parseBody(bodyText);
    if (!body) return errorReply(400, ["failed to parse JSON input"]);
    let k = mount.keys.get(key);
    if (!k) {
      if (patch) return errorReply(404, []);
      // REFERENCE A.4.11: POSTing metadata to a path with no data creates an entry with no versions.
      const now = this.#now();
      k = {
        versions: new Map(),
        current: 0,
        oldest: 0,
        created: now,
        updated: now,
        maxVersions: 0,
        casRequired: false,
        deleteVersionAfterS: 0,
        custom: null,
      };
    }
    if (body.custom_metadata !== undefined) {
      const custom = body.custom_metadata;
      if (custom !== null && (typeof custom !== "object" || Array.isArray(custom))) {
        return errorReply(400, ["custom_metadata validation failed: not a map"]);
      }
      let next: Record<string, unknown>;
      if (patch) {
        // REFERENCE A.2/A.4.11: PATCH merges (a null value removes the key).
        next = { ...(k.custom ?? {}) };
        for (const [name, value] of Object.entries((custom ?? {}) as Record<string, unknown>)) {
          if (value === null) delete next[name];
          else next[name] = value;
        }
      } else {
        // REFERENCE A.4.11: POST replaces the whole map.
        next = { ...((custom ?? {}) as Record<string, unknown>) };
      }
      const problem = customMetadataProblem(next);
      if (problem) return errorReply(400, [`custom_metadata validation failed: ${problem}`]);
      k.custom = next as Record<string, string>;
    }
    if (typeof body.max_versions === "number") k.maxVersions = body.max_versions;
    if (typeof body.cas_required === "boolean") k.casRequired = body.cas_required;
    if (body.delete_version_after !== undefined) {
      const s = parseDuration(body.delete_version_after);
      if (s === undefined) return errorReply(400, ["invalid delete_version_after"]);
      k.deleteVersionAfterS = s;
    }
    mount.keys.set(key, k);
    return { status: 204 };
  }

  #list(mount: Mount, folder: string): Reply {
    // REFERENCE A.1: the server appends a trailing "/" to a listed path.
    const prefix = folder === "" || folder.endsWith("/") ? folder : `${folder}/`;
    const keys = new Set<string>();
    for (const name of mount.keys.keys()) {
      if (!name.startsWith(prefix)) continue;
      const rest = name.slice(prefix.length);
      const slash = rest.indexOf("/");
      keys.add(slash < 0 ? rest : rest.slice(0, slash + 1));
    }
    // REFERENCE A.1: an empty list is 404 {"errors":[]}.
    if (keys.size === 0) return errorReply(404, []);
    // REFERENCE A.2: folders end in "/".
    return okReply(envelope({ data: { keys: [...keys].sort() }, mount_type: "kv" }));
  }

  #versionMeta(k: Key, number: number, v: Version): Record<string, unknown> {
    return {
      created_time: goTime(v.created),
      custom_metadata: k.custom === null ? null : sortKeys(k.custom),
      deletion_time: v.deletion === undefined ? "" : goTime(v.deletion),
      destroyed: v.destroyed,
      version: number,
    };
  }

  #deleted(v: Version): boolean {
    // REFERENCE A.4.3: deleted only when deletion_time is before now.
    return v.deletion !== undefined && v.deletion <= this.#now();
  }

  // ---- health and faults ----

  #health(method: string): Reply {
    // REFERENCE A.5: unauthenticated; 200 when active, 503 when sealed; HEAD has no body.
    const status = this.sealed ? 503 : 200;
    if (method === "HEAD") return { status };
    return okReply(
      goJson({
        initialized: true,
        sealed: this.sealed,
        standby: false,
        performance_standby: false,
        replication_performance_mode: "disabled",
        replication_dr_mode: "disabled",
        server_time_utc: Math.floor(this.#now() / 1000),
        version: "1.21.0",
        enterprise: false,
        cluster_name: "vault-cluster-keyward-test",
        cluster_id: "00000000-0000-0000-0000-000000000000",
        echo_duration_ms: 0,
        clock_skew_ms: 0,
      }) + "\n",
      status,
    );
  }

  #failure(status: number, path: string): Reply {
    if (status === 429) {
      // REFERENCE A.1: a rate-limit quota answers 429 with this message.
      return errorReply(429, [`request path "${path}": rate limit quota exceeded`]);
    }
    if (status === 503) return errorReply(503, ["Vault is sealed"]);
    if (status === 502) return errorReply(502, ["upstream rate limited"]);
    return errorReply(status, ["internal error"]);
  }

  #resolveNamespace(full: string): { rest: string; mounts: Map<string, Mount> } | undefined {
    let best = "";
    for (const ns of this.#spaces.keys()) {
      if (ns !== "" && full.startsWith(`${ns}/`) && ns.length > best.length) best = ns;
    }
    const mounts = this.#spaces.get(best);
    if (!mounts) return undefined;
    return { rest: best === "" ? full : full.slice(best.length + 1), mounts };
  }
}

// ---- encoding, the way Vault's Go code does it ----

/**
 * A Go map: encoding/json writes its keys sorted as strings. (A plain object
 * keeps insertion order, like a Go struct's fields, except that JavaScript
 * puts integer-like keys first; a map of versions "1".."11" needs this.)
 */
class GoMap {
  constructor(readonly entries: Record<string, unknown>) {}
}

/** Encodes like Go's encoding/json: maps sorted, <, >, & and U+2028/U+2029 escaped. */
export function goJson(value: unknown): string {
  const encode = (v: unknown): string => {
    if (v instanceof GoMap) {
      const keys = Object.keys(v.entries).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${encode(v.entries[k])}`).join(",")}}`;
    }
    if (Array.isArray(v)) return `[${v.map(encode).join(",")}]`;
    if (v !== null && typeof v === "object") {
      const parts = Object.entries(v).filter(([, x]) => x !== undefined);
      return `{${parts.map(([k, x]) => `${JSON.stringify(k)}:${encode(x)}`).join(",")}}`;
    }
    return JSON.stringify(v ?? null);
  };
  return encode(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** REFERENCE A.1 (V-RESPUTIL RespondError): `{"errors":[...]}` plus Encode's newline. */
function errorReply(status: number, errors: string[]): Reply {
  return { status, body: goJson({ errors }) + "\n" };
}

/** respondOk: the JSON body plus Encode's newline. */
function okReply(body: string, status = 200): Reply {
  return { status, body: body.endsWith("\n") ? body : body + "\n" };
}

/** RespondWithStatusCode: a raw body, `json.Marshal` without a newline. */
function rawReply(status: number, body: string): Reply {
  return { status, body };
}

function noHandler(path: string): Reply {
  // REFERENCE A.1: an unsupported path is 404.
  return errorReply(404, [`no handler for route "${path}". route entry not found.`]);
}

/** The logical HTTPResponse struct (V-RESP translate_response.go), in field order. */
function envelope(
  fields: { data?: unknown; warnings?: string[] | null; auth?: unknown; mount_type?: string },
): string {
  const out: Record<string, unknown> = {
    request_id: crypto.randomUUID(),
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data: fields.data ?? null,
    wrap_info: null,
    warnings: fields.warnings ?? null,
    auth: fields.auth ?? null,
  };
  out.mount_type = fields.mount_type ?? "";
  return goJson(out);
}

/**
 * A raw body built inside the KV plugin (RespondWithStatusCode): the router has not set the
 * mount type yet, so `mount_type` is empty. (Issue hashicorp/vault#24499 shows the same body
 * from Vault 1.15, which had no `mount_type` field yet.)
 */
function rawEnvelope(data: unknown, warnings: string[] | null = null): string {
  return envelope({ data, warnings, mount_type: "" });
}

function authBlock(t: Token, leaseSeconds: number): Record<string, unknown> {
  // V-RESP HTTPAuth field order; token_policies/identity_policies are omitempty.
  const out: Record<string, unknown> = {
    client_token: t.id,
    accessor: t.accessor,
    policies: t.policies,
    token_policies: t.policies,
    metadata: t.meta === null ? null : sortKeys(t.meta),
    lease_duration: leaseSeconds,
    renewable: t.renewable,
    entity_id: "",
    token_type: "service",
    orphan: true,
    mfa_requirement: null,
    num_uses: 0,
  };
  return out;
}

function sortKeys(obj: Record<string, unknown>): GoMap {
  return new GoMap(obj);
}

/** RFC 3339 with nanoseconds, trailing zeros trimmed (Go's RFC3339Nano). */
export function goTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-11-29T10:00:00.120Z
  return iso.replace(/\.(\d+)Z$/, (_, frac: string) => {
    const trimmed = frac.replace(/0+$/, "");
    return trimmed === "" ? "Z" : `.${trimmed}Z`;
  });
}

function goDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number" && value >= 0) return value;
  if (typeof value !== "string") return undefined;
  if (/^[0-9]+$/.test(value)) return Number(value);
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  if (!match || value === "") return undefined;
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

function parseBool(value: string): boolean | undefined {
  // Go's strconv.ParseBool.
  if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return false;
  return undefined;
}

function parseBody(text: string): Record<string, unknown> | undefined {
  if (text.trim() === "") return {};
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** REFERENCE A.1: PATCH requires the merge-patch content type; else 415. */
function mergePatchRequired(headers: Headers): Reply | undefined {
  const raw = headers.get("content-type") ?? "";
  const type = raw.split(";")[0].trim().toLowerCase();
  if (type === "application/merge-patch+json") return undefined;
  return errorReply(415, [
    `PATCH requires Content-Type of application/merge-patch+json, provided ${type}`,
  ]);
}

function mergePatch(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else if (typeof value === "object" && !Array.isArray(value) && typeof out[key] === "object") {
      out[key] = mergePatch(out[key] as Record<string, unknown>, value as Record<string, unknown>);
    } else out[key] = value;
  }
  return out;
}

/** REFERENCE A.4.11: at most 64 keys, keys up to 128 characters, values up to 512. */
function customMetadataProblem(custom: Record<string, unknown>): string | undefined {
  const keys = Object.keys(custom);
  if (keys.length > 64) return "payload must contain at most 64 keys";
  for (const key of keys) {
    if (key.length > 128) return `length of key "${key.slice(0, 16)}..." is greater than 128`;
    const value = custom[key];
    if (typeof value !== "string") return `value of key "${key}" is not a string`;
    if (value.length > 512) return `length of value for key "${key}" is greater than 512`;
  }
  return undefined;
}

function capabilityOf(op: string): string {
  switch (op) {
    case "GET":
      return "read";
    case "POST":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return "delete";
    case "LIST":
      return "list";
    default:
      return "sudo";
  }
}

/** Vault ACL glob: a trailing `*` matches any suffix, `+` matches one segment. */
function allowed(policy: FakePolicy, capability: string, path: string): boolean {
  const target = capability === "list" && !path.endsWith("/") ? `${path}/` : path;
  return policy.some((rule) => {
    if (
      !rule.capabilities.includes(capability) &&
      !(capability === "update" && rule.capabilities.includes("create"))
    ) {
      return false;
    }
    const pattern = "^" + rule.path.split("").map((c) =>
      c === "*" ? ".*" : c === "+" ? "[^/]+" : c.replace(/[.?^${}()|[\]\\/]/g, "\\$&")
    ).join("") + (rule.path.endsWith("*") ? "" : "$");
    return new RegExp(pattern).test(target) || new RegExp(pattern).test(path);
  });
}

function trimSlashes(s: string): string {
  return s.replace(/^\/+|\/+$/g, "");
}

function randomId(length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join("");
}
