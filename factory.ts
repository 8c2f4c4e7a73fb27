/**
 * `createSecretManager()`: one call at start-up that reads the settings
 * (`SECRET_BACKEND`, `SECRET_NAMESPACE` and the chosen backend's own
 * settings) and returns a ready {@linkcode SecretManager}.
 *
 * This entry reads the environment and files, so it is kept apart from
 * `mod.ts`: an edge bundle that imports `mod.ts` never pulls it in. Each
 * backend is loaded with a dynamic `import()` only when it is chosen.
 *
 * There is no default backend: without `SECRET_BACKEND` the factory raises a
 * `ConfigError` listing the choices.
 *
 * @example Building the memory backend from explicit settings
 * ```ts
 * import { createSecretManager } from "@keyward/secrets/factory";
 *
 * const secrets = await createSecretManager({
 *   env: { SECRET_BACKEND: "memory", SECRET_NAMESPACE: "dev" },
 * });
 * await secrets.setSecret("db/password", "example-password-1");
 * if (await secrets.getSecret("db/password") !== "example-password-1") throw new Error();
 * await secrets.close();
 * ```
 *
 * @module
 */

import { ConfigError } from "./core/errors.ts";
import { nameProblem } from "./core/_name_rules.ts";
import type { SecretManager } from "./core/types.ts";
import type { AuditedSecretManager } from "./audit/audited_manager.ts";
import type { BackendBuilder, BackendSettings } from "./factory/_types.ts";
import { wrapWithAudit } from "./factory/_audit.ts";
import { wrapWithCache } from "./factory/_cache.ts";
import {
  closingAlso,
  rotationEventsFromSettings,
  type RotationWiring,
} from "./factory/_rotation.ts";
import { withParsed } from "./factory/_settings.ts";
import { parseSettings } from "./settings/parse.ts";
import { BACKEND_CHOICES } from "./settings/table.ts";

export type { BackendBuilder, BackendSettings } from "./factory/_types.ts";

/**
 * The values `SECRET_BACKEND` accepts.
 *
 * @example
 * ```ts
 * import { type BackendName, createSecretManager } from "@keyward/secrets/factory";
 *
 * const backend: BackendName = "memory";
 * const secrets = await createSecretManager({ env: { SECRET_BACKEND: backend } });
 * await secrets.setSecret("app/key", "value-0001");
 * if ((await secrets.describeSecret("app/key")).backend !== "memory") throw new Error();
 * await secrets.close();
 * ```
 */
export type BackendName = "file" | "env" | "memory" | "vault" | "aws";

/**
 * Every value `SECRET_BACKEND` accepts, in the order error messages list them.
 *
 * @example Checking a deployment's setting before building the manager
 * ```ts
 * import { BACKEND_NAMES, type BackendName } from "@keyward/secrets/factory";
 *
 * const names: readonly string[] = BACKEND_NAMES;
 * const isBackend = (s: string): s is BackendName => names.includes(s);
 * if (!isBackend("vault") || isBackend("gcp")) throw new Error();
 * ```
 */
export const BACKEND_NAMES: readonly BackendName[] = BACKEND_CHOICES;

/**
 * Where each backend's builder lives. Each module says whether its backend
 * is `remote` (reached over the network, so the factory puts the cache in
 * front of it). Specifiers stay literal so bundlers can follow them.
 */
const BUILDERS: Record<BackendName, () => Promise<{ build: BackendBuilder; remote: boolean }>> = {
  file: () => import("./factory/_file.ts"),
  env: () => import("./factory/_env.ts"),
  memory: () => import("./factory/_memory.ts"),
  vault: () => import("./factory/_vault.ts"),
  aws: () => import("./factory/_aws.ts"),
};

/**
 * Options of {@linkcode createSecretManager}.
 *
 * @example Settings and files from a test instead of the process
 * ```ts
 * import { createSecretManager } from "@keyward/secrets/factory";
 *
 * const files: Record<string, string> = { "/run/app/.env": "DB_PASSWORD=pw-from-mounted-file\n" };
 * const secrets = await createSecretManager({
 *   env: { SECRET_BACKEND: "env", KEYWARD_ENV_FILE: "/run/app/.env" },
 *   readTextFile: (path) => Promise.resolve(files[path]),
 * });
 * if (await secrets.getSecret("db/password") !== "pw-from-mounted-file") throw new Error();
 * await secrets.close();
 * ```
 */
export interface CreateSecretManagerOptions {
  /**
   * The settings to read.
   * @default {the process environment: `Deno.env.toObject()` on Deno, `process.env` on Node}
   */
  env?: Record<string, string | undefined>;
  /**
   * Reads a mounted file such as the `.env` file of `KEYWARD_ENV_FILE`. (The
   * file store's key file is always read with `readKeyFile()` of the `./file`
   * entry, which checks where the file lives and who may read it.)
   * @default {`Deno.readTextFile` on Deno, `fs.promises.readFile(path, "utf8")` on Node}
   */
  readTextFile?: (path: string) => Promise<string>;
  /**
   * A stable identity of this writer of the audit trail (the CLI passes
   * `cli`): its chain `<SECRET_AUDIT_SERVICE>:<auditWriter>` continues across
   * processes (from the trail's heads file, or the chain's last row in
   * Postgres), so a row deleted from any run shows as a gap. Without it,
   * every process writes a chain of its own (right for long-running services).
   */
  auditWriter?: string;
}

/**
 * Builds the {@linkcode SecretManager} the settings ask for.
 *
 * The settings are read from `options.env` once, against keyward's settings
 * table (every setting, its default and meaning: the README's "Backends and
 * settings" table, generated from `settings/table.ts`); empty values count as
 * unset. `SECRET_BACKEND` chooses the backend; remote backends (vault, aws)
 * get the cache (`SECRET_CACHE_*`) and, optionally, rotation events
 * (`SECRET_ROTATION_EVENTS`); `SECRET_AUDIT` adds the audit trail;
 * `SECRET_NAMESPACE` prefixes every name.
 *
 * Infrastructure secrets (the audit key of `SECRET_AUDIT_KEY_SECRET`, the
 * database connections of `SECRET_AUDIT_DATABASE_SECRET` and
 * `SECRET_ROTATION_DATABASE_SECRET`) are read from the bare backend: full
 * names (no namespace), not audited, not cached.
 *
 * Every problem with a setting is a `ConfigError` naming the setting; none
 * repeats a key.
 *
 * @example A missing backend is refused, never guessed
 * ```ts
 * import { createSecretManager } from "@keyward/secrets/factory";
 *
 * try {
 *   await createSecretManager({ env: {} });
 *   throw new Error("accepted");
 * } catch (err) {
 *   if (!/SECRET_BACKEND/.test((err as Error).message)) throw err;
 * }
 * ```
 */
export async function createSecretManager(
  options: CreateSecretManagerOptions = {},
): Promise<SecretManager> {
  const env = options.env ?? processEnv();
  const parsed = parseSettings(env);
  const backend = chooseBackend(parsed.SECRET_BACKEND);
  const namespace = parsed.SECRET_NAMESPACE;
  if (namespace !== undefined) {
    const problem = nameProblem(namespace);
    if (problem !== undefined) {
      throw new ConfigError(`SECRET_NAMESPACE is not a valid namespace: ${problem}`);
    }
  }
  const settings: BackendSettings = withParsed({
    env,
    readTextFile: options.readTextFile ?? defaultReadTextFile,
  }, parsed);
  const { build, remote } = await BUILDERS[backend]();
  const backendManager = await build(settings);
  let manager = backendManager;
  let rotation: RotationWiring | undefined;
  let audit: AuditedSecretManager | undefined;
  try {
    // The audit trail sits inside the cache: backend calls are one event
    // each, cache serves are counted (SECRET_AUDIT*; see factory/_audit.ts).
    const audited = await wrapWithAudit(manager, settings, { writer: options.auditWriter });
    manager = audited.manager;
    audit = audited.audited;
    // Remote backends are cached by default (SECRET_CACHE_*; see factory/_cache.ts),
    // and the cache can listen for rotation events (SECRET_ROTATION_EVENTS).
    const cached = remote && parsed.SECRET_CACHE_TTL_MS !== 0;
    rotation = await rotationEventsFromSettings(backendManager, settings, cached);
    if (remote) {
      const cache = await wrapWithCache(manager, settings, {
        ...(audited.onServe ? { onServe: audited.onServe } : {}),
        ...(rotation ? { rotationEvents: rotation.events } : {}),
      });
      if (cache !== undefined) {
        const { exposeRotationRecorder } = await import("./core/rotation_recorder.ts");
        exposeRotationRecorder(cache, manager);
        manager = cache;
        // Listening before the first read, so no promotion is missed.
        if (rotation) await cache.ready;
      }
    }
    if (rotation) manager = closingAlso(manager, rotation.close);
  } catch (err) {
    await manager.close().catch(() => {});
    await rotation?.close().catch(() => {});
    throw err;
  }
  // Namespaces and the rotation recorder load when used, not at import (issue 18).
  const named = namespace === undefined
    ? manager
    : (await import("./core/namespace.ts")).withNamespace(manager, namespace);
  if (parsed.SECRET_FALLBACK !== "env" || backend === "env") return named;
  // SECRET_FALLBACK=env: outermost (see factory/_fallback.ts for why).
  try {
    const env = await (await BUILDERS.env()).build(settings);
    const { FallbackSecretManager } = await import("./factory/_fallback.ts");
    return new FallbackSecretManager(named, env, audit?.recordFallback.bind(audit));
  } catch (err) {
    await named.close().catch(() => {});
    throw err;
  }
}

function chooseBackend(value: BackendName | undefined): BackendName {
  if (value === undefined) {
    throw new ConfigError(
      `SECRET_BACKEND is not set; choose one of: ${BACKEND_NAMES.join(", ")} ` +
        `(keyward has no default backend)`,
    );
  }
  return value;
}

interface DenoLike {
  env: { toObject(): Record<string, string> };
  readTextFile(path: string): Promise<string>;
}

function denoGlobal(): DenoLike | undefined {
  return (globalThis as { Deno?: DenoLike }).Deno;
}

function processEnv(): Record<string, string | undefined> {
  const deno = denoGlobal();
  if (deno !== undefined) return deno.env.toObject();
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  if (proc?.env !== undefined) return { ...proc.env };
  throw new ConfigError(
    "no process environment on this runtime; pass the settings as createSecretManager({ env })",
  );
}

async function defaultReadTextFile(path: string): Promise<string> {
  const deno = denoGlobal();
  if (deno !== undefined) return await deno.readTextFile(path);
  const fs = await import("node:fs/promises");
  return await fs.readFile(path, "utf8");
}
