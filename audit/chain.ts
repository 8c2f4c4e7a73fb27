/**
 * The audit hash chain: every event of one writer instance is sealed with
 * HMAC-SHA-256 over the previous event's MAC and the event's canonical
 * fields, under an audit key the database never holds.
 *
 * @module
 */

import { encodeBase64 } from "../core/base64.ts";
import { decodeKey } from "../core/_key.ts";
import { ConfigError } from "../core/errors.ts";
import type { SecretManager } from "../core/types.ts";
import { Hmac256, toHex } from "./_hmac.ts";
import type { AuditAction, AuditEvent, ChainHead, SealedAuditEvent } from "./types.ts";

// Audit times at the precision the stores keep: whole microseconds (Postgres
// `timestamptz`; the JSON-lines sink writes the same digits), so the chain's
// MAC covers every digit that is stored. Here rather than in a module of their
// own: every module loaded at import costs start-up time (issue 18).

/** `ms` rounded to whole microseconds. */
export function toMicros(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/**
 * ISO 8601 text of `ms` (epoch milliseconds, possibly with a microsecond
 * fraction): three fractional digits when it is a whole millisecond (as
 * `Date#toISOString`), six otherwise.
 */
export function isoMicros(ms: number): string {
  const us = Math.round(ms * 1000);
  const whole = Math.floor(us / 1000);
  const iso = new Date(whole).toISOString();
  const sub = us - whole * 1000;
  return sub === 0 ? iso : `${iso.slice(0, -1)}${String(sub).padStart(3, "0")}Z`;
}

/** Parses what {@linkcode isoMicros} writes (any ISO 8601 text), keeping microseconds. */
export function parseIsoMicros(text: string): number {
  const ms = Date.parse(text);
  const m = /\.\d{3}(\d{1,3})(?:Z|[+-]\d\d:?\d\d)$/.exec(text);
  if (!m || Number.isNaN(ms)) return ms;
  return (Math.round(ms * 1000) + Number(m[1].padEnd(3, "0"))) / 1000;
}

/**
 * Every {@linkcode AuditAction}.
 *
 * @example Checking an action read from outside (a query parameter, a CLI flag)
 * ```ts
 * import { AUDIT_ACTIONS, type AuditAction } from "@keyward/secrets";
 *
 * const actions: readonly string[] = AUDIT_ACTIONS;
 * const isAction = (s: string): s is AuditAction => actions.includes(s);
 * if (!isAction("rotate") || isAction("read")) throw new Error();
 * ```
 */
export const AUDIT_ACTIONS: readonly AuditAction[] = [
  "get",
  "list",
  "set",
  "describe",
  "promote",
  "delete",
  "rotate",
  "dropped",
];

/**
 * The `prevMac` of a chain's first event.
 *
 * @example
 * ```ts
 * import { AuditChain, AuditKey, GENESIS_MAC } from "@keyward/secrets";
 *
 * const chain = new AuditChain(AuditKey.fromBase64(btoa("k".repeat(32))));
 * const first = chain.seal({
 *   accessedAtMs: 0, service: "api", secretName: "db/password", action: "get",
 *   outcome: "ok", source: "backend", backend: "memory", version: null,
 *   latencyMs: 1, errorCode: null, count: 1,
 * });
 * if (first.prevMac !== GENESIS_MAC || GENESIS_MAC.length !== 64) throw new Error();
 * ```
 */
export const GENESIS_MAC: string = /* @__PURE__ */ "0".repeat(64);

/**
 * The shortest audit key accepted, in bytes.
 *
 * @example
 * ```ts
 * import { AuditKey, ConfigError, MIN_AUDIT_KEY_BYTES } from "@keyward/secrets";
 *
 * AuditKey.fromBytes(new Uint8Array(MIN_AUDIT_KEY_BYTES)); // accepted
 * try {
 *   AuditKey.fromBytes(new Uint8Array(MIN_AUDIT_KEY_BYTES - 1));
 *   throw new Error("a short key was accepted");
 * } catch (err) {
 *   if (!(err instanceof ConfigError)) throw err;
 * }
 * ```
 */
export const MIN_AUDIT_KEY_BYTES = 32;

const encoder = /* @__PURE__ */ new TextEncoder();

/**
 * The key audit events are sealed under. Keep it in the secret manager (or,
 * as a bootstrap credential, in `KEYWARD_AUDIT_KEY`), never in the database
 * that holds the log.
 *
 * @example
 * ```ts
 * import { AuditKey } from "@keyward/secrets";
 *
 * const key = AuditKey.fromBase64(btoa("k".repeat(32)));
 * if (key.toString() !== "[AuditKey]") throw new Error();
 * ```
 */
export class AuditKey {
  readonly #bytes: Uint8Array<ArrayBuffer>;
  readonly #hmac: Hmac256;
  #crypto?: Promise<CryptoKey>;

  private constructor(bytes: Uint8Array) {
    if (bytes.length < MIN_AUDIT_KEY_BYTES) {
      throw new ConfigError(
        `the audit key must hold at least ${MIN_AUDIT_KEY_BYTES} bytes (it holds ${bytes.length})`,
      );
    }
    this.#bytes = bytes.slice();
    this.#hmac = new Hmac256(this.#bytes);
  }

  /** A key from raw bytes (at least 32). */
  static fromBytes(bytes: Uint8Array): AuditKey {
    return new AuditKey(bytes);
  }

  /** A key from base64 text, as `KEYWARD_AUDIT_KEY` holds it. */
  static fromBase64(text: string): AuditKey {
    return new AuditKey(decodeKey(text, { source: "the audit key", atLeast: true }));
  }

  /**
   * Reads the key (base64) from a secret manager; the way production gets it.
   *
   * @example
   * ```ts
   * import { AuditKey, MemorySecretManager } from "@keyward/secrets";
   *
   * const secrets = new MemorySecretManager({ initial: { "keyward/audit_key": btoa("k".repeat(32)) } });
   * const key = await AuditKey.fromSecret(secrets, "keyward/audit_key");
   * if (!(key instanceof AuditKey)) throw new Error();
   * ```
   */
  static async fromSecret(manager: SecretManager, name: string): Promise<AuditKey> {
    return AuditKey.fromBase64(await manager.getSecret(name));
  }

  /** A fresh random 32-byte key, base64 (for `KEYWARD_AUDIT_KEY` or the secret manager). */
  static generateBase64(): string {
    const bytes = crypto.getRandomValues(new Uint8Array(MIN_AUDIT_KEY_BYTES));
    return encodeBase64(bytes);
  }

  /** HMAC-SHA-256 (hex) of `text`, computed in the caller's turn. */
  macHex(text: string): string {
    return toHex(this.#hmac.sign(encoder.encode(text)));
  }

  /** The same key as a WebCrypto HMAC key (used by the verifier). */
  cryptoKey(): Promise<CryptoKey> {
    this.#crypto ??= crypto.subtle.importKey(
      "raw",
      this.#bytes,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    return this.#crypto;
  }

  /** Never shows the key. */
  toString(): string {
    return "[AuditKey]";
  }

  /** Never shows the key. (Inspection shows nothing either: the key is in private fields.) */
  toJSON(): string {
    return "[AuditKey]";
  }
}

/**
 * The text a sealed event's MAC covers: the chain, the position, the previous
 * MAC and every field of the event, in a fixed order.
 *
 * @example Recomputing a sealed event's MAC
 * ```ts
 * import { AuditChain, AuditKey, canonicalEventText } from "@keyward/secrets";
 *
 * const key = AuditKey.fromBase64(btoa("k".repeat(32)));
 * const sealed = new AuditChain(key).seal({
 *   accessedAtMs: 0, service: "api", secretName: "db/password", action: "get",
 *   outcome: "ok", source: "backend", backend: "memory", version: null,
 *   latencyMs: 1, errorCode: null, count: 1,
 * });
 * const { mac, ...unsigned } = sealed;
 * if (key.macHex(canonicalEventText(unsigned)) !== mac) throw new Error();
 * // Any changed field changes the text, so the MAC no longer matches.
 * if (key.macHex(canonicalEventText({ ...unsigned, action: "set" })) === mac) throw new Error();
 * ```
 */
export function canonicalEventText(e: Omit<SealedAuditEvent, "mac">): string {
  return JSON.stringify([
    "keyward-audit-v1",
    e.chainId,
    e.seq,
    e.prevMac,
    e.accessedAtMs,
    e.service,
    e.secretName,
    e.action,
    e.outcome,
    e.source,
    e.backend,
    e.version,
    e.latencyMs,
    e.errorCode,
    e.count,
  ]);
}

/**
 * The text a prune anchor's MAC covers: the chain head that the pruned
 * events ended at, and the cut-off time.
 *
 * @example
 * ```ts
 * import { AuditKey, canonicalAnchorText } from "@keyward/secrets";
 *
 * const key = AuditKey.fromBase64(btoa("k".repeat(32)));
 * const head = { chainId: "chain-1", seq: 41, mac: "ab".repeat(32) };
 * const cutOffMs = 1_700_000_000_000;
 * const anchorMac = key.macHex(canonicalAnchorText({ ...head, prunedBeforeMs: cutOffMs }));
 * // The anchor is bound to its cut-off: another one yields another MAC.
 * const moved = key.macHex(canonicalAnchorText({ ...head, prunedBeforeMs: 0 }));
 * if (anchorMac === moved) throw new Error();
 * ```
 */
export function canonicalAnchorText(a: ChainHead & { prunedBeforeMs: number }): string {
  return JSON.stringify(["keyward-audit-anchor-v1", a.chainId, a.seq, a.mac, a.prunedBeforeMs]);
}

/**
 * Options of {@linkcode AuditChain}.
 *
 * @example A chain id that names the writer, so its rows are easy to find
 * ```ts
 * import { AuditChain, type AuditChainOptions, AuditKey } from "@keyward/secrets";
 *
 * const options: AuditChainOptions = { chainId: `billing-worker-${crypto.randomUUID()}` };
 * const chain = new AuditChain(AuditKey.fromBase64(btoa("k".repeat(32))), options);
 * const sealed = chain.seal({
 *   accessedAtMs: 0, service: "billing", secretName: "db/password", action: "get",
 *   outcome: "ok", source: "backend", backend: "memory", version: null,
 *   latencyMs: 1, errorCode: null, count: 1,
 * });
 * if (sealed.chainId !== options.chainId || chain.head()?.chainId !== options.chainId) {
 *   throw new Error();
 * }
 * ```
 */
export interface AuditChainOptions {
  /**
   * The chain's id.
   * @default {a random UUID: one chain per writer instance}
   */
  chainId?: string;
}

/**
 * Seals events into one hash chain: `seq` without gaps, each MAC over the
 * previous one.
 *
 * @example
 * ```ts
 * import { AuditChain, AuditKey, GENESIS_MAC } from "@keyward/secrets";
 *
 * const chain = new AuditChain(AuditKey.fromBase64(btoa("k".repeat(32))));
 * const event = {
 *   accessedAtMs: 0, service: "api", secretName: "db/password", action: "get" as const,
 *   outcome: "ok" as const, source: "backend" as const, backend: "memory", version: null,
 *   latencyMs: 1, errorCode: null, count: 1,
 * };
 * const first = chain.seal(event);
 * const second = chain.seal(event);
 * if (first.prevMac !== GENESIS_MAC || second.prevMac !== first.mac || second.seq !== 2) throw new Error();
 * ```
 */
export class AuditChain {
  /** The chain's id. */
  readonly chainId: string;
  readonly #key: AuditKey;
  #seq = 0;
  #mac = GENESIS_MAC;

  /** Starts a new chain under `key`. */
  constructor(key: AuditKey, options: AuditChainOptions = {}) {
    this.#key = key;
    this.chainId = options.chainId ?? crypto.randomUUID();
  }

  /** Seals the next event (synchronous; the returned event is a copy). */
  seal(event: AuditEvent): SealedAuditEvent {
    const unsigned = {
      // The stores keep microseconds: the MAC covers the time at exactly that precision.
      accessedAtMs: toMicros(event.accessedAtMs),
      service: event.service,
      secretName: event.secretName,
      action: event.action,
      outcome: event.outcome,
      source: event.source,
      backend: event.backend,
      version: event.version,
      latencyMs: event.latencyMs,
      errorCode: event.errorCode,
      count: event.count,
      chainId: this.chainId,
      seq: this.#seq + 1,
      prevMac: this.#mac,
    };
    const mac = this.#key.macHex(canonicalEventText(unsigned));
    this.#seq = unsigned.seq;
    this.#mac = mac;
    return { ...unsigned, mac };
  }

  /** The last sealed event's position and MAC, or `null` before the first. */
  head(): ChainHead | null {
    return this.#seq === 0 ? null : { chainId: this.chainId, seq: this.#seq, mac: this.#mac };
  }

  /**
   * Continues the chain after `head` (its last stored event, written by this
   * writer in an earlier process), or restarts it with `null`; a sink also
   * uses it to take back events it sealed but could not write.
   *
   * @example Three processes, one chain
   * ```ts
   * import { AuditChain, AuditKey } from "@keyward/secrets";
   *
   * const key = AuditKey.fromBase64(btoa("k".repeat(32)));
   * const event = {
   *   accessedAtMs: 0, service: "cli", secretName: "db/password", action: "get" as const,
   *   outcome: "ok" as const, source: "backend" as const, backend: "file", version: null,
   *   latencyMs: 1, errorCode: null, count: 1,
   * };
   * const first = new AuditChain(key, { chainId: "cli" }).seal(event);
   * const later = new AuditChain(key, { chainId: "cli" });
   * later.resume(first); // the head stored beside the trail
   * const second = later.seal(event);
   * if (second.seq !== 2 || second.prevMac !== first.mac) throw new Error();
   * ```
   */
  resume(head: ChainHead | null): void {
    if (head !== null && head.chainId !== this.chainId) {
      throw new RangeError(`the head belongs to chain ${head.chainId}, not ${this.chainId}`);
    }
    this.#seq = head?.seq ?? 0;
    this.#mac = head?.mac ?? GENESIS_MAC;
  }
}
