/**
 * What both example services share, written as a keyward user would: the
 * redaction of everything the process prints, the start-up that reports a
 * configuration problem by name and exits non-zero, a watch that notices a
 * rotated secret, and a graceful stop on SIGTERM.
 *
 * @module
 */

import { configure, getConsoleSink, getLogger, type Logger } from "@logtape/logtape";
import {
  type KeywardError,
  Redactor,
  Secret,
  type SecretManager,
  type SecretRead,
} from "@keyward/secrets";
import { redactConsole, redactingSink } from "@keyward/secrets/logging";
import {
  ConfigProblemsError,
  loadConfig,
  type LoadedConfig,
  type SecretDeclaration,
  type SettingsOf,
  type SettingsSchema,
} from "@keyward/secrets/config";
import { createSecretManager } from "@keyward/secrets/factory";
import { z } from "zod";

/** The service's name, the root of its log categories (set by {@linkcode installRedaction}). */
let serviceName = "keyward-example";

/** The redactor every value the service reads is registered with. */
export const redactor: Redactor = new Redactor();

/** Registers a secret's values (the whole value and each field) with the redactor. */
export function protect(name: string, read: SecretRead | string): void {
  const value = typeof read === "string" ? read : read.value;
  redactor.register(name, value);
  try {
    const fields = JSON.parse(value);
    if (fields && typeof fields === "object") {
      for (const [field, v] of Object.entries(fields)) {
        if (typeof v === "string") redactor.register(`${name}:${field}`, v);
      }
    }
  } catch {
    // a single value
  }
}

/**
 * Redacts console output, LogTape records and uncaught errors; an uncaught
 * error prints redacted and the process exits 1.
 */
export async function installRedaction(service: string, level: string): Promise<Logger> {
  serviceName = service;
  redactConsole(redactor);
  const lowestLevel = (["debug", "info", "warning", "error"].includes(level) ? level : "info") as
    | "debug"
    | "info"
    | "warning"
    | "error";
  await configure({
    reset: true,
    sinks: { console: redactingSink(getConsoleSink(), redactor) },
    loggers: [
      { category: ["keyward"], lowestLevel: "warning", sinks: ["console"] },
      { category: [service], lowestLevel, sinks: ["console"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
  const onError = (error: unknown) => {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    console.error(`${service}: uncaught error: ${redactor.redact(text)}`);
    Deno.exit(1);
  };
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    onError(event.error);
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    onError(event.reason);
  });
  return getLogger([service]);
}

/** Prints a start-up failure by name (never a value) and exits: 2 for configuration, 4 for access. */
export function failStart(service: string, err: unknown): never {
  if (err instanceof ConfigProblemsError) {
    console.error(`${service}: cannot start: ${err.message}`);
    const access = err.problems.some((p) => p.code === "access");
    Deno.exit(access ? 4 : 2);
  }
  const code = (err as KeywardError)?.code;
  const message = err instanceof Error ? err.message : String(err);
  console.error(`${service}: cannot start: ${redactor.redact(message)}`);
  Deno.exit(code === "access" ? 4 : code === "config" ? 2 : 1);
}

/**
 * Calls `onChange` when the version of `name` that the manager serves
 * differs from `version`. With a cached manager subscribed to rotation
 * events the read is a cache hit until an event refetches the secret, so a
 * short interval costs no backend call. A failure (the backend, or
 * `onChange` refusing the new version) is retried on the next tick and
 * logged as a warning once until it changes or the watch succeeds.
 */
export function watchSecret(
  manager: SecretManager,
  name: string,
  version: string,
  onChange: (read: SecretRead) => Promise<void>,
  intervalMs = 200,
): () => void {
  let current = version;
  let busy = false;
  let lastFailure: string | undefined;
  const log = getLogger([serviceName, "watch"]);
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const read = await manager.readSecret(name);
      if (read.version !== current) {
        protect(name, read);
        await onChange(read);
        current = read.version;
      }
      lastFailure = undefined;
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      if (error !== lastFailure) {
        lastFailure = error;
        log.warn("Watching {secret} failed (retrying every {intervalMs} ms): {error}", {
          secret: name,
          intervalMs,
          error,
        });
      }
    } finally {
      busy = false;
    }
  }, intervalMs);
  return () => clearInterval(timer);
}

/**
 * Serves `handler` on `hostname:port` and prints the "listening on" line; a
 * port that cannot be bound stops the start with a message naming it (exit 1).
 */
export function serve(
  service: string,
  hostname: string,
  port: number,
  handler: Deno.ServeHandler,
): Deno.HttpServer<Deno.NetAddr> {
  try {
    return Deno.serve({
      hostname,
      port,
      onListen: (addr) =>
        console.log(`${service} listening on http://${addr.hostname}:${addr.port}`),
    }, handler);
  } catch (err) {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    failStart(service, new Error(`cannot listen on ${hostname}:${port} (${reason})`));
  }
}

/** Stops on SIGTERM or SIGINT: runs `stop` once, then exits 0. */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await stop();
    } finally {
      Deno.exit(0);
    }
  };
  Deno.addSignalListener("SIGTERM", handler);
  Deno.addSignalListener("SIGINT", handler);
}

/** The bootstrap credentials a service may read from its environment (they reach the manager). */
export const BOOTSTRAP: readonly string[] = [
  "VAULT_TOKEN",
  "VAULT_SECRET_ID",
  "KEYWARD_FILE_KEY",
  "KEYWARD_SNAPSHOT_KEY",
];

/** The settings both services share; each adds its own with `.extend()`. */
export function baseSettings(port: number) {
  return z.object({
    HOST: z.string().default("127.0.0.1"),
    PORT: z.coerce.number().int().min(0).max(65535).default(port),
    LOG_LEVEL: z.enum(["debug", "info", "warning", "error"]).default("info"),
    DRY_RUN: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  });
}

/**
 * The start-up every service does: the manager from `createSecretManager()`,
 * the settings and secrets through `loadConfig`, every secret value (and
 * field) registered with the redactor; a problem ends the process by name.
 */
export async function loadService<
  S extends SettingsSchema,
  D extends Record<string, SecretDeclaration>,
>(
  service: string,
  settings: S,
  secrets: D,
): Promise<LoadedConfig<SettingsOf<S>, D> & { manager: SecretManager }> {
  try {
    const manager = await createSecretManager();
    const config = await loadConfig({ settings, secrets, manager, bootstrap: BOOTSTRAP });
    for (const [key, decl] of Object.entries(secrets)) {
      const held = (config.secrets as Record<string, Secret | Record<string, Secret>>)[key];
      if (held instanceof Secret) protect(decl.name, held.reveal());
      else {for (const [field, s] of Object.entries(held)) {
          protect(`${decl.name}:${field}`, s.reveal());
        }}
    }
    return { ...config, manager };
  } catch (err) {
    failStart(service, err);
  }
}
