/**
 * The rotation log in Postgres (`secret_rotation_log`, migrations 0002 and
 * 0003), with the advisory-lock implementation of {@linkcode RotationLocks}.
 *
 * @module
 */

import type { Sql } from "postgres";
import type {
  RotationLock,
  RotationLocks,
  RotationLogEntry,
  RotationLogStore,
  StepName,
  StepStatus,
} from "./types.ts";
import { RotationLockedError } from "./types.ts";
import { foldAll } from "./engine.ts";

type Row = Record<string, unknown>;

function toEntry(r: Row): RotationLogEntry {
  const e: RotationLogEntry = {
    rotationId: String(r.rotation_id),
    secretName: String(r.secret_name),
    step: r.step as StepName,
    status: r.status as StepStatus,
    at: new Date(r.rotated_at as string | Date),
    rotatedBy: String(r.rotated_by),
    rotator: String(r.rotator ?? ""),
  };
  const opt = (key: keyof RotationLogEntry, v: unknown, kind: "s" | "d" | "n") => {
    if (v === null || v === undefined) return;
    (e as unknown as Record<string, unknown>)[key] = kind === "d"
      ? new Date(v as string)
      : kind === "n"
      ? Number(v)
      : String(v);
  };
  opt("fromVersion", r.from_version, "s");
  opt("toVersion", r.to_version, "s");
  opt("dueAt", r.due_at, "d");
  opt("oldKeyDeprecatedAt", r.old_key_deprecated_at, "d");
  opt("scheduledDeletionAt", r.scheduled_deletion_at, "d");
  opt("durationMs", r.duration_ms, "n");
  opt("graceMs", r.grace_ms, "n");
  opt("deleteAfterMs", r.delete_after_ms, "n");
  opt("errorCode", r.error_code, "s");
  opt("notes", r.notes, "s");
  return e;
}

/** A {@linkcode RotationLogStore} on `secret_rotation_log`. */
export class PostgresRotationLog implements RotationLogStore {
  readonly #sql: Sql;
  readonly #owned: boolean;

  /** Uses `sql`; `owned` makes `close()` end it. */
  constructor(sql: Sql, owned = false) {
    this.#sql = sql;
    this.#owned = owned;
  }

  async append(e: RotationLogEntry): Promise<void> {
    const n = (v: number | undefined) => v === undefined ? null : Math.round(v);
    await this.#sql`
      INSERT INTO secret_rotation_log (
        secret_name, rotated_at, rotated_by, old_key_deprecated_at, notes, rotation_id, step,
        status, from_version, to_version, scheduled_deletion_at, rotator, due_at, duration_ms,
        grace_ms, delete_after_ms, error_code
      ) VALUES (
        ${e.secretName}, ${e.at}, ${e.rotatedBy}, ${e.oldKeyDeprecatedAt ?? null},
        ${e.notes ?? null}, ${e.rotationId}, ${e.step}, ${e.status}, ${e.fromVersion ?? null},
        ${e.toVersion ?? null}, ${e.scheduledDeletionAt ?? null}, ${e.rotator},
        ${e.dueAt ?? null}, ${n(e.durationMs)}, ${n(e.graceMs)}, ${n(e.deleteAfterMs)},
        ${e.errorCode ?? null}
      )`;
  }

  async entries(
    filter: { rotationId?: string; secretName?: string } = {},
  ): Promise<RotationLogEntry[]> {
    const id = filter.rotationId;
    if (id !== undefined && !/^[0-9a-f-]{36}$/i.test(id)) return [];
    const rows = await this.#sql`
      SELECT * FROM secret_rotation_log
      WHERE (${id ?? null}::uuid IS NULL OR rotation_id = ${id ?? null}::uuid)
        AND (${filter.secretName ?? null}::text IS NULL OR secret_name = ${
      filter.secretName ?? null
    }::text)
      ORDER BY id`;
    return rows.map((r) => toEntry(r as Row));
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#sql.end({ timeout: 5 });
  }
}

/**
 * One rotation per secret through a session advisory lock, held on a
 * reserved connection: Postgres releases it when the process dies.
 */
export class AdvisoryRotationLocks implements RotationLocks {
  readonly #sql: Sql;
  readonly #log: RotationLogStore;

  /** Uses `sql` for the locks and `log` to name the rotation holding one. */
  constructor(sql: Sql, log: RotationLogStore) {
    this.#sql = sql;
    this.#log = log;
  }

  async acquire(secretName: string, _rotationId: string): Promise<RotationLock> {
    const conn = await this.#sql.reserve();
    const key = `keyward.rotation:${secretName}`;
    let ok = false;
    try {
      const [row] = await conn`SELECT pg_try_advisory_lock(hashtextextended(${key}, 0)) AS ok`;
      ok = row.ok === true;
    } catch (err) {
      conn.release();
      throw err;
    }
    if (!ok) {
      conn.release();
      const states = foldAll(await this.#log.entries({ secretName }));
      const running = states.filter((s) => s.phase === "running").at(-1) ?? states.at(-1);
      throw new RotationLockedError(secretName, running?.id);
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        try {
          await conn`SELECT pg_advisory_unlock(hashtextextended(${key}, 0))`;
        } finally {
          conn.release();
        }
      },
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
