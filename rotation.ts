/**
 * What services need during a rotation, web-standard only (runs on the
 * edge): the health answer the rotation's verify step polls, and HMAC
 * signature checks that accept the `current` and `previous` webhook secret
 * during the grace period. The engine itself is reached through the CLI
 * (`deno task rotate`, `deno task secrets rotation ...`).
 *
 * @example A health answer and a signature check
 * ```ts
 * import { MemorySecretManager } from "@keyward/secrets";
 * import { healthAnswer, signPayload, verifySignature } from "@keyward/secrets/rotation";
 *
 * const secrets = new MemorySecretManager({ initial: { "webhooks/signing": "whsec-0123456789abcdef" } });
 * const read = await secrets.readSecret("webhooks/signing");
 * const health = healthAnswer({ "webhooks/signing": read.version }); // bound at start-up
 * if (health.versions["webhooks/signing"] !== read.version) throw new Error();
 * const sig = await signPayload(read.value, "{}");
 * if (await verifySignature(secrets, "webhooks/signing", "{}", sig) !== "current") throw new Error();
 * ```
 *
 * @module
 */

export { type HealthAnswer, healthAnswer, reportedVersion } from "./rotation/health.ts";
export {
  matchSignature,
  type SignatureSecrets,
  signPayload,
  verifySignature,
} from "./rotation/hmac.ts";
