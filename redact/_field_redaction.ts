/**
 * Field redaction of a LogTape record: `@logtape/redaction`'s
 * `redactByField` (2.3.7, MIT, by Hong Minhee), ported for the one action
 * keyward uses (replace with `[REDACTED]`).
 *
 * Why a port and not the package: `@logtape/redaction` imports
 * `@logtape/logtape`, and importing LogTape costs `mod.ts` about 15 ms of
 * start-up under Deno and 40% of the edge bundle (issue 18), while
 * {@linkcode redactingSink} must redact synchronously, in the caller's turn
 * (so it cannot load the package lazily). tests/redact/field_redaction_parity_test.ts
 * checks the port against the package on generated records, and the constants
 * against the package's own.
 *
 * @module
 */

/** Property-name patterns: a string matches the whole name, a regular expression tests it. */
export type FieldPatterns = readonly (string | RegExp)[];

/** `@logtape/redaction`'s `DEFAULT_REDACT_FIELDS`. */
export const DEFAULT_REDACT_FIELDS: FieldPatterns = [
  /pass(?:code|phrase|word)/i,
  /secret/i,
  /token/i,
  /key/i,
  /credential/i,
  /auth/i,
  /signature/i,
  /sensitive/i,
  /private/i,
  /ssn/i,
  /email/i,
  /phone/i,
  /address/i,
];

/** `@logtape/redaction`'s `JWT_PATTERN`. */
export const JWT_PATTERN: {
  readonly pattern: RegExp;
  readonly replacement: string;
} = {
  pattern: /eyJ[a-zA-Z0-9_-]*\.[a-zA-Z0-9_-]*\.[a-zA-Z0-9_-]*/g,
  replacement: "[JWT REDACTED]",
};

const REDACTED = "[REDACTED]";
const TRUNCATED = "[truncated]";
const MAX_DEPTH = 20;
const MAX_PROPERTIES = 1000;

/** The record fields field redaction reads and replaces. */
export interface FieldRedactable {
  readonly message: readonly unknown[];
  readonly rawMessage: string | TemplateStringsArray;
  readonly properties: Record<string, unknown>;
}

interface Context {
  readonly visited: Map<object, unknown>;
  readonly exceeded: Set<string>;
}

const ROOT = Symbol.for("logtape.rootLogger");
let reporting = false;

/** Tells LogTape's meta logger (if LogTape is configured) that a limit was hit, as the package does. */
function reportLimit(context: Context, limit: string): void {
  if (context.exceeded.has(limit)) return;
  context.exceeded.add(limit);
  const root = (globalThis as {
    [ROOT]?: { getChild(c: string[]): { warn(m: string, p: object): void } } | null;
  })[ROOT];
  if (root == null || reporting) return;
  try {
    reporting = true;
    root.getChild(["logtape", "meta"]).warn(
      "Redaction traversal exceeded {limit}; replacing or omitting remaining data to keep logging bounded.",
      { limit, maxDepth: MAX_DEPTH, maxProperties: MAX_PROPERTIES },
    );
  } catch {
    // reporting must never break logging
  } finally {
    reporting = false;
  }
}

/**
 * The record's message and properties with every property whose name
 * matches `patterns` replaced by `[REDACTED]` (at any depth), and the
 * message values those properties fill replaced too.
 */
export function redactFields<R extends FieldRedactable>(record: R, patterns: FieldPatterns): R {
  const context: Context = { visited: new Map(), exceeded: new Set() };
  const properties = redactProperties(record.properties, patterns, 0, context);
  let message: readonly unknown[] = record.message;
  if (typeof record.rawMessage === "string") {
    const placeholders = placeholderNames(record.rawMessage);
    const redacted = new Set<number>();
    const wildcard = new Set<number>();
    placeholders.forEach((placeholder, i) => {
      if (placeholder === "*") wildcard.add(i);
      else if (
        matches(placeholder, patterns) ||
        pathSegments(placeholder).some((segment) => matches(segment, patterns))
      ) {
        redacted.add(i);
      }
    });
    const truncate = context.exceeded.size > 0;
    const out: unknown[] = [];
    let p = 0;
    for (let i = 0; i < record.message.length; i++) {
      if (i % 2 === 0) {
        out.push(record.message[i]);
        continue;
      }
      if (wildcard.has(p)) out.push(properties);
      else if (redacted.has(p)) out.push(REDACTED);
      else {
        const found = pathValue(properties, placeholders[p]);
        if (found.found) out.push(found.value);
        else if (truncate) out.push(TRUNCATED);
        else out.push(record.message[i]);
      }
      p++;
    }
    message = out;
  } else {
    const values = new Map<unknown, unknown>();
    collectRedactedValues(record.properties, properties, values);
    const truncate = context.exceeded.size > 0;
    if (values.size > 0 || truncate) {
      message = record.message.map((value, i) =>
        i % 2 === 0 ? value : values.has(value) ? values.get(value) : truncate ? TRUNCATED : value
      );
    }
  }
  return { ...record, message, properties };
}

function matches(field: string, patterns: FieldPatterns): boolean {
  for (const pattern of patterns) {
    if (typeof pattern === "string") {
      if (pattern === field) return true;
    } else if (testPattern(field, pattern)) return true;
  }
  return false;
}

function testPattern(field: string, pattern: RegExp): boolean {
  if (!pattern.global && !pattern.sticky) return pattern.test(field);
  const descriptor = Object.getOwnPropertyDescriptor(pattern, "lastIndex");
  if (descriptor?.writable === false) return new RegExp(pattern).test(field);
  return RegExp.prototype[Symbol.search].call(pattern, field) !== -1;
}

function isBuiltIn(value: object): boolean {
  return value instanceof Error || value instanceof Date || value instanceof RegExp ||
    value instanceof Map || value instanceof Set || value instanceof WeakMap ||
    value instanceof WeakSet || value instanceof Promise || value instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== "undefined" && value instanceof SharedArrayBuffer) ||
    ArrayBuffer.isView(value);
}

function setProperty(object: Record<string, unknown>, field: string, value: unknown): void {
  if (field === "__proto__") {
    Object.defineProperty(object, field, {
      value,
      enumerable: true,
      configurable: true,
      writable: true,
    });
  } else object[field] = value;
}

/** A nested value, redacted: arrays and plain objects are copied, built-ins kept. */
function redactNested(
  value: unknown,
  patterns: FieldPatterns,
  depth: number,
  context: Context,
): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (!Array.isArray(value) && isBuiltIn(value)) return value;
  if (depth + 1 > MAX_DEPTH) {
    reportLimit(context, "maxDepth");
    return TRUNCATED;
  }
  return Array.isArray(value)
    ? redactArray(value, patterns, depth + 1, context)
    : redactProperties(value as Record<string, unknown>, patterns, depth + 1, context);
}

function redactProperties(
  properties: Record<string, unknown>,
  patterns: FieldPatterns,
  depth: number,
  context: Context,
): Record<string, unknown> {
  if (context.visited.has(properties)) return context.visited.get(properties) as never;
  const copy: Record<string, unknown> = {};
  context.visited.set(properties, copy);
  const fields = Object.keys(properties);
  if (fields.length > MAX_PROPERTIES) reportLimit(context, "maxProperties");
  for (const field of fields.slice(0, MAX_PROPERTIES)) {
    if (matches(field, patterns)) setProperty(copy, field, REDACTED);
    else setProperty(copy, field, redactNested(properties[field], patterns, depth, context));
  }
  return copy;
}

function redactArray(
  array: readonly unknown[],
  patterns: FieldPatterns,
  depth: number,
  context: Context,
): unknown[] {
  if (context.visited.has(array)) return context.visited.get(array) as never;
  const length = Math.min(array.length, MAX_PROPERTIES);
  const copy: unknown[] = [];
  copy.length = length;
  context.visited.set(array, copy);
  if (array.length > MAX_PROPERTIES) reportLimit(context, "maxProperties");
  for (let i = 0; i < length; i++) {
    if (!(i in array)) continue;
    copy[i] = redactNested(array[i], patterns, depth, context);
  }
  return copy;
}

function placeholderNames(template: string): string[] {
  const placeholders: string[] = [];
  for (let i = 0; i < template.length; i++) {
    if (template[i] !== "{") continue;
    if (i + 1 < template.length && template[i + 1] === "{") {
      i++;
      continue;
    }
    const close = template.indexOf("}", i + 1);
    if (close === -1) continue;
    placeholders.push(template.slice(i + 1, close).trim());
    i = close;
  }
  return placeholders;
}

function pathSegments(path: string): string[] {
  const segments: string[] = [];
  let current = "";
  let inBracket = false;
  let quotedBracketSegment = false;
  let quote: string | undefined;
  let escaped = false;
  const pushCurrent = (trim = false) => {
    const segment = trim ? current.trimEnd() : current;
    if (segment) segments.push(segment);
    current = "";
  };
  for (const char of path) {
    if (quote != null) {
      if (escaped) {
        current += char;
        escaped = false;
      } else if (char === "\\") escaped = true;
      else if (char === quote) quote = undefined;
      else current += char;
      continue;
    }
    if (inBracket && current === "" && /\s/.test(char)) continue;
    if (inBracket && (char === '"' || char === "'") && current === "") {
      quote = char;
      quotedBracketSegment = true;
      continue;
    }
    if (inBracket && quotedBracketSegment && /\s/.test(char)) continue;
    if (char === "." && !inBracket) {
      pushCurrent();
      continue;
    }
    if (char === "[") {
      pushCurrent();
      inBracket = true;
      continue;
    }
    if (char === "]") {
      pushCurrent(!quotedBracketSegment);
      inBracket = false;
      quotedBracketSegment = false;
      continue;
    }
    if (char === "?") continue;
    current += char;
  }
  pushCurrent();
  return segments;
}

function pathValue(properties: unknown, path: string): { found: boolean; value?: unknown } {
  const segments = pathSegments(path);
  if (segments.length < 1) return { found: false };
  let value = properties;
  for (const segment of segments) {
    if (
      (typeof value !== "object" && typeof value !== "function") || value == null ||
      !Object.hasOwn(value, segment)
    ) {
      return { found: false };
    }
    value = (value as Record<string, unknown>)[segment];
  }
  return { found: true, value };
}

function collectRedactedValues(
  original: Record<string, unknown>,
  redacted: Record<string, unknown>,
  map: Map<unknown, unknown>,
): void {
  for (const key of Object.keys(redacted)) {
    const before = original[key];
    const after = redacted[key];
    if (before !== after) map.set(before, after);
    if (
      typeof before === "object" && before !== null && typeof after === "object" &&
      after !== null && !Array.isArray(before)
    ) {
      collectRedactedValues(
        before as Record<string, unknown>,
        after as Record<string, unknown>,
        map,
      );
    }
  }
}
