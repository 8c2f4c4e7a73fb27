/**
 * The naming rules themselves, with no imports, so that both `names.ts`
 * (which throws the errors) and `errors.ts` (which must never echo a name
 * that breaks them) can use them without an import circle.
 *
 * @module
 */

/**
 * The longest name, namespace included.
 *
 * @example
 * ```ts
 * import { MAX_NAME_LENGTH } from "@keyward/secrets";
 * import { nameProblem } from "@keyward/secrets/backend-kit";
 *
 * if (nameProblem("a".repeat(MAX_NAME_LENGTH)) !== undefined) throw new Error();
 * if (nameProblem("a".repeat(MAX_NAME_LENGTH + 1)) === undefined) throw new Error();
 * ```
 */
export const MAX_NAME_LENGTH = 512;

/**
 * The first-segment prefix reserved for keyward's own bookkeeping.
 *
 * @example
 * ```ts
 * import { nameProblem, RESERVED_PREFIX } from "@keyward/secrets/backend-kit";
 *
 * if (nameProblem(`${RESERVED_PREFIX}/state`) === undefined) throw new Error("not reserved");
 * if (nameProblem("app/.keyward-like") !== undefined) throw new Error(); // only the first segment
 * ```
 */
export const RESERVED_PREFIX = ".keyward";

/** The first place a name breaks a rule: a bad character, a misplaced '/', a segment ending in '.'. */
const PROBLEM = /([^A-Za-z0-9_./-])|(^\/|\/\/|\/$)|\.(?=\/|$)/;

/**
 * Says what is wrong with a name, or `undefined` when it is valid. The
 * answer states the rule, the length and the position (counted from 1),
 * never the text: a value pasted where a name belongs must not be echoed.
 *
 * @example
 * ```ts
 * import { nameProblem } from "@keyward/secrets/backend-kit";
 * if (nameProblem("a/b") !== undefined) throw new Error();
 * if (!nameProblem("a//b")?.endsWith("(position 2)")) throw new Error();
 * if (nameProblem("pw:hunter2")?.includes("hunter2")) throw new Error("echoed");
 * ```
 */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== "string") return "a name must be a string";
  const n = name.length;
  if (n === 0) return "a name must not be empty";
  if (n > MAX_NAME_LENGTH) {
    return `a name must be at most ${MAX_NAME_LENGTH} characters (namespace included), got ${n}`;
  }
  const found = PROBLEM.exec(name);
  if (found) {
    const rule = found[1]
      ? "a name holds only letters, digits, '_', '.', '-' and '/'"
      : found[2]
      ? "a name must not start or end with '/' nor hold an empty segment ('//')"
      : "a segment must not be '.' or '..' nor end in '.'";
    return `${rule} (position ${found.index + 1})`;
  }
  if (name.startsWith(RESERVED_PREFIX)) {
    return `names starting with '${RESERVED_PREFIX}' are reserved`;
  }
  return undefined;
}

/**
 * What errors, logs and audit records show in place of a name that breaks
 * the rules: its length, never its text.
 */
export function invalidNamePlaceholder(name: unknown): string {
  return `(invalid name, ${
    typeof name === "string" ? `${name.length} characters` : "not a string"
  })`;
}
