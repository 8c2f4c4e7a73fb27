/**
 * The HashiCorp Vault backend: KV version 2 over plain `fetch`, so it runs on
 * Deno, Node, Deno Deploy and Cloudflare Workers. It reads no environment and
 * touches no file; the factory (`./factory`, `SECRET_BACKEND=vault`) fills
 * the options from `VAULT_ADDR`, `VAULT_TOKEN` and friends.
 *
 * How keyward's stages map onto KV v2 (DESIGN.md "Stages and versions"):
 *
 * - `current` is always the latest version of `<mount>/data/<name>`, so every
 *   other Vault reader (`vault kv get`, Vault Agent, External Secrets) sees
 *   exactly what keyward calls current. Reading it is one request.
 * - `previous` is the version the latest write replaced. keyward records it
 *   in the key's `custom_metadata` as `keyward_previous` (with
 *   `keyward_previous_of`, the version it belongs to). When the record belongs
 *   to another version (a write by another tool came later, or a concurrent
 *   writer's record lost the race), the version before the latest is used,
 *   which is what that write replaced. Reading it costs two requests.
 * - `pending` lives at the reserved sibling path
 *   `<mount>/data/.keyward/pending/<name>`, invisible to readers of the main
 *   path. Its version ids are `pending:<n>`, where `n` is the sibling's KV
 *   version plus `keyward_pending_offset` from the main key's
 *   `custom_metadata` (the sibling versions consumed by earlier promotions).
 *   The sibling is deleted when its pending version is promoted, so its own
 *   numbering restarts; the offset keeps `pending:<n>` unique for the life of
 *   the secret.
 * - `promote(name, id)` writes the value of `id` as a new version of the main
 *   path with `cas` = the current version (a concurrent writer makes the
 *   promote fail instead of losing a write), records the replaced version as
 *   `keyward_previous`, records `keyward_promoted` = `<new version>=<id>`,
 *   and deletes the sibling when `id` was the pending version. It returns
 *   `id`: the promoted content is now current. Promoting the id again (or the
 *   current version number) is a no-op, so a resumed rotation can repeat it;
 *   `describeSecret` lists the new KV version number as current.
 *
 * Fields map to KV data fields; a plain value is the field `value`, as
 * `vault kv put secret/<name> value=...` writes it.
 *
 * @module
 */

import { DEFAULT_READ_DEADLINE_MS, SecretManagerBase } from "../core/_backend_base.ts";
import {
  ConfigError,
  type ErrorContext,
  SecretAccessError,
  SecretConflictError,
  SecretNotFoundError,
  SecretWriteError,
  UnsupportedOperationError,
} from "../core/errors.ts";
import { keywardLogger } from "../core/log.ts";
import { nameProblem, RESERVED_PREFIX, selectValue } from "../core/names.ts";
import { type RetryPolicy, validateRetryPolicy } from "../core/retry.ts";
import type {
  DeleteOptions,
  ReadOptions,
  SecretMetadata,
  SecretRead,
  SecretVersion,
  SignalOptions,
  Stage,
  WriteOptions,
} from "../core/types.ts";
import { errorsOf, type VaultAuth, type VaultReply, VaultTransport } from "./_vault_http.ts";

export type { VaultAuth } from "./_vault_http.ts";

/**
 * Options of {@linkcode VaultSecretManager}.
 *
 * @example A mount, a namespace and a retry policy (against a stand-in `fetch`)
 * ```ts
 * import { VaultSecretManager } from "@keyward/secrets";
 *
 * const seen: string[] = [];
 * let calls = 0;
 * // A stand-in for Vault: the first request fails with 503, the retry succeeds.
 * const fakeVault: typeof fetch = (input, init) => {
 *   calls += 1;
 *   const headers = new Headers(init?.headers);
 *   seen.push(`${new URL(String(input)).pathname} ns=${headers.get("X-Vault-Namespace")}`);
 *   if (calls === 1) return Promise.resolve(new Response(null, { status: 503 }));
 *   return Promise.resolve(Response.json({
 *     data: { data: { value: "value-0001" }, metadata: { version: 3, created_time: "2026-11-29T00:00:00Z" } },
 *   }));
 * };
 * const secrets = new VaultSecretManager({
 *   address: "http://127.0.0.1:8200",
 *   auth: { token: "dev-only-token" },
 *   mount: "team/kv",
 *   namespace: "payments",
 *   timeoutMs: 2_000,
 *   retry: { attempts: 2, sleep: () => Promise.resolve() },
 *   fetch: fakeVault,
 * });
 * if (await secrets.getSecret("db/password") !== "value-0001") throw new Error();
 * if (seen[1] !== "/v1/team/kv/data/db/password ns=payments" || calls !== 2) throw new Error(seen[1]);
 * await secrets.close();
 * ```
 */
export interface VaultOptions {
  /** Vault's address, e.g. `https://vault.internal:8200` (`VAULT_ADDR`). */
  address: string;
  /** How to authenticate: a token, AppRole or Kubernetes login. */
  auth: VaultAuth;
  /**
   * The KV version 2 mount.
   * @default {"secret"}
   */
  mount?: string;
  /** A Vault Enterprise/HCP namespace, sent as `X-Vault-Namespace`. */
  namespace?: string;
  /**
   * The timeout of each HTTP request (each attempt gets its own).
   * @default {5000}
   */
  timeoutMs?: number;
  /**
   * The overall limit of one read, retries and logins included, in
   * milliseconds (`SECRET_READ_DEADLINE_MS`); `0` sets none.
   * @default {10000}
   */
  readDeadlineMs?: number;
  /**
   * How throttling (429), server errors (5xx), timeouts and network errors
   * are retried. 400, 403 and 404 are never retried.
   * @default {{ attempts: 3, baseDelayMs: 100, maxDelayMs: 2000 }}
   */
  retry?: RetryPolicy;
  /**
   * The `fetch` to use (connections are reused between requests).
   * @default {globalThis.fetch}
   */
  fetch?: typeof fetch;
  /**
   * The clock, in epoch milliseconds; decides when a login token is renewed.
   * @default {Date.now}
   */
  now?: () => number;
}

const BACKEND = "vault";
const PENDING_ROOT = `${RESERVED_PREFIX}/pending/`;
const META_PREVIOUS = "keyward_previous";
const META_PREVIOUS_OF = "keyward_previous_of";
const META_PROMOTED = "keyward_promoted";
const META_PENDING_OFFSET = "keyward_pending_offset";
const META_DEPRECATED = "keyward_deprecated_";
const PENDING_ID = /^pending:([1-9][0-9]{0,15})$/;
const NUMERIC_ID = /^[1-9][0-9]{0,15}$/;
const MOUNT = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
const CAS_MISMATCH = "check-and-set parameter did not match";
const CAS_REQUIRED = "check-and-set parameter required";
const LIST_CONCURRENCY = 8;

/** A version's metadata as KV v2 reports it. */
interface VersionMeta {
  version: number;
  created_time?: string;
  deletion_time?: string;
  destroyed?: boolean;
  custom_metadata?: Record<string, string> | null;
}

type DataRead =
  | { kind: "ok"; fields: Record<string, string>; meta: VersionMeta }
  | { kind: "missing" }
  | { kind: "deleted"; meta: VersionMeta };

interface KeyMeta {
  current_version: number;
  created_time?: string;
  updated_time?: string;
  custom_metadata?: Record<string, string> | null;
  versions: Record<string, { created_time?: string; deletion_time?: string; destroyed?: boolean }>;
}

/**
 * A {@linkcode SecretManager} over HashiCorp Vault's KV version 2 engine.
 *
 * @example Reading and rotating against Vault (here a stand-in `fetch`)
 * ```ts
 * import { VaultSecretManager } from "@keyward/secrets";
 *
 * // A tiny stand-in for Vault so the example runs anywhere; use the real address instead.
 * const fakeVault: typeof fetch = (input) => {
 *   const url = String(input);
 *   if (url.endsWith("/v1/secret/data/alpaca/api_key_id")) {
 *     return Promise.resolve(Response.json({
 *       data: { data: { value: "PKEXAMPLE000000" }, metadata: { version: 1, created_time: "2026-11-29T00:00:00Z" } },
 *     }));
 *   }
 *   return Promise.resolve(Response.json({ errors: [] }, { status: 404 }));
 * };
 *
 * const secrets = new VaultSecretManager({
 *   address: "http://127.0.0.1:8200",
 *   auth: { token: "dev-only-token" },
 *   fetch: fakeVault,
 * });
 * if (await secrets.getSecret("alpaca/api_key_id") !== "PKEXAMPLE000000") throw new Error();
 * await secrets.close();
 * ```
 */
export class VaultSecretManager extends SecretManagerBase {
  readonly #http: VaultTransport;
  readonly #mount: string;
  readonly #now: () => number;
  readonly #log = keywardLogger("backend", BACKEND);

  /** Checks the options (a `ConfigError` names the bad one); does no I/O. */
  constructor(options: VaultOptions) {
    super(BACKEND, options?.readDeadlineMs ?? DEFAULT_READ_DEADLINE_MS);
    const opts = options ?? ({} as VaultOptions);
    const address = checkAddress(opts.address);
    const mount = opts.mount ?? "secret";
    if (typeof mount !== "string" || !MOUNT.test(mount)) {
      throw new ConfigError(
        "option mount must be a mount path (secret, team/kv)",
        { backend: BACKEND },
      );
    }
    if (
      opts.namespace !== undefined && (typeof opts.namespace !== "string" || opts.namespace === "")
    ) {
      throw new ConfigError("option namespace must be a non-empty string", { backend: BACKEND });
    }
    const timeoutMs = opts.timeoutMs ?? 5000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new ConfigError("option timeoutMs must be positive", {
        backend: BACKEND,
      });
    }
    try {
      validateRetryPolicy(opts.retry ?? {});
    } catch (err) {
      throw new ConfigError((err as Error).message, { backend: BACKEND });
    }
    checkAuth(opts.auth);
    this.#mount = mount;
    this.#now = opts.now ?? Date.now;
    this.#http = new VaultTransport({
      address,
      namespace: opts.namespace,
      timeoutMs,
      retry: opts.retry ?? {},
      fetch: opts.fetch ?? ((input, init) => fetch(input, init)),
      now: this.#now,
      auth: opts.auth,
      log: this.#log,
    });
  }

  /**
   * Reads a stage or version. The version of a stage read is the id
   * {@linkcode describeSecret} reports for that stage: after a promote,
   * `current` reads back as the KV version number the promote wrote. A read
   * by version alone reports no stage (finding it would cost a request).
   */
  protected async doRead(name: string, opts: ReadOptions): Promise<SecretRead> {
    const found = await this.#resolve(name, opts.stage, opts.version, opts.signal);
    const stage = found.stage ? { stage: found.stage } : {};
    const value = selectValue(found.fields, opts.field, {
      secret: name,
      backend: BACKEND,
      ...stage,
      version: found.id,
    });
    return { value, version: found.id, ...stage };
  }

  /** Lists names, walking the folders under `prefix`. */
  protected async doList(prefix: string, opts: SignalOptions): Promise<string[]> {
    const dir = prefix.slice(0, prefix.lastIndexOf("/") + 1);
    const found: string[] = [];
    const walk = async (folder: string): Promise<void> => {
      const keys = await this.#list(folder, prefix, opts.signal);
      const subfolders: string[] = [];
      for (const key of keys) {
        const full = folder + key;
        if (folder === "" && full.startsWith(RESERVED_PREFIX)) continue;
        if (key.endsWith("/")) {
          if (full.startsWith(prefix) || prefix.startsWith(full)) subfolders.push(full);
        } else if (full.startsWith(prefix) && nameProblem(full) === undefined) {
          found.push(full);
        }
      }
      for (let i = 0; i < subfolders.length; i += LIST_CONCURRENCY) {
        await Promise.all(subfolders.slice(i, i + LIST_CONCURRENCY).map(walk));
      }
    };
    await walk(dir);
    return [...new Set(found)].sort();
  }

  /** Writes a current version (with check-and-set for `ifVersion`) or a pending one. */
  protected async doSet(
    name: string,
    fields: Record<string, string>,
    opts: WriteOptions,
  ): Promise<SecretVersion> {
    if ((opts.stage ?? "current") === "pending") {
      return await this.#writePending(name, fields, opts);
    }
    const ctx = this.#ctx(name, { stage: "current" });
    let cas: number | undefined;
    if (opts.ifVersion !== undefined) {
      cas = NUMERIC_ID.test(opts.ifVersion)
        ? Number(opts.ifVersion)
        : await this.#casForAlias(name, opts.ifVersion, opts.signal);
    }
    let written: VersionMeta;
    try {
      written = await this.#writeData(encodePath(name), fields, cas, ctx, opts.signal);
    } catch (err) {
      // `ifVersion` may name the id a promote returned; it stands for the version it created.
      if (!(err instanceof SecretConflictError) || opts.ifVersion === undefined) throw err;
      const aliasCas = await this.#casForAlias(name, opts.ifVersion, opts.signal);
      written = await this.#writeData(encodePath(name), fields, aliasCas, ctx, opts.signal);
    }
    await this.#recordPrevious(name, written.version, {}, opts.signal);
    return this.#version(name, String(written.version), ["current"], written.created_time);
  }

  /** Describes the main key's versions and the pending sibling's. */
  protected async doDescribe(name: string, opts: SignalOptions): Promise<SecretMetadata> {
    const ctx = this.#ctx(name);
    const [meta, sibling] = await Promise.all([
      this.#readMeta(encodePath(name), ctx, opts.signal),
      this.#readMeta(siblingPath(name), ctx, opts.signal),
    ]);
    if (!meta) throw new SecretNotFoundError(ctx);
    const now = this.#now();
    const current = meta.current_version;
    const previous = previousOf(meta.custom_metadata, current);
    const versions: SecretVersion[] = [];
    const add = (key: KeyMeta, id: (n: number) => string, stages: (n: number) => Stage[]) => {
      for (const n of sortedIds(key.versions)) {
        const v = key.versions[n];
        if (!readable(v, now)) continue;
        const out = this.#version(name, id(n), stages(n), v.created_time);
        const deprecatedAt = toDate(meta.custom_metadata?.[META_DEPRECATED + out.version]);
        if (deprecatedAt) out.deprecatedAt = deprecatedAt;
        versions.push(out);
      }
    };
    add(meta, String, (n) => [
      ...(n === current ? ["current" as const] : []),
      ...(n === previous ? ["previous" as const] : []),
    ]);
    if (sibling) {
      add(
        sibling,
        (n) => pendingId(meta, n),
        (n) => n === sibling.current_version ? ["pending"] : [],
      );
    }
    const out: SecretMetadata = { name, backend: BACKEND, versions };
    const marks = versions.map((v) => v.deprecatedAt?.getTime() ?? 0);
    if (Math.max(0, ...marks) > 0) out.deprecatedAt = new Date(Math.max(...marks));
    const createdAt = toDate(meta.created_time);
    const updatedAt = toDate(meta.updated_time);
    if (createdAt) out.createdAt = createdAt;
    if (updatedAt) out.updatedAt = updatedAt;
    const scheduled = toDate(meta.versions[String(current)]?.deletion_time);
    if (scheduled && scheduled.getTime() > now) out.deletionScheduledAt = scheduled;
    return out;
  }

  /** Writes the promoted value as a new current version and records the previous one. */
  protected async doPromote(
    name: string,
    version: string,
    opts: SignalOptions,
  ): Promise<SecretVersion> {
    const ctx = this.#ctx(name);
    const meta = await this.#readMeta(encodePath(name), ctx, opts.signal);
    if (!meta) throw new SecretNotFoundError(ctx);
    const current = meta.current_version;
    const offset = pendingOffset(meta.custom_metadata);
    const alias = promotedAlias(meta.custom_metadata);
    const isCurrent = version === String(current) ||
      (alias !== undefined && alias.version === current && alias.id === version);
    let source: DataRead = { kind: "missing" };
    let siblingIsIt = false;
    const extra: Record<string, string> = {};
    const pendingMatch = PENDING_ID.exec(version);
    if (pendingMatch) {
      const n = Number(pendingMatch[1]);
      const sibling = await this.#readData(
        siblingPath(name),
        undefined,
        ctx,
        opts.signal,
      );
      siblingIsIt = sibling.kind === "ok" && offset + sibling.meta.version === n;
      if (siblingIsIt) {
        source = sibling;
        extra[META_PENDING_OFFSET] = String(n);
      } else if (!isCurrent && n - offset >= 1) {
        source = await this.#readData(
          siblingPath(name),
          n - offset,
          ctx,
          opts.signal,
        );
      }
    }
    if (isCurrent) {
      // Already promoted; a leftover sibling (an interrupted promote) is cleaned up.
      if (siblingIsIt) await this.#deleteMeta(siblingPath(name), ctx, opts.signal);
      return this.#version(name, version, ["current"], meta.versions[current]?.created_time);
    }
    if (!pendingMatch && NUMERIC_ID.test(version)) {
      source = await this.#readData(encodePath(name), Number(version), ctx, opts.signal);
    }
    if (source.kind !== "ok") throw new SecretNotFoundError({ ...ctx, version }, "no such version");
    const written = await this.#promoteWrite(name, version, source.fields, current, extra, opts);
    if (siblingIsIt) await this.#deleteMeta(siblingPath(name), ctx, opts.signal);
    return this.#version(name, version, ["current"], written.created_time);
  }

  /** Deletes the metadata of the pending sibling, then of the main key. */
  protected async doDelete(name: string, opts: DeleteOptions): Promise<void> {
    const ctx = this.#ctx(name);
    if (opts.recoveryDays !== undefined) {
      throw new UnsupportedOperationError(
        "deleteSecret with recoveryDays",
        ctx,
        "Vault KV v2 deletes at once",
      );
    }
    const meta = await this.#readMeta(encodePath(name), ctx, opts.signal);
    if (!meta) throw new SecretNotFoundError(ctx);
    // The sibling goes first, so an interrupted delete never leaves an orphaned pending value.
    await this.#deleteMeta(siblingPath(name), ctx, opts.signal);
    await this.#deleteMeta(encodePath(name), ctx, opts.signal);
  }

  /**
   * Marks a version deprecated: a custom metadata entry
   * `keyward_deprecated_<version>` on the main key holds the date (a JSON
   * merge PATCH, so concurrent metadata writes are kept). Refuses `current`.
   */
  protected async doDeprecate(name: string, version: string, opts: SignalOptions): Promise<void> {
    const { key, marked } = await this.#lifecycleTarget(name, version, "deprecated", opts.signal);
    // The first date is kept.
    if (!marked) {
      await this.#patchCustom(name, { [key]: new Date(this.#now()).toISOString() }, opts);
    }
  }

  /**
   * Destroys a version for good with KV v2's `destroy` endpoint (on the
   * pending sibling for a pending id), then drops its deprecation entry.
   * Refuses `current`.
   */
  protected async doDestroy(name: string, version: string, opts: SignalOptions): Promise<void> {
    const target = await this.#lifecycleTarget(name, version, "destroyed", opts.signal);
    const ctx = this.#ctx(name, { version });
    const reply = await this.#http.call("PUT", `${this.#mount}/destroy/${target.path}`, {
      body: { versions: [target.kv] },
      signal: opts.signal,
      ctx,
    });
    if (reply.status >= 300) throw this.#unexpected(reply, ctx, true);
    // A mark left behind is harmless (describe never shows a destroyed version): only tidied.
    if (target.marked) await this.#patchCustom(name, { [target.key]: null }, opts).catch(() => {});
  }

  /**
   * The KV path and version a lifecycle call names and its deprecation
   * entry. A promoted pending id stands for the version its promote wrote.
   * Refuses the current version.
   */
  async #lifecycleTarget(
    name: string,
    version: string,
    action: string,
    signal: AbortSignal | undefined,
  ): Promise<{ path: string; kv: number; key: string; marked: boolean }> {
    const ctx = this.#ctx(name, { version });
    const meta = await this.#readMeta(encodePath(name), ctx, signal);
    if (!meta) throw new SecretNotFoundError(ctx);
    const custom = meta.custom_metadata;
    const alias = promotedAlias(custom);
    const pending = PENDING_ID.exec(version);
    let path = encodePath(name);
    let kv = NUMERIC_ID.test(version) ? Number(version) : alias?.id === version ? alias.version : 0;
    let key = String(kv);
    let versions = meta.versions;
    if (!kv && pending) {
      kv = Number(pending[1]) - pendingOffset(custom);
      path = siblingPath(name);
      key = version;
      versions = (kv >= 1 && (await this.#readMeta(path, ctx, signal))?.versions) || {};
    } else if (kv === meta.current_version) {
      throw new SecretConflictError(
        ctx,
        `the current version cannot be ${action}; promote another version first`,
      );
    }
    if (!readable(versions[String(kv)], this.#now())) {
      throw new SecretNotFoundError(ctx, "no such version");
    }
    key = META_DEPRECATED + key;
    return { path, kv, key, marked: custom?.[key] !== undefined };
  }

  /** A JSON merge PATCH of the main key's custom metadata (`null` removes an entry). */
  async #patchCustom(
    name: string,
    custom: Record<string, string | null>,
    opts: SignalOptions,
  ): Promise<void> {
    const ctx = this.#ctx(name);
    const reply = await this.#http.call("PATCH", this.#metaPath(encodePath(name)), {
      body: { custom_metadata: custom },
      contentType: "application/merge-patch+json",
      signal: opts.signal,
      ctx,
    });
    if (reply.status >= 300) throw this.#unexpected(reply, ctx, true);
  }

  /** Closes the transport (a login token is not revoked). */
  protected override async doClose(): Promise<void> {
    await this.#http.close();
  }

  // ---- stages ----

  async #resolve(
    name: string,
    stage: Stage | undefined,
    version: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ id: string; fields: Record<string, string>; stage?: Stage }> {
    if (version !== undefined && stage !== undefined) {
      const found = await this.#resolve(name, stage, undefined, signal);
      if (found.id !== version) {
        throw new SecretNotFoundError(
          this.#ctx(name, { stage, version }),
          "that version does not hold that stage",
        );
      }
      return found;
    }
    if (version !== undefined) return await this.#resolveVersion(name, version, signal);
    const wanted = stage ?? "current";
    const ctx = this.#ctx(name, { stage: wanted });
    if (wanted === "pending") {
      const [sibling, meta] = await Promise.all([
        this.#readData(siblingPath(name), undefined, ctx, signal),
        this.#readMeta(encodePath(name), ctx, signal),
      ]);
      if (sibling.kind !== "ok" || !meta) {
        throw new SecretNotFoundError(ctx, "no version holds this stage");
      }
      return { id: pendingId(meta, sibling.meta.version), fields: sibling.fields, stage: wanted };
    }
    const latest = await this.#readData(encodePath(name), undefined, ctx, signal);
    if (latest.kind !== "ok") {
      throw new SecretNotFoundError(
        ctx,
        latest.kind === "deleted" ? "latest version deleted" : undefined,
      );
    }
    if (wanted === "current") {
      return { id: String(latest.meta.version), fields: latest.fields, stage: wanted };
    }
    const previous = previousOf(latest.meta.custom_metadata, latest.meta.version);
    if (previous === undefined) throw new SecretNotFoundError(ctx, "no version holds this stage");
    const prev = await this.#readData(encodePath(name), previous, ctx, signal);
    if (prev.kind !== "ok") {
      throw new SecretNotFoundError(
        { ...ctx, version: String(previous) },
        "previous version deleted or not kept",
      );
    }
    return { id: String(previous), fields: prev.fields, stage: wanted };
  }

  async #resolveVersion(
    name: string,
    version: string,
    signal: AbortSignal | undefined,
  ): Promise<{ id: string; fields: Record<string, string> }> {
    const ctx = this.#ctx(name, { version });
    if (NUMERIC_ID.test(version)) {
      const found = await this.#readData(encodePath(name), Number(version), ctx, signal);
      if (found.kind !== "ok") throw new SecretNotFoundError(ctx, "no such version");
      return { id: version, fields: found.fields };
    }
    const match = PENDING_ID.exec(version);
    if (!match) throw new SecretNotFoundError(ctx, "no such version");
    const meta = await this.#readMeta(encodePath(name), ctx, signal);
    if (!meta) throw new SecretNotFoundError(ctx);
    const sv = Number(match[1]) - pendingOffset(meta.custom_metadata);
    if (sv >= 1) {
      const found = await this.#readData(siblingPath(name), sv, ctx, signal);
      if (found.kind === "ok") return { id: version, fields: found.fields };
    }
    // A promoted pending id stands for the version its promote created.
    const alias = promotedAlias(meta.custom_metadata);
    if (alias?.id === version) {
      const found = await this.#readData(encodePath(name), alias.version, ctx, signal);
      if (found.kind === "ok") return { id: version, fields: found.fields };
    }
    throw new SecretNotFoundError(ctx, "no such version");
  }

  async #writePending(
    name: string,
    fields: Record<string, string>,
    opts: WriteOptions,
  ): Promise<SecretVersion> {
    const ctx = this.#ctx(name, { stage: "pending" });
    const meta = await this.#readMeta(encodePath(name), ctx, opts.signal);
    if (!meta) {
      throw new SecretNotFoundError(
        ctx,
        "create the secret before a pending version",
      );
    }
    if (opts.ifVersion !== undefined) {
      const alias = promotedAlias(meta.custom_metadata);
      const matches = opts.ifVersion === String(meta.current_version) ||
        (alias?.version === meta.current_version && alias.id === opts.ifVersion);
      if (!matches) {
        throw new SecretConflictError(
          { ...ctx, version: opts.ifVersion },
          "current is another version",
        );
      }
    }
    const written = await this.#writeData(
      siblingPath(name),
      fields,
      undefined,
      ctx,
      opts.signal,
    );
    return this.#version(name, pendingId(meta, written.version), ["pending"], written.created_time);
  }

  async #promoteWrite(
    name: string,
    version: string,
    fields: Record<string, string>,
    current: number,
    extra: Record<string, string>,
    opts: SignalOptions,
  ): Promise<VersionMeta> {
    const ctx = this.#ctx(name, { version });
    let written: VersionMeta;
    try {
      written = await this.#writeData(encodePath(name), fields, current, ctx, opts.signal);
    } catch (err) {
      if (err instanceof SecretConflictError) {
        throw new SecretConflictError(ctx, "another writer came first");
      }
      throw err;
    }
    // Required here: without the record a repeated promote would not be a no-op, so the sibling
    // is kept and the error tells the caller to repeat the promote.
    await this.#recordPrevious(
      name,
      written.version,
      {
        ...extra,
        [META_PROMOTED]: `${written.version}=${version}`,
      },
      opts.signal,
      true,
    );
    return written;
  }

  /** The cas for an `ifVersion` that may be an id a promote returned. */
  async #casForAlias(
    name: string,
    ifVersion: string,
    signal: AbortSignal | undefined,
  ): Promise<number> {
    const ctx = this.#ctx(name, { version: ifVersion });
    const meta = await this.#readMeta(encodePath(name), ctx, signal);
    const alias = promotedAlias(meta?.custom_metadata);
    if (meta && alias && alias.version === meta.current_version && alias.id === ifVersion) {
      return meta.current_version;
    }
    throw new SecretConflictError(
      ctx,
      meta ? "current is another version" : "no such secret",
    );
  }

  /**
   * Records which version `written` replaced. Metadata writes take no CAS and
   * a POST would replace the whole `custom_metadata` map, so this is a JSON
   * merge PATCH. For a plain write a failure is logged, not thrown: the value
   * is already written and readers fall back to the version before it.
   */
  async #recordPrevious(
    name: string,
    written: number,
    extra: Record<string, string>,
    signal: AbortSignal | undefined,
    required = false,
  ): Promise<void> {
    const custom: Record<string, string | null> = {
      [META_PREVIOUS]: written > 1 ? String(written - 1) : null,
      [META_PREVIOUS_OF]: String(written),
      ...extra,
    };
    try {
      await this.#patchCustom(name, custom, { signal });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (required) {
        throw new SecretWriteError(
          { ...this.#ctx(name), cause: err },
          `version ${written} written, but the promote was not recorded; repeat the promote`,
        );
      }
      this.#log.warn(
        "Secret {secret} written as version {version}; its previous was not recorded: {error}",
        { secret: name, version: written, error: err },
      );
    }
  }

  // ---- KV v2 requests ----

  async #readData(
    path: string,
    version: number | undefined,
    ctx: ErrorContext,
    signal: AbortSignal | undefined,
  ): Promise<DataRead> {
    const query = version === undefined ? "" : `?version=${version}`;
    const reply = await this.#http.call("GET", `${this.#mount}/data/${path}${query}`, {
      signal,
      ctx,
    });
    const payload = (reply.body as { data?: { data?: unknown; metadata?: unknown } } | null)?.data;
    const meta = versionMeta(payload?.metadata);
    if (reply.status === 404) {
      // A deleted or destroyed version answers 404 with its metadata and no `errors` (REFERENCE A.4.2).
      return meta ? { kind: "deleted", meta } : { kind: "missing" };
    }
    if (reply.status !== 200 || !meta) throw this.#unexpected(reply, ctx);
    if (payload?.data === null || payload?.data === undefined) return { kind: "deleted", meta };
    return { kind: "ok", fields: toFields(payload.data, ctx), meta };
  }

  async #readMeta(
    path: string,
    ctx: ErrorContext,
    signal: AbortSignal | undefined,
  ): Promise<KeyMeta | undefined> {
    const reply = await this.#http.call("GET", this.#metaPath(path), { signal, ctx });
    if (reply.status === 404) return undefined;
    const data = (reply.body as { data?: Record<string, unknown> } | null)?.data;
    if (reply.status !== 200 || !data || typeof data.current_version !== "number") {
      throw this.#unexpected(reply, ctx);
    }
    const versions = data.versions && typeof data.versions === "object"
      ? data.versions as KeyMeta["versions"]
      : {};
    return {
      current_version: data.current_version,
      created_time: str(data.created_time),
      updated_time: str(data.updated_time),
      custom_metadata: stringRecord(data.custom_metadata),
      versions,
    };
  }

  /** Writes a version; honours `cas_required` by retrying with the current version. */
  async #writeData(
    path: string,
    fields: Record<string, string>,
    cas: number | undefined,
    ctx: ErrorContext,
    signal: AbortSignal | undefined,
  ): Promise<VersionMeta> {
    let useCas = cas;
    for (let round = 0; round < 3; round++) {
      const body: Record<string, unknown> = { data: fields };
      if (useCas !== undefined) body.options = { cas: useCas };
      const reply = await this.#http.call("POST", `${this.#mount}/data/${path}`, {
        body,
        signal,
        ctx,
      });
      if (reply.status === 200) {
        const meta = versionMeta((reply.body as { data?: unknown } | null)?.data);
        if (meta) return meta;
        throw this.#unexpected(reply, ctx);
      }
      const errors = reply.status === 400 ? errorsOf(reply.body) : "";
      if (errors.includes(CAS_MISMATCH)) {
        if (cas !== undefined) {
          throw new SecretConflictError(
            { ...ctx, version: ctx.version ?? String(cas) },
            "current is another version",
          );
        }
        continue; // our own cas for cas_required lost a race: read again
      }
      if (errors.includes(CAS_REQUIRED) && cas === undefined) {
        // The mount or key has cas_required (REFERENCE A.4.5): write over what is current now.
        const meta = await this.#readMeta(path, ctx, signal);
        useCas = meta?.current_version ?? 0;
        continue;
      }
      throw this.#unexpected(reply, ctx, true);
    }
    throw new SecretConflictError(ctx, "concurrent writers kept winning");
  }

  async #deleteMeta(
    path: string,
    ctx: ErrorContext,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const reply = await this.#http.call("DELETE", this.#metaPath(path), { signal, ctx });
    if (reply.status >= 300 && reply.status !== 404) throw this.#unexpected(reply, ctx, true);
  }

  /** One folder's keys (a list of metadata; 404 means empty, REFERENCE A.1). */
  async #list(folder: string, prefix: string, signal: AbortSignal | undefined): Promise<string[]> {
    const ctx: ErrorContext = { backend: BACKEND, secret: prefix === "" ? "*" : `${prefix}*` };
    // `GET ?list=true` rather than the LIST verb: some edge runtimes and proxies refuse custom verbs.
    const path = `${this.#mount}/metadata/${encodePath(folder)}?list=true`;
    const reply = await this.#http.call("GET", path, { signal, ctx });
    if (reply.status === 404) return [];
    const keys = (reply.body as { data?: { keys?: unknown } } | null)?.data?.keys;
    if (reply.status !== 200 || !Array.isArray(keys)) throw this.#unexpected(reply, ctx);
    return keys.filter((k): k is string => typeof k === "string");
  }

  #unexpected(reply: VaultReply, ctx: ErrorContext, write = false): Error {
    // Vault's own error text is not repeated: only the status is.
    const detail = `unexpected response (HTTP ${reply.status})`;
    return write
      ? new SecretWriteError(ctx, detail)
      : new SecretAccessError(ctx, detail, "damaged");
  }

  // ---- helpers ----

  #metaPath(path: string): string {
    return `${this.#mount}/metadata/${path}`;
  }

  #ctx(secret: string, extra: { stage?: Stage; version?: string } = {}): ErrorContext {
    return { secret, backend: BACKEND, ...extra };
  }

  #version(name: string, version: string, stages: Stage[], created?: string): SecretVersion {
    return { name, version, stages, createdAt: toDate(created) ?? new Date(this.#now()) };
  }
}

function checkAddress(address: unknown): string {
  let url: URL | undefined;
  try {
    url = new URL(address as string);
  } catch { /* refused below */ }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new ConfigError("option address (VAULT_ADDR) must be an http or https URL", {
      backend: BACKEND,
    });
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigError(
      "option address (VAULT_ADDR) must hold no credentials, query or fragment",
      { backend: BACKEND },
    );
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
}

/** The string options each kind of auth needs. */
const AUTH_TEXTS: Record<string, string[]> = {
  token: ["token"],
  appRole: ["roleId", "secretId"],
  kubernetes: ["role"],
};

function checkAuth(auth: unknown): void {
  const fail = (what: string): never => {
    throw new ConfigError(`option auth${what}`, { backend: BACKEND });
  };
  const a = (auth ?? 0) as Record<string, unknown>;
  const kinds = Object.keys(AUTH_TEXTS).filter((k) => a[k] !== undefined);
  if (typeof a !== "object" || kinds.length !== 1) {
    return fail(
      " must hold exactly one of token, appRole { roleId, secretId } or kubernetes { role, jwt }",
    );
  }
  const kind = kinds[0];
  // A token is a string of `auth` itself; the others are objects of their own.
  const inner = (kind === "token" ? a : a[kind] ?? {}) as Record<string, unknown>;
  const at = kind === "token" ? "." : `.${kind}.`;
  for (const key of AUTH_TEXTS[kind]) {
    if (typeof inner[key] !== "string" || inner[key] === "") {
      fail(`${at}${key} must be a non-empty string`);
    }
  }
  if (kind === "kubernetes" && typeof inner.jwt !== "function") {
    fail(".kubernetes.jwt must be a function");
  }
  if (
    kind !== "token" && inner.mount !== undefined &&
    (typeof inner.mount !== "string" || !MOUNT.test(inner.mount))
  ) {
    fail(`${at}mount must be a mount path`);
  }
}

/** The path of the pending sibling of `name` (encoded). */
function siblingPath(name: string): string {
  return encodePath(PENDING_ROOT + name);
}

function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function stringRecord(value: unknown): Record<string, string> | null {
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
  return out;
}

function versionMeta(value: unknown): VersionMeta | undefined {
  if (!value || typeof value !== "object") return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.version !== "number") return undefined;
  return {
    version: v.version,
    created_time: str(v.created_time),
    deletion_time: str(v.deletion_time),
    destroyed: v.destroyed === true,
    custom_metadata: stringRecord(v.custom_metadata),
  };
}

/**
 * KV data fields as strings. `vault kv put` writes strings; a JSON writer may
 * store numbers, booleans or nested objects: scalars become their text,
 * objects their JSON text, `null` fields are left out.
 */
function toFields(data: unknown, ctx: ErrorContext): Record<string, string> {
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    throw new SecretAccessError(ctx, "KV data is not an object", "damaged");
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  return out;
}

/** A version counts as deleted only when its deletion time has passed (REFERENCE A.4.3). */
function readable(
  v: { deletion_time?: string; destroyed?: boolean } | undefined,
  now: number,
): boolean {
  if (!v || v.destroyed) return false;
  const deletion = toDate(v.deletion_time);
  return deletion === undefined || deletion.getTime() > now;
}

function sortedIds(versions: Record<string, unknown>): number[] {
  return Object.keys(versions).map(Number).filter(Number.isInteger).sort((a, b) => a - b);
}

function toDate(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The previous version of `current`: the recorded one when it belongs to `current`, else the one before. */
function previousOf(
  custom: Record<string, string> | null | undefined,
  current: number,
): number | undefined {
  const recorded = custom?.[META_PREVIOUS];
  if (custom?.[META_PREVIOUS_OF] === String(current) && recorded && NUMERIC_ID.test(recorded)) {
    return Number(recorded);
  }
  return current > 1 ? current - 1 : undefined;
}

/** The id of the sibling's KV version `n`: `pending:<n + offset>`. */
function pendingId(meta: KeyMeta, n: number): string {
  return `pending:${pendingOffset(meta.custom_metadata) + n}`;
}

function pendingOffset(custom: Record<string, string> | null | undefined): number {
  const raw = custom?.[META_PENDING_OFFSET];
  return raw !== undefined && /^[0-9]{1,15}$/.test(raw) ? Number(raw) : 0;
}

function promotedAlias(
  custom: Record<string, string> | null | undefined,
): { version: number; id: string } | undefined {
  const raw = custom?.[META_PROMOTED];
  const match = raw === undefined ? null : /^([1-9][0-9]{0,15})=(.{1,128})$/.exec(raw);
  return match ? { version: Number(match[1]), id: match[2] } : undefined;
}
