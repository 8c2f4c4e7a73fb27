/**
 * `SECRET_FALLBACK=env`: for a migration window, the env backend behind the
 * configured one. A read the backend answers with not-found is answered
 * from the environment (and `./.env` or `KEYWARD_ENV_FILE`), with a warning
 * and an audit event of source `fallback`. An access error, an outage or a
 * closed manager is never hidden by the environment: those fail as before.
 *
 * Where it sits: outermost, around the namespaced, cached and audited
 * manager. So the backend's not-found is audited as it happened, then the
 * fallback's serve as its own event; the cache never holds a value that came
 * from the environment (a value written to the backend later is read at
 * once, not after a TTL); and the environment is asked for the service's
 * own name (`alpaca/api_key` -> `ALPACA_API_KEY`), not the namespaced one.
 *
 * @module
 */

import { ForwardingSecretManager } from "../core/_forwarding.ts";
import { SecretNotFoundError } from "../core/errors.ts";
import { keywardLogger } from "../core/log.ts";
import type { ReadOptions, SecretManager, SecretRead } from "../core/types.ts";

/** Called for each read the environment served. */
export type FallbackListener = (name: string, version: string | null) => void;

/** The configured manager, with the environment behind it for not-found reads. */
export class FallbackSecretManager extends ForwardingSecretManager {
  readonly #env: SecretManager;
  readonly #onFallback: FallbackListener | undefined;
  readonly #log = keywardLogger("fallback");

  /** Wraps `primary`; `env` answers what `primary` does not hold. */
  constructor(primary: SecretManager, env: SecretManager, onFallback?: FallbackListener) {
    super(primary);
    this.#env = env;
    this.#onFallback = onFallback;
  }

  /** Whether a not-found of this read may be answered from the environment. */
  #eligible(err: unknown, opts: ReadOptions | undefined): boolean {
    // The environment holds one current value: a version or a pending stage has no answer there.
    return err instanceof SecretNotFoundError && opts?.version === undefined &&
      (opts?.stage === undefined || opts.stage === "current");
  }

  #served(name: string, version: string | null): void {
    this.#log.warn(
      "{secret} is not in the backend; served from the environment (SECRET_FALLBACK=env). " +
        "Move it into the backend (deno task migrate) before turning the fallback off",
      { secret: name },
    );
    this.#onFallback?.(name, version);
  }

  /** {@inheritDoc SecretManager.getSecret} */
  override async getSecret(name: string, opts?: ReadOptions): Promise<string> {
    try {
      return await super.getSecret(name, opts);
    } catch (err) {
      if (!this.#eligible(err, opts)) throw err;
      const read = await this.#fromEnv(name, opts, err);
      return read.value;
    }
  }

  /** {@inheritDoc SecretManager.readSecret} */
  override async readSecret(name: string, opts?: ReadOptions): Promise<SecretRead> {
    try {
      return await super.readSecret(name, opts);
    } catch (err) {
      if (!this.#eligible(err, opts)) throw err;
      return await this.#fromEnv(name, opts, err);
    }
  }

  async #fromEnv(name: string, opts: ReadOptions | undefined, original: unknown) {
    let read: SecretRead;
    try {
      read = await this.#env.readSecret(name, opts);
    } catch (err) {
      // not in the environment either: the backend's not-found stands
      if (err instanceof SecretNotFoundError) throw original;
      throw err;
    }
    this.#served(name, read.version ?? null);
    return read;
  }

  /** Closes both managers. */
  override async close(): Promise<void> {
    try {
      await super.close();
    } finally {
      await this.#env.close();
    }
  }
}
