/**
 * keyward: one `SecretManager` interface over Vault, AWS Secrets Manager, the
 * environment and an encrypted local file, with rotation stages, a cache
 * that rides out outages, an audit trail and redaction.
 *
 * This entry uses web standards only (`fetch`, WebCrypto, streams) so it runs
 * on Deno, Node, Deno Deploy and Cloudflare Workers. It reads no environment
 * and touches no file. Helpers for writing a backend (name and value checks,
 * the retry loop, error scrubbing) are in `@keyward/secrets/backend-kit`; log
 * redaction (`redactingSink`, `redactConsole`, `configureRedactedLogging`) in
 * `@keyward/secrets/logging`; the leak scanner in `@keyward/secrets/scan`.
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

export type * from "./core/types.ts";
export {
  type AccessReason,
  ConfigError,
  type ErrorCode,
  type ErrorContext,
  exitCodeFor,
  httpStatusFor,
  InvalidSecretNameError,
  InvalidSecretValueError,
  KeywardError,
  ManagerClosedError,
  ScrubbedError,
  SecretAccessError,
  SecretConflictError,
  SecretNotFoundError,
  SecretWriteError,
  UnsupportedOperationError,
} from "./core/errors.ts";
export { MAX_NAME_LENGTH, MAX_VALUE_BYTES, STAGES, VALUE_FIELD } from "./core/names.ts";
export { fingerprint, type FingerprintOptions, Secret } from "./core/secret.ts";
export { withNamespace } from "./core/namespace.ts";
export { DEFAULT_READ_DEADLINE_MS, SecretManagerBase } from "./core/_backend_base.ts";
export { ForwardingSecretManager } from "./core/_forwarding.ts";
export { type MemoryOptions, MemorySecretManager } from "./backends/memory.ts";
export { type VaultAuth, type VaultOptions, VaultSecretManager } from "./backends/vault.ts";
export { DEFAULT_RETRY, type RetryPolicy } from "./core/retry.ts";
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
export {
  type AttachedSnapshot,
  type CacheSnapshot,
  encryptedSnapshot,
  MemorySnapshotStore,
  type SnapshotEntry,
  type SnapshotHost,
  type SnapshotOptions,
  type SnapshotStore,
} from "./cache/snapshot.ts";
export {
  InMemoryRotationEvents,
  type RotationEvents,
  type RotationListener,
} from "./cache/rotation_events.ts";
export {
  encodedForms,
  MIN_REDACT_BYTES,
  type RedactionForm,
  type RedactionMatch,
  Redactor,
} from "./redact/redactor.ts";
export { RedactingSecretManager, withRedaction } from "./redact/manager.ts";
export type {
  AuditAction,
  AuditCheckpoint,
  AuditEvent,
  AuditOutcome,
  AuditRow,
  AuditSink,
  AuditSinkHealth,
  AuditSource,
  ChainHead,
  SealedAuditEvent,
} from "./audit/types.ts";
export {
  AUDIT_ACTIONS,
  AuditChain,
  type AuditChainOptions,
  AuditKey,
  canonicalAnchorText,
  canonicalEventText,
  GENESIS_MAC,
  MIN_AUDIT_KEY_BYTES,
} from "./audit/chain.ts";
export {
  type AuditedSecretManager,
  type AuditOptions,
  AuditUnavailableError,
  type RotationAuditDetails,
  withAudit,
} from "./audit/audited_manager.ts";
export {
  type AuditLineWriter,
  checkpointOf,
  fromJsonLine,
  JsonLinesAuditSink,
  type JsonLinesSinkOptions,
  type JsonLinesSinkStats,
  toJsonLine,
} from "./audit/jsonl_sink.ts";
export {
  type PruneAnchor,
  verifyAuditRows,
  type VerifyDrop,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyProblemKind,
  type VerifyReport,
} from "./audit/verify.ts";
