/**
 * The env backend: secrets from environment variables and the text of a
 * `.env` file, read-only.
 *
 * It reads no environment by itself: the caller passes a `lookup` function
 * (`(k) => Deno.env.get(k)` or `(k) => process.env[k]`) and, optionally, the
 * text of a `.env` file, so the module stays runtime-neutral.
 *
 * Mapping (DESIGN.md): a name maps to a variable by upper-casing it and
 * turning `/`, `-` and `.` into `_` (`alpaca/api_key_id` -> `ALPACA_API_KEY_ID`).
 * Listing maps back by splitting at the first `_` (`ALPACA_API_KEY_ID` ->
 * `alpaca/api_key_id`). The reverse mapping is lossy: `alpaca-markets/key`
 * and `alpaca/markets_key` both live in `ALPACA_MARKETS_KEY`, and listing
 * shows that variable as `alpaca/markets_key`. Every listed name reads back.
 *
 * @module
 */

import { parseDotenv } from "../core/_dotenv.ts";
import { assertOpen, checkSignal, warnIfNotFound } from "../core/_backend_util.ts";
import { ConfigError, SecretNotFoundError, UnsupportedOperationError } from "../core/errors.ts";
import { keywardLogger } from "../core/log.ts";
import {
  nameProblem,
  selectValue,
  validateName,
  validatePrefix,
  validateReadOptions,
} from "../core/names.ts";
import type {
  DeleteOptions,
  ReadOptions,
  SecretManager,
  SecretMetadata,
  SecretRead,
  SecretValue,
  SecretVersion,
  SignalOptions,
  WriteOptions,
} from "../core/types.ts";

/**
 * Options of {@linkcode EnvSecretManager}.
 *
 * @example The environment over a `.env` text, listing one prefix
 * ```ts
 * import { EnvSecretManager } from "@keyward/secrets";
 *
 * const environment: Record<string, string> = { ALPACA_API_KEY_ID: "PKFROMENV0000000", HOME: "/home/app" };
 * const secrets = new EnvSecretManager({
 *   lookup: (key) => environment[key],
 *   keys: () => Object.keys(environment),
 *   dotenv: "ALPACA_API_KEY_ID=PKFROMFILE000000\nDB_PASSWORD=pw-from-dotenv\n",
 *   listPrefixes: ["ALPACA_"],
 *   now: () => 0,
 * });
 * if (await secrets.getSecret("alpaca/api_key_id") !== "PKFROMENV0000000") throw new Error("env wins");
 * if (await secrets.getSecret("db/password") !== "pw-from-dotenv") throw new Error();
 * const listed = await secrets.listSecrets();
 * if (listed.includes("home")) throw new Error("HOME is not under a listed prefix");
 * ```
 */
export interface EnvOptions {
  /**
   * Looks up one environment variable, e.g. `(k) => Deno.env.get(k)` or
   * `(k) => process.env[k]`. It wins over the `.env` text (the dotenv
   * convention: the process environment overrides the file).
   */
  lookup: (key: string) => string | undefined;
  /**
   * The text of a `.env` file, parsed the way `npm:dotenv`'s `parse` does (by
   * a parser of our own, since dotenv loads Node built-ins). Its variables are
   * read when `lookup` has none (or an empty one) and are always listed.
   * @default {undefined} (no file)
   */
  dotenv?: string;
  /**
   * Enumerates the variables `lookup` can see; used only to list the
   * variables whose names start with one of `listPrefixes`.
   * @default {undefined} (required when `listPrefixes` is given)
   */
  keys?: () => Iterable<string>;
  /**
   * Variable-name prefixes (e.g. `["ALPACA_"]`) whose variables `listSecrets`
   * lists besides those of the `.env` text. The rest of the environment is
   * never listed.
   * @default {[]}
   */
  listPrefixes?: string[];
  /**
   * The clock, in epoch milliseconds; stamps the `createdAt` of the single
   * `env` version (the time the manager was created).
   * @default {Date.now}
   */
  now?: () => number;
}

const BACKEND = "env";
/** The one version id the env backend has. */
const ENV_VERSION = "env";
const ENV_KEY = /^[A-Z0-9_]+$/;

/**
 * The variable a secret name lives in: upper case, with `/`, `-` and `.`
 * turned into `_`. Throws `InvalidSecretNameError` for an invalid name.
 *
 * @example
 * ```ts
 * import { envKeyFor } from "@keyward/secrets";
 * if (envKeyFor("alpaca/api_key_id") !== "ALPACA_API_KEY_ID") throw new Error();
 * if (envKeyFor("db.main/pass-word") !== "DB_MAIN_PASS_WORD") throw new Error();
 * ```
 */
export function envKeyFor(name: string): string {
  validateName(name);
  return name.toUpperCase().replace(/[/.-]/g, "_");
}

/**
 * The secret name listing shows for a variable: lower case, split at the
 * first `_` (`ALPACA_API_KEY_ID` -> `alpaca/api_key_id`). Lossy: the name
 * that was written may have had `-`, `.` or more `/`, but the name returned
 * always maps back to the same variable. Returns `undefined` for a variable
 * no valid name maps to (lower-case letters, other characters, a leading or
 * trailing `_`).
 *
 * @example
 * ```ts
 * import { nameForEnvKey } from "@keyward/secrets";
 * if (nameForEnvKey("ALPACA_API_KEY_ID") !== "alpaca/api_key_id") throw new Error();
 * if (nameForEnvKey("PORT") !== "port") throw new Error();
 * if (nameForEnvKey("Path") !== undefined) throw new Error();
 * ```
 */
export function nameForEnvKey(key: string): string | undefined {
  if (typeof key !== "string" || !ENV_KEY.test(key)) return undefined;
  const lower = key.toLowerCase();
  const cut = lower.indexOf("_");
  const name = cut === -1 ? lower : `${lower.slice(0, cut)}/${lower.slice(cut + 1)}`;
  if (nameProblem(name) !== undefined) return undefined;
  return name;
}

/**
 * A read-only {@linkcode SecretManager} over environment variables and a
 * `.env` text. Each secret has one version, `env`, holding the `current`
 * stage; other stages and versions are `SecretNotFoundError`, writes are
 * `UnsupportedOperationError`. An empty variable counts as missing. A value
 * that is a JSON object of strings can be read by `field`; `field: "value"`
 * of a plain value returns the value.
 *
 * @example
 * ```ts
 * import { EnvSecretManager } from "@keyward/secrets";
 *
 * const environment: Record<string, string> = { ALPACA_API_KEY_ID: "PKFROMENV000000" };
 * const secrets = new EnvSecretManager({
 *   lookup: (key) => environment[key],
 *   dotenv: "ALPACA_API_KEY_ID=PKFROMFILE00000\nDATABASE_LOGIN={\"user\":\"app\",\"password\":\"pw-123456\"}\n",
 * });
 * if (await secrets.getSecret("alpaca/api_key_id") !== "PKFROMENV000000") throw new Error();
 * if (await secrets.getSecret("database/login", { field: "user" }) !== "app") throw new Error();
 * const names = await secrets.listSecrets();
 * if (names.join() !== "alpaca/api_key_id,database/login") throw new Error();
 * ```
 */
export class EnvSecretManager implements SecretManager {
  readonly #lookup: (key: string) => string | undefined;
  readonly #file: Map<string, string>;
  readonly #keys?: () => Iterable<string>;
  readonly #prefixes: string[];
  readonly #loadedAt: number;
  readonly #log = keywardLogger("backend", BACKEND);
  #closed = false;

  /** Creates the manager; throws `ConfigError` naming a bad option. */
  constructor(options: EnvOptions) {
    if (typeof options?.lookup !== "function") {
      throw new ConfigError("option lookup of the env backend must be a function", {
        backend: BACKEND,
      });
    }
    if (options.dotenv !== undefined && typeof options.dotenv !== "string") {
      throw new ConfigError("option dotenv of the env backend must be the text of a .env file", {
        backend: BACKEND,
      });
    }
    if (options.keys !== undefined && typeof options.keys !== "function") {
      throw new ConfigError("option keys of the env backend must be a function", {
        backend: BACKEND,
      });
    }
    const prefixes = options.listPrefixes ?? [];
    if (!Array.isArray(prefixes)) {
      throw new ConfigError("option listPrefixes of the env backend must be an array", {
        backend: BACKEND,
      });
    }
    for (const prefix of prefixes) {
      if (typeof prefix !== "string" || !ENV_KEY.test(prefix)) {
        throw new ConfigError(
          "option listPrefixes of the env backend must hold variable-name prefixes of " +
            "upper-case letters, digits and '_' (e.g. ALPACA_)",
          { backend: BACKEND },
        );
      }
    }
    if (prefixes.length > 0 && options.keys === undefined) {
      throw new ConfigError(
        "option listPrefixes of the env backend needs option keys (the variables to list from)",
        { backend: BACKEND },
      );
    }
    this.#lookup = options.lookup;
    this.#file = new Map(Object.entries(options.dotenv ? parseDotenv(options.dotenv) : {}));
    if (options.keys !== undefined) this.#keys = options.keys;
    this.#prefixes = [...prefixes];
    this.#loadedAt = (options.now ?? Date.now)();
  }

  /** {@inheritDoc SecretManager.getSecret} */
  getSecret(name: string, opts: ReadOptions = {}): Promise<string> {
    return this.readSecret(name, opts).then((read) => read.value);
  }

  /** {@inheritDoc SecretManager.readSecret} The version is always `"env"`, the stage `current`. */
  readSecret(name: string, opts: ReadOptions = {}): Promise<SecretRead> {
    try {
      this.#enter(opts.signal);
      validateName(name);
      validateReadOptions(name, opts);
      this.#checkStageAndVersion(name, opts);
      const value = this.#valueOf(name);
      return Promise.resolve({
        value: opts.field === undefined ? value : this.#field(name, value, opts.field),
        version: ENV_VERSION,
        stage: "current",
      });
    } catch (err) {
      return Promise.reject(warnIfNotFound(this.#log, err));
    }
  }

  /** {@inheritDoc SecretManager.listSecrets} */
  listSecrets(prefix = "", opts: SignalOptions = {}): Promise<string[]> {
    try {
      this.#enter(opts.signal);
      validatePrefix(prefix);
      const keys = new Set(this.#file.keys());
      if (this.#prefixes.length > 0 && this.#keys) {
        for (const key of this.#keys()) {
          if (typeof key === "string" && this.#prefixes.some((p) => key.startsWith(p))) {
            keys.add(key);
          }
        }
      }
      const names = new Set<string>();
      for (const key of keys) {
        const name = nameForEnvKey(key);
        if (name === undefined || !name.startsWith(prefix)) continue;
        if (this.#raw(key) !== undefined) names.add(name);
      }
      return Promise.resolve([...names].sort());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Always `UnsupportedOperationError`: the env backend cannot write. */
  setSecret(name: string, _value: SecretValue, opts: WriteOptions = {}): Promise<SecretVersion> {
    return this.#refuse("setSecret", name, opts.signal);
  }

  /** {@inheritDoc SecretManager.describeSecret} */
  describeSecret(name: string, opts: SignalOptions = {}): Promise<SecretMetadata> {
    try {
      this.#enter(opts.signal);
      validateName(name);
      this.#valueOf(name);
      const createdAt = new Date(this.#loadedAt);
      return Promise.resolve({
        name,
        backend: BACKEND,
        versions: [{ name, version: ENV_VERSION, stages: ["current"], createdAt }],
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Always `UnsupportedOperationError`: the env backend has no stages to move. */
  promote(name: string, _version: string, opts: SignalOptions = {}): Promise<SecretVersion> {
    return this.#refuse("promote", name, opts.signal);
  }

  /** Always `UnsupportedOperationError`: the env backend keeps no versions. */
  deprecateVersion(name: string, _version: string, opts: SignalOptions = {}): Promise<void> {
    return this.#refuse("deprecateVersion", name, opts.signal);
  }

  /** Always `UnsupportedOperationError`: the env backend keeps no versions. */
  destroyVersion(name: string, _version: string, opts: SignalOptions = {}): Promise<void> {
    return this.#refuse("destroyVersion", name, opts.signal);
  }

  /** Always `UnsupportedOperationError`: the env backend cannot delete. */
  deleteSecret(name: string, opts: DeleteOptions = {}): Promise<void> {
    return this.#refuse("deleteSecret", name, opts.signal);
  }

  /** {@inheritDoc SecretManager.close} */
  close(): Promise<void> {
    this.#closed = true;
    this.#file.clear();
    return Promise.resolve();
  }

  #refuse(operation: string, name: string, signal: AbortSignal | undefined): Promise<never> {
    try {
      this.#enter(signal);
      validateName(name);
      throw new UnsupportedOperationError(
        operation,
        { secret: name, backend: BACKEND },
        "environment variables are read-only; change them where the process is started",
      );
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #checkStageAndVersion(name: string, opts: ReadOptions): void {
    if (opts.stage !== undefined && opts.stage !== "current") {
      throw new SecretNotFoundError(
        { secret: name, stage: opts.stage, backend: BACKEND },
        "the env backend holds only the current stage",
      );
    }
    if (opts.version !== undefined && opts.version !== ENV_VERSION) {
      throw new SecretNotFoundError(
        { secret: name, version: opts.version, backend: BACKEND },
        `the env backend has one version, ${JSON.stringify(ENV_VERSION)}`,
      );
    }
  }

  /** The non-empty value of a variable: the lookup first, then the `.env` text. */
  #raw(key: string): string | undefined {
    const fromEnv = this.#lookup(key);
    if (typeof fromEnv === "string" && fromEnv !== "") return fromEnv;
    const fromFile = this.#file.get(key);
    return fromFile === undefined || fromFile === "" ? undefined : fromFile;
  }

  #valueOf(name: string): string {
    const key = envKeyFor(name);
    const value = this.#raw(key);
    if (value === undefined) {
      throw new SecretNotFoundError(
        { secret: name, backend: BACKEND },
        `no variable ${key} is set (an empty one counts as missing)`,
      );
    }
    return value;
  }

  #field(name: string, value: string, field: string): string {
    const fields = jsonFields(value) ?? { value };
    return selectValue(fields, field, {
      secret: name,
      stage: "current",
      version: ENV_VERSION,
      backend: BACKEND,
    });
  }

  #enter(signal: AbortSignal | undefined): void {
    assertOpen(this.#closed, BACKEND);
    checkSignal(signal);
  }
}

/** The fields of a value that is a JSON object of strings, else `undefined`. */
function jsonFields(value: string): Record<string, string> | undefined {
  if (!value.trimStart().startsWith("{")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined; // the parser's message may quote the value: never kept
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const fields: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== "string") return undefined;
    fields[k] = v;
  }
  return fields;
}
