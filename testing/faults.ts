/**
 * A fault-injecting backend wrapper for tests: take a backend down, make it
 * slow, throttle or deny, and count the calls that reach it.
 *
 * @module
 */

import { ForwardingSecretManager } from "../core/_forwarding.ts";
import { SecretAccessError } from "../core/errors.ts";
import { sleep } from "../core/retry.ts";
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
 * The fault a {@linkcode FaultyManager} injects into every call: each is a
 * `SecretAccessError` with its own `reason` (`none` injects nothing).
 *
 * @example
 * ```ts
 * import { SecretAccessError } from "@keyward/secrets";
 * import { type Fault, FaultyManager, MemorySecretManager } from "@keyward/secrets/testing";
 *
 * const faulty = new FaultyManager(new MemorySecretManager({ initial: { "a/b": "value-1234" } }));
 * const reasons: string[] = [];
 * for (const fault of ["down", "throttle", "timeout", "deny"] satisfies Fault[]) {
 *   faulty.fault = fault;
 *   await faulty.getSecret("a/b").catch((err) => {
 *     if (err instanceof SecretAccessError) reasons.push(err.reason);
 *   });
 * }
 * if (reasons.join() !== "unreachable,throttled,timeout,denied") throw new Error(reasons.join());
 * ```
 */
export type Fault = "none" | "down" | "throttle" | "deny" | "timeout";

/**
 * Wraps a manager and injects faults on demand.
 *
 * @example Taking the backend down
 * ```ts
 * import { FaultyManager, MemorySecretManager } from "@keyward/secrets/testing";
 *
 * const faulty = new FaultyManager(new MemorySecretManager({ initial: { "a/b": "value-1234" } }));
 * faulty.fault = "down";
 * await faulty.getSecret("a/b").then(() => { throw new Error("served"); }, () => {});
 * faulty.fault = "none";
 * if (await faulty.getSecret("a/b") !== "value-1234") throw new Error();
 * if (faulty.calls.get !== 2) throw new Error();
 * ```
 */
export class FaultyManager extends ForwardingSecretManager {
  /** The fault injected into every call until changed. */
  fault: Fault = "none";
  /** Extra latency added to every call, in milliseconds. */
  delayMs = 0;
  /** Calls that reached the wrapper, per operation (faulted ones included). */
  readonly calls: Record<
    "get" | "list" | "set" | "describe" | "promote" | "delete" | "lifecycle",
    number
  > = {
    get: 0,
    list: 0,
    set: 0,
    describe: 0,
    promote: 0,
    delete: 0,
    lifecycle: 0,
  };

  /** Wraps `inner`. */
  constructor(inner: SecretManager) {
    super(inner);
  }

  /** Total calls across operations. */
  get totalCalls(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  async #gate(
    op: keyof FaultyManager["calls"],
    name: string | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    this.calls[op] += 1;
    if (this.delayMs > 0) {
      await sleep(this.delayMs, signal);
    }
    const ctx = { backend: "faulty", ...(name === undefined ? {} : { secret: name }) };
    switch (this.fault) {
      case "down":
        throw new SecretAccessError(ctx, "backend unreachable (injected)", "unreachable");
      case "throttle":
        throw new SecretAccessError(ctx, "throttled (injected)", "throttled");
      case "timeout":
        throw new SecretAccessError(ctx, "timed out (injected)", "timeout");
      case "deny":
        throw new SecretAccessError(ctx, "permission denied (injected)", "denied");
    }
  }

  /** {@inheritDoc SecretManager.getSecret} */
  override async getSecret(name: string, opts?: ReadOptions): Promise<string> {
    await this.#gate("get", name, opts?.signal);
    return await this.inner.getSecret(name, opts);
  }
  /** {@inheritDoc SecretManager.readSecret} */
  override async readSecret(name: string, opts?: ReadOptions): Promise<SecretRead> {
    await this.#gate("get", name, opts?.signal);
    return await this.inner.readSecret(name, opts);
  }
  /** {@inheritDoc SecretManager.deprecateVersion} */
  override async deprecateVersion(
    name: string,
    version: string,
    opts?: SignalOptions,
  ): Promise<void> {
    await this.#gate("lifecycle", name, opts?.signal);
    return await this.inner.deprecateVersion(name, version, opts);
  }
  /** {@inheritDoc SecretManager.destroyVersion} */
  override async destroyVersion(
    name: string,
    version: string,
    opts?: SignalOptions,
  ): Promise<void> {
    await this.#gate("lifecycle", name, opts?.signal);
    return await this.inner.destroyVersion(name, version, opts);
  }
  /** {@inheritDoc SecretManager.listSecrets} */
  override async listSecrets(prefix?: string, opts?: SignalOptions): Promise<string[]> {
    await this.#gate("list", undefined, opts?.signal);
    return await this.inner.listSecrets(prefix, opts);
  }
  /** {@inheritDoc SecretManager.setSecret} */
  override async setSecret(
    name: string,
    value: SecretValue,
    opts?: WriteOptions,
  ): Promise<SecretVersion> {
    await this.#gate("set", name, opts?.signal);
    return await this.inner.setSecret(name, value, opts);
  }
  /** {@inheritDoc SecretManager.describeSecret} */
  override async describeSecret(name: string, opts?: SignalOptions): Promise<SecretMetadata> {
    await this.#gate("describe", name, opts?.signal);
    return await this.inner.describeSecret(name, opts);
  }
  /** {@inheritDoc SecretManager.promote} */
  override async promote(
    name: string,
    version: string,
    opts?: SignalOptions,
  ): Promise<SecretVersion> {
    await this.#gate("promote", name, opts?.signal);
    return await this.inner.promote(name, version, opts);
  }
  /** {@inheritDoc SecretManager.deleteSecret} */
  override async deleteSecret(name: string, opts?: DeleteOptions): Promise<void> {
    await this.#gate("delete", name, opts?.signal);
    return await this.inner.deleteSecret(name, opts);
  }
}
