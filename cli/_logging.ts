/**
 * The CLI's logging: the library's warnings (LogTape category `keyward`, at
 * warning level and above) reach the operator on standard error, passed
 * through the redactor first. A CLI run inside an application that already
 * configured LogTape leaves that configuration alone.
 *
 * @module
 */

import { getConfig, reset } from "@logtape/logtape";
import { KeywardError, scrubCause } from "../core/errors.ts";
import type { LogRecordLike, LogSink } from "../redact/logging.ts";
import { configureRedactedLogging } from "../redact/configure.ts";
import type { Redactor } from "../redact/redactor.ts";
import type { CliIo } from "./_io.ts";

/**
 * Routes keyward's warnings to `io.stderr` for one CLI run and returns the
 * function that undoes it. Does nothing (and undoes nothing) when LogTape
 * is configured already.
 */
export async function configureCliLogging(
  io: CliIo,
  json: boolean,
  redactor: Redactor,
): Promise<() => Promise<void>> {
  if (getConfig() !== null) return () => Promise.resolve();
  await configureRedactedLogging(redactor, {
    sinks: { stderr: stderrSink(io, json) },
    categories: [["keyward"]],
    lowestLevel: "warning",
  });
  return () => reset();
}

/**
 * One line per record on standard error: `warning (keyward.file): ...`, or
 * with `--json` a JSON object per line. The backends' not-found warning is
 * left out: the CLI reports the same thing as its error.
 */
export function stderrSink(io: CliIo, json: boolean): LogSink {
  return (record: LogRecordLike) => {
    if (isNotFoundWarning(record)) return;
    const category = record.category.join(".");
    const message = render(record.message);
    io.stderr(
      json
        ? `${JSON.stringify({ log: { level: record.level, category, message } })}\n`
        : `${record.level} (${category}): ${message}\n`,
    );
  };
}

function isNotFoundWarning(record: LogRecordLike): boolean {
  const raw = typeof record.rawMessage === "string"
    ? record.rawMessage
    : record.rawMessage.join("{}");
  return /^Secret \{secret\} not found\b/.test(raw);
}

function render(parts: readonly unknown[]): string {
  return parts.map((part, i) => i % 2 === 0 ? String(part) : renderValue(part)).join("");
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof KeywardError) return value.message;
  if (value instanceof Error) return (scrubCause(value) as Error).message;
  if (value === null || typeof value !== "object") return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return "[object]";
  }
}
