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
