/**
 * CI's coverage gate: reads an lcov report, prints the line coverage of each
 * source file and of each source folder, and fails when a folder is below 90%
 * of its lines.
 *
 *     deno run --allow-read tests/_coverage_gate.ts coverage/lcov.info [folder ...]
 *
 * The folders are {@linkcode SOURCE_FOLDERS} unless given. A folder that does
 * not exist in the checkout is skipped with a note (rotation/ and server/ are
 * built on other branches); a folder that exists but has no coverage data
 * fails (its tests did not run, or the report's include pattern misses it).
 * `.ci/run` builds `deno coverage --include` from the same list
 * (`--include-pattern` prints it), so the two cannot drift apart.
 *
 * @module
 */

/**
 * Every source folder of the package, each gated at {@linkcode MINIMUM}% of
 * its lines. Not gated: `migrations/`, whose uncovered lines are the
 * `db:migrate` and `db:generate` command lines, run by the tests as
 * subprocesses (coverage is collected in the test process only); its
 * `applyMigrations()` runs in every Postgres test.
 */
export const SOURCE_FOLDERS: readonly string[] = [
  "core",
  "backends",
  "cache",
  "audit",
  "redact",
  "rotation",
  "config",
  "server",
  "settings",
  "pg",
  "factory",
  "cli",
  "testing",
];

/** The minimum line coverage of a folder, in percent. */
export const MINIMUM = 90;

/** The `deno coverage --include` pattern of `folders`. */
export function includePattern(folders: readonly string[] = SOURCE_FOLDERS): string {
  return `^file:.*/(${folders.join("|")})/`;
}

/** Line counts of one source file of an lcov report. */
export interface FileCoverage {
  /** The path, relative to `root` when under it. */
  file: string;
  /** Lines found. */
  found: number;
  /** Lines hit. */
  hit: number;
}

/** Parses an lcov report's per-file line counts (`SF`, `LF`, `LH`). */
export function parseLcov(text: string, root: string): FileCoverage[] {
  const files: FileCoverage[] = [];
  let current: FileCoverage | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("SF:")) {
      current = {
        file: line.slice(3).replace(/^file:\/\//, "").replace(root, ""),
        found: 0,
        hit: 0,
      };
    } else if (line.startsWith("LF:") && current) current.found = Number(line.slice(3));
    else if (line.startsWith("LH:") && current) current.hit = Number(line.slice(3));
    else if (line === "end_of_record" && current) {
      files.push(current);
      current = undefined;
    }
  }
  return files;
}

/** The result of the gate for one folder. */
export interface FolderResult {
  /** The folder. */
  folder: string;
  /** `skipped` when absent from the checkout. */
  status: "ok" | "below" | "no-data" | "skipped";
  /** Lines found and hit, over its files. */
  found: number;
  /** Lines hit. */
  hit: number;
  /** Percent of lines hit (100 when no lines). */
  percent: number;
}

/** Applies the gate: one result per folder. */
export function gate(
  files: readonly FileCoverage[],
  folders: readonly string[],
  exists: (folder: string) => boolean,
  minimum: number = MINIMUM,
): FolderResult[] {
  return folders.map((folder) => {
    if (!exists(folder)) return { folder, status: "skipped", found: 0, hit: 0, percent: 0 };
    const mine = files.filter((f) => f.file.startsWith(`${folder}/`));
    const found = mine.reduce((n, f) => n + f.found, 0);
    const hit = mine.reduce((n, f) => n + f.hit, 0);
    const percent = found === 0 ? 100 : (100 * hit) / found;
    const status = mine.length === 0 ? "no-data" : percent < minimum ? "below" : "ok";
    return { folder, status, found, hit, percent };
  });
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

if (import.meta.main) {
  const [path, ...given] = Deno.args;
  if (path === "--include-pattern") {
    console.log(includePattern(given.length ? given : SOURCE_FOLDERS));
    Deno.exit(0);
  }
  if (!path) {
    console.error("usage: _coverage_gate.ts <lcov file> [folder ...] | --include-pattern");
    Deno.exit(2);
  }
  const folders = given.length ? given : SOURCE_FOLDERS;
  const files = parseLcov(await Deno.readTextFile(path), Deno.cwd() + "/")
    .sort((a, b) => a.file.localeCompare(b.file));
  for (const f of files) {
    if (!folders.some((folder) => f.file.startsWith(`${folder}/`))) continue;
    const pct = f.found === 0 ? 100 : (100 * f.hit) / f.found;
    console.log(`${pct.toFixed(1).padStart(6)}%  ${f.file}`);
  }
  console.log("");
  const failures: string[] = [];
  for (const r of gate(files, folders, isDirectory)) {
    if (r.status === "skipped") {
      console.log(`     -   ${r.folder}/ (not in this checkout)`);
      continue;
    }
    console.log(
      `${r.percent.toFixed(1).padStart(6)}%  ${r.folder}/ (${r.hit} of ${r.found} lines)`,
    );
    if (r.status === "no-data") failures.push(`${r.folder}/ has no coverage data`);
    if (r.status === "below") {
      failures.push(
        `${r.folder}/ is at ${r.percent.toFixed(1)}% of its lines (minimum ${MINIMUM}%)`,
      );
    }
  }
  if (failures.length) {
    console.error(failures.join("\n"));
    Deno.exit(1);
  }
}
