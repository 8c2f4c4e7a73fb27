/**
 * keyward: one `SecretManager` interface over Vault, AWS Secrets Manager, the
 * environment and an encrypted local file, with rotation stages, a cache
 * that rides out outages, an audit trail and redaction.
 *
 * This entry uses web standards only (`fetch`, WebCrypto, streams) so it runs
 * on Deno, Node, Deno Deploy and Cloudflare Workers. It reads no environment
 * and touches no file.
 *
 * @example
 * ```ts
 * import { MemorySecretManager, Secret } from "@keyward/secrets";
 *
 * const secrets = new MemorySecretManager({ initial: { "alpaca/api_key_id": "PKDEMO0000000000" } });
 * const key = new Secret(await secrets.getSecret("alpaca/api_key_id"));
 * if (`${key}` !== "[REDACTED]") throw new Error();
 * ```
 *
 * @module
 */

export * from "./core/types.ts";
export * from "./core/errors.ts";
export {
  MAX_NAME_LENGTH,
  MAX_VALUE_BYTES,
  nameProblem,
  normalizeValue,
  RESERVED_PREFIX,
  selectValue,
  sortFields,
  utf8Length,
  validateName,
  validatePrefix,
  validateReadOptions,
  validateWriteOptions,
  VALUE_FIELD,
} from "./core/names.ts";
export { fingerprint, Secret } from "./core/secret.ts";
export { withNamespace } from "./core/namespace.ts";
export { type MemoryOptions, MemorySecretManager } from "./backends/memory.ts";
export { envKeyFor, type EnvOptions, EnvSecretManager, nameForEnvKey } from "./backends/env.ts";
export {
  type CachedSecretManager,
  type CacheOptions,
  type CacheStats,
  DEFAULT_CACHE_MAX_ENTRIES,
  DEFAULT_CACHE_STALE_MS,
  DEFAULT_CACHE_TTL_MS,
  withCache,
} from "./cache/cached_manager.ts";
export { MemorySnapshotStore, type SnapshotOptions, type SnapshotStore } from "./cache/snapshot.ts";
export {
  InMemoryRotationEvents,
  type RotationEvents,
  type RotationListener,
} from "./cache/rotation_events.ts";
