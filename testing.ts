/**
 * Test helpers for keyward users and for keyward itself: the memory backend,
 * a fault-injecting wrapper and the contract suite every backend runs.
 *
 * @example Running the contract suite against your own backend
 * ```ts
 * import { contractSuite, MemorySecretManager } from "@keyward/secrets/testing";
 *
 * for (const c of contractSuite({ create: () => new MemorySecretManager() }).slice(0, 2)) {
 *   await c.fn();
 * }
 * ```
 *
 * @module
 */

export { type MemoryOptions, MemorySecretManager } from "./backends/memory.ts";
export { type ContractCase, contractSuite, type ContractTarget } from "./testing/contract.ts";
export { type Fault, FaultyManager } from "./testing/faults.ts";
export { RecordingAuditSink } from "./testing/recording_sink.ts";
export type { LogLevelName, LogRecordLike } from "./redact/logging.ts";
export type { CliIo } from "./cli/_io.ts";
export {
  type Canary,
  type CanaryChannel,
  type CanaryContext,
  CanaryLeakError,
  type CanaryOptions,
  type CanaryReport,
  type CaptureIo,
  captureIo,
  type CaptureIoOptions,
  runCanary,
} from "./testing/canary.ts";
