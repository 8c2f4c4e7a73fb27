/**
 * The Postgres parts of keyward: the audit sink, rotation events over
 * LISTEN/NOTIFY, and the migrations that create their tables. Uses
 * `npm:postgres`; never imported by `mod.ts`.
 *
 * @module
 */

export {
  PostgresRotationEvents,
  type PostgresRotationEventsOptions,
  ROTATION_CHANNEL,
} from "./cache/pg_rotation_events.ts";
export {
  applyMigrations,
  type ApplyMigrationsOptions,
  type Migration,
  MIGRATION_LOCK_NAME,
  migrationChecksum,
  type MigrationReport,
} from "./migrations/apply.ts";
export { MIGRATIONS } from "./migrations/_sql.ts";
export {
  PostgresAuditSink,
  type PostgresAuditSinkOptions,
  type PostgresAuditSinkStats,
  postgresSinkFromSecret,
} from "./audit/pg_sink.ts";
export {
  type AuditQuery,
  auditStats,
  type AuditStatsRow,
  pruneAuditLog,
  type PruneOptions,
  type PruneReport,
  queryAuditLog,
  type RawAuditRow,
  readAnchors,
  rowFromDb,
  streamAuditRows,
  verifyPostgresAudit,
  type VerifyPostgresOptions,
} from "./audit/pg_store.ts";
export {
  checkpointFileWriter,
  mergeCheckpoints,
  readCheckpointFile,
  writeCheckpointFile,
} from "./audit/checkpoint_file.ts";
