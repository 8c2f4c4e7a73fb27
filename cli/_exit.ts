/**
 * The CLI's one exit-code table: every command exits with one of these, and
 * the top-level help is written from it. A keyward error's exit code comes
 * from `exitCodeFor` in `core/errors.ts` (the one mapping of error codes),
 * which lands on this table.
 *
 * @module
 */

/** The name of an exit code. */
export type ExitName =
  | "ok"
  | "unexpected"
  | "usage"
  | "not_found"
  | "access"
  | "conflict"
  | "unsupported"
  | "write"
  | "rolled_back"
  | "overdue"
  | "partial"
  | "interrupted";

/** One row of the exit-code table. */
export interface ExitCodeEntry {
  /** The name commands use. */
  readonly name: ExitName;
  /** The process exit code. */
  readonly code: number;
  /** What it means, as the help prints it. */
  readonly meaning: string;
}

/** Every exit code of every command, in order. */
export const EXIT_CODES: readonly ExitCodeEntry[] = [
  { name: "ok", code: 0, meaning: "ok" },
  { name: "unexpected", code: 1, meaning: "unexpected" },
  { name: "usage", code: 2, meaning: "usage or settings" },
  { name: "not_found", code: 3, meaning: "not found" },
  { name: "access", code: 4, meaning: "access" },
  { name: "conflict", code: 5, meaning: "conflict" },
  { name: "unsupported", code: 6, meaning: "unsupported" },
  { name: "write", code: 7, meaning: "write failed" },
  { name: "rolled_back", code: 8, meaning: "rotation rolled back" },
  { name: "overdue", code: 9, meaning: "rotation overdue found" },
  { name: "partial", code: 10, meaning: "some items failed (migrate, check)" },
  { name: "interrupted", code: 130, meaning: "interrupted" },
];

/** The exit code of each name: `EXIT.usage` is 2. */
export const EXIT: Readonly<Record<ExitName, number>> = Object.fromEntries(
  EXIT_CODES.map((e) => [e.name, e.code]),
) as Record<ExitName, number>;

/** The table as the help prints it: `0 ok, 1 unexpected, ...`, wrapped to `width` columns. */
export function exitCodesText(prefix: string, width = 80): string {
  const items = EXIT_CODES.map((e, i) =>
    `${e.code} ${e.meaning}${i === EXIT_CODES.length - 1 ? "." : ","}`
  );
  return wrapItems(prefix, items, width);
}

/** Joins `items` after `prefix` with spaces, breaking lines before `width` columns. */
export function wrapItems(prefix: string, items: readonly string[], width = 80): string {
  const lines: string[] = [];
  let line = prefix;
  for (const item of items) {
    if (line.length + 1 + item.length > width && line !== prefix) {
      lines.push(line);
      line = item;
    } else {
      line = line === "" ? item : `${line} ${item}`;
    }
  }
  lines.push(line);
  return lines.join("\n");
}
