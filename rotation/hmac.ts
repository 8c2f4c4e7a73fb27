/**
 * HMAC signatures during a rotation: a consumer accepts a signature made
 * with the `current` secret or, during the grace period, the `previous` one.
 * WebCrypto only (runs on the edge).
 *
 * @module
 */

import { SecretNotFoundError } from "../core/errors.ts";

const encoder = new TextEncoder();

function toBytes(data: string | Uint8Array): Uint8Array<ArrayBuffer> {
  return typeof data === "string" ? encoder.encode(data) : new Uint8Array(data);
}

async function hmacHex(secret: string, payload: string | Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, toBytes(payload)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Signs `payload` with HMAC-SHA-256; the hex digest.
 *
 * @example
 * ```ts
 * import { signPayload } from "@keyward/secrets/rotation";
 * const sig = await signPayload("whsec-0123456789abcdef", '{"event":"fill"}');
 * if (!/^[0-9a-f]{64}$/.test(sig)) throw new Error();
 * ```
 */
export function signPayload(secret: string, payload: string | Uint8Array): Promise<string> {
  return hmacHex(secret, payload);
}

/**
 * Which of `secrets` made `signature` (an HMAC-SHA-256 hex digest, an
 * optional `sha256=` prefix allowed): its index, or `-1`. Every candidate
 * is checked, in constant time per comparison.
 *
 * @example A signature made with the previous secret during the grace period
 * ```ts
 * import { matchSignature, signPayload } from "@keyward/secrets/rotation";
 * const body = '{"event":"fill"}';
 * const sig = await signPayload("whsec-old-0123456789", body);
 * if (await matchSignature(body, sig, ["whsec-new-0123456789", "whsec-old-0123456789"]) !== 1) {
 *   throw new Error();
 * }
 * ```
 */
export async function matchSignature(
  payload: string | Uint8Array,
  signature: string,
  secrets: string[],
): Promise<number> {
  const given = signature.trim().replace(/^sha256=/i, "").toLowerCase();
  let found = -1;
  for (let i = 0; i < secrets.length; i++) {
    if (sameText(await hmacHex(secrets[i], payload), given) && found === -1) found = i;
  }
  return found;
}

/**
 * What {@linkcode verifySignature} reads from: any `SecretManager` fits.
 *
 * @example
 * ```ts
 * import type { SignatureSecrets } from "@keyward/secrets/rotation";
 * const fixed: SignatureSecrets = { getSecret: () => Promise.resolve("whsec-0123456789abcdef") };
 * if (await fixed.getSecret("webhooks/signing") !== "whsec-0123456789abcdef") throw new Error();
 * ```
 */
export interface SignatureSecrets {
  /** Reads the value of a stage (`current` when not given). */
  getSecret(name: string, opts?: { stage?: "current" | "previous" }): Promise<string>;
}

/**
 * Verifies a webhook signature against the `current` value of secret
 * `name` and, when there is one, its `previous` value (the grace period of
 * a `random` rotation). Returns the stage that matched, or `undefined`.
 *
 * @example
 * ```ts
 * import { MemorySecretManager } from "@keyward/secrets";
 * import { signPayload, verifySignature } from "@keyward/secrets/rotation";
 *
 * const secrets = new MemorySecretManager({ initial: { "webhooks/signing": "whsec-old-0123456789" } });
 * const body = '{"event":"fill"}';
 * const oldSig = await signPayload("whsec-old-0123456789", body);
 * await secrets.setSecret("webhooks/signing", "whsec-new-0123456789"); // rotated
 * if (await verifySignature(secrets, "webhooks/signing", body, oldSig) !== "previous") throw new Error();
 * if (await verifySignature(secrets, "webhooks/signing", body, "00") !== undefined) throw new Error();
 * ```
 */
export async function verifySignature(
  manager: SignatureSecrets,
  name: string,
  payload: string | Uint8Array,
  signature: string,
): Promise<"current" | "previous" | undefined> {
  const current = await manager.getSecret(name);
  let previous: string | undefined;
  try {
    previous = await manager.getSecret(name, { stage: "previous" });
  } catch (err) {
    if (!(err instanceof SecretNotFoundError)) throw err;
  }
  const candidates = previous === undefined ? [current] : [current, previous];
  const i = await matchSignature(payload, signature, candidates);
  return i === 0 ? "current" : i === 1 ? "previous" : undefined;
}
