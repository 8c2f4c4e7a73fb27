/**
 * Redaction for logs (the `./logging` entry, with `./configure.ts`): a
 * LogTape sink decorator and an opt-in `console` wrapper, both passing everything through a
 * {@linkcode Redactor}, the well-known credential patterns and the
 * standard patterns of `@logtape/redaction`.
 *
 * @module
 */

// No static import of LogTape or @logtape/redaction: importing LogTape costs
// start-up time and bundle size every user of `mod.ts` would pay (issue 18).
// Field redaction is a port (./_field_redaction.ts, checked against the package
// by a test); configureRedactedLogging() (./configure.ts) loads LogTape when it is called.
import { DEFAULT_REDACT_FIELDS, JWT_PATTERN, redactFields } from "./_field_redaction.ts";
import { redactCredentials } from "./patterns.ts";
import type { Redactor } from "./redactor.ts";

/**
 * LogTape's log levels.
 *
 * @example
 * ```ts
 * import type { LogLevelName } from "@keyward/secrets/logging";
 *
 * const order: LogLevelName[] = ["trace", "debug", "info", "warning", "error", "fatal"];
 * const rank = (level: LogLevelName) => order.indexOf(level);
 * const atLeast = (level: LogLevelName, min: LogLevelName) => rank(level) >= rank(min);
 * if (!atLeast("error", "warning") || atLeast("debug", "info")) throw new Error();
 * ```
 */
export type LogLevelName = "trace" | "debug" | "info" | "warning" | "error" | "fatal";

/**
 * The fields of a LogTape `LogRecord` (a LogTape record is one of these).
 *
 * @example A record as LogTape hands it to a sink, redacted
 * ```ts
 * import { Redactor } from "@keyward/secrets";
 * import { type LogRecordLike, redactingSink } from "@keyward/secrets/logging";
 *
 * const redactor = new Redactor();
 * redactor.register("db/password", "pw-0123456789");
 * const out: LogRecordLike[] = [];
 * const record: LogRecordLike = {
 *   category: ["app", "db"],
 *   level: "warning",
 *   timestamp: Date.UTC(2026, 10, 29),
 *   rawMessage: "connect failed with {dsn}",
 *   message: ["connect failed with ", "user=app pass=pw-0123456789", ""],
 *   properties: { dsn: "user=app pass=pw-0123456789" },
 * };
 * redactingSink((r) => void out.push(r), redactor)(record);
 * if (JSON.stringify(out).includes("pw-0123456789")) throw new Error();
 * if (out[0].level !== "warning" || out[0].category.join(".") !== "app.db") throw new Error();
 * ```
 */
export interface LogRecordLike {
  /** The logger's category. */
  readonly category: readonly string[];
  /** The level. */
  readonly level: LogLevelName;
  /** The message: text parts alternating with the values put into it. */
  readonly message: readonly unknown[];
  /** The template, or the tagged template's strings. */
  readonly rawMessage: string | TemplateStringsArray;
  /** When, in epoch milliseconds. */
  readonly timestamp: number;
  /** The structured properties. */
  readonly properties: Record<string, unknown>;
}

/**
 * A LogTape sink (any LogTape `Sink` is one).
 *
 * @example A sink of your own, wrapped so it never sees a value
 * ```ts
 * import { Redactor } from "@keyward/secrets";
 * import { type LogSink, redactingSink } from "@keyward/secrets/logging";
 *
 * const lines: string[] = [];
 * const mine: LogSink = (record) => void lines.push(record.message.join(""));
 * const redactor = new Redactor();
 * redactor.register("api/token", "tok-0123456789");
 * const sink = redactingSink(mine, redactor);
 * sink({
 *   category: ["app"], level: "info", timestamp: 0, rawMessage: "token {t}",
 *   message: ["token ", "tok-0123456789", ""], properties: {},
 * });
 * if (lines[0] !== "token [REDACTED:api/token]") throw new Error(lines[0]);
 * ```
 */
export type LogSink = (record: LogRecordLike) => void;

/**
 * Property-name patterns, as `@logtape/redaction`'s field redaction takes them.
 *
 * @example Property names masked whatever they hold
 * ```ts
 * import { Redactor } from "@keyward/secrets";
 * import { type FieldPatternList, type LogRecordLike, redactingSink } from "@keyward/secrets/logging";
 *
 * const fieldPatterns: FieldPatternList = ["sessionId", /^x-api-/i];
 * const out: LogRecordLike[] = [];
 * const sink = redactingSink((r) => void out.push(r), new Redactor(), { fieldPatterns });
 * sink({
 *   category: ["app"], level: "info", timestamp: 0, rawMessage: "request", message: ["request"],
 *   properties: { sessionId: "s-1", "X-Api-Key": "k-2", user: "app" },
 * });
 * const { sessionId, "X-Api-Key": apiKey, user } = out[0].properties;
 * if (sessionId !== "[REDACTED]" || apiKey !== "[REDACTED]" || user !== "app") throw new Error();
 * ```
 */
export type FieldPatternList = readonly (string | RegExp)[];

/**
 * A text pattern in `@logtape/redaction`'s format; the regular expression has the `g` flag.
 *
 * @example A pattern of your own next to the standard ones
 * ```ts
 * import { Redactor } from "@keyward/secrets";
 * import { redactLogValue, STANDARD_TEXT_PATTERNS, type TextPattern } from "@keyward/secrets/logging";
 *
 * const orderIds: TextPattern = {
 *   pattern: /\border-(\d{4})\d+\b/g,
 *   replacement: (_match, prefix) => `order-${prefix}…`,
 * };
 * const out = redactLogValue("shipped order-123456789", new Redactor(), {
 *   textPatterns: [...STANDARD_TEXT_PATTERNS, orderIds],
 * });
 * if (out !== "shipped order-1234…") throw new Error(String(out));
 * ```
 */
export interface TextPattern {
  /** What to find (global flag). */
  readonly pattern: RegExp;
  /** The replacement text, or a function of the match and its groups. */
  readonly replacement: string | ((match: string, ...groups: string[]) => string);
}

/**
 * Property names that hold names, never values, in keyward's own log
 * records; the field patterns below never mask them.
 */
const NAME_PROPERTIES = [
  "secret",
  "secretName",
  "name",
  "names",
  "stage",
  "version",
  "field",
  "backend",
  "source",
  "reason",
  "code",
];

/**
 * `@logtape/redaction`'s `DEFAULT_REDACT_FIELDS` (password,
 * secret, token, key, credential, auth, ...), except for the properties
 * keyward uses for names (`secret`, `name`, `stage`, `version`, `field`,
 * `backend`, ...): a property named `secret` holds a secret's name in
 * keyward's records, and masking it would hide which secret is missing.
 *
 * @example Extending the defaults with a property of your own
 * ```ts
 * import type { LogRecord } from "@logtape/logtape";
 * import { Redactor } from "@keyward/secrets";
 * import { KEYWARD_REDACT_FIELDS, redactingSink } from "@keyward/secrets/logging";
 *
 * const seen: LogRecord[] = [];
 * const sink = redactingSink((r) => seen.push(r), new Redactor(), {
 *   fieldPatterns: [...KEYWARD_REDACT_FIELDS, "dsn"],
 * });
 * sink({
 *   category: ["app"], level: "error", timestamp: 0, rawMessage: "login failed",
 *   message: ["login failed"],
 *   properties: { secret: "db/login", password: "hunter2", dsn: "postgres://app@db/app" },
 * });
 * const p = seen[0].properties;
 * if (p.secret !== "db/login") throw new Error(); // a name, kept
 * if (p.password !== "[REDACTED]" || p.dsn !== "[REDACTED]") throw new Error();
 * ```
 */
export const KEYWARD_REDACT_FIELDS: FieldPatternList = /* @__PURE__ */ DEFAULT_REDACT_FIELDS.map(
  (p) => {
    const source = typeof p === "string" ? p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : p.source;
    const flags = typeof p === "string" ? "" : p.flags.replace("g", "");
    return new RegExp(`^(?!(?:${NAME_PROPERTIES.join("|")})$).*(?:${source})`, flags);
  },
);

/**
 * The standard text patterns of `@logtape/redaction` applied to every string (JWTs).
 *
 * @example Adding a pattern of your own to the standard ones
 * ```ts
 * import { Redactor } from "@keyward/secrets";
 * import { redactLogValue, STANDARD_TEXT_PATTERNS } from "@keyward/secrets/logging";
 *
 * const textPatterns = [
 *   ...STANDARD_TEXT_PATTERNS,
 *   { pattern: /\bsession=[0-9a-f]+/g, replacement: "session=[REDACTED]" },
 * ];
 * const jwt = ["eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiJhcHAifQ", "c2lnbmF0dXJl"].join(".");
 * const out = redactLogValue(`auth ${jwt} session=9f86d081`, new Redactor(), { textPatterns });
 * if (out !== "auth [JWT REDACTED] session=[REDACTED]") throw new Error(String(out));
 * ```
 */
export const STANDARD_TEXT_PATTERNS: readonly TextPattern[] = [JWT_PATTERN];

/**
 * Options of {@linkcode redactingSink}, {@linkcode redactConsole} and {@linkcode redactLogValue}.
 *
 * @example Each option's effect
 * ```ts
 * import { Redactor } from "@keyward/secrets";
 * import { type LogRecordLike, redactingSink, redactLogValue } from "@keyward/secrets/logging";
 *
 * const redactor = new Redactor();
 * const awsKey = "AKIA" + "Q3EXAMP1E7K2M4ZP";
 * // credentials (on by default) and textPatterns act on every string ...
 * if (redactLogValue(`key ${awsKey}`, redactor) !== "key [REDACTED:aws-access-key]") throw new Error();
 * if (redactLogValue(`key ${awsKey}`, redactor, { credentials: false }) !== `key ${awsKey}`) throw new Error();
 * // ... fieldPatterns on the properties of a record a sink receives.
 * const out: LogRecordLike[] = [];
 * redactingSink((r) => void out.push(r), redactor, { fieldPatterns: ["ticket"], textPatterns: [] })({
 *   category: ["app"], level: "info", timestamp: 0, rawMessage: "", message: [""],
 *   properties: { ticket: "T-42", user: "app" },
 * });
 * if (out[0].properties.ticket !== "[REDACTED]" || out[0].properties.user !== "app") throw new Error();
 * ```
 */
export interface LogRedactionOptions {
  /**
   * Property names whose values are replaced by `[REDACTED]` whatever they
   * hold (`@logtape/redaction`'s field redaction). Applied to the properties
   * of the records {@linkcode redactingSink} receives; {@linkcode redactLogValue}
   * and {@linkcode redactConsole} do not use it.
   * @default {KEYWARD_REDACT_FIELDS}
   */
  fieldPatterns?: FieldPatternList;
  /**
   * Regular-expression patterns (`@logtape/redaction`'s format, global flag)
   * applied to every string.
   * @default {STANDARD_TEXT_PATTERNS}
   */
  textPatterns?: readonly TextPattern[];
  /**
   * Whether well-known credentials (AWS keys, Vault tokens, private keys,
   * broker key pairs, connection-string passwords, high-entropy values
   * assigned to `*_SECRET`/`*_PASSWORD`/`*_TOKEN`/`*_KEY`) are masked too.
   * @default {true}
   */
  credentials?: boolean;
}

function textRedactor(redactor: Redactor, options: LogRedactionOptions): (text: string) => string {
  const patterns = options.textPatterns ?? STANDARD_TEXT_PATTERNS;
  const credentials = options.credentials ?? true;
  return (text: string): string => {
    let out = redactor.redact(text);
    if (credentials) out = redactCredentials(out);
    for (const p of patterns) {
      const replacement = p.replacement;
      out = typeof replacement === "string"
        ? out.replaceAll(p.pattern, replacement)
        : out.replaceAll(p.pattern, (match: string, ...rest: unknown[]) =>
          replacement(
            match,
            ...rest.filter((r): r is string => typeof r === "string"),
          ));
    }
    return out;
  };
}

const MAX_DEPTH = 20;

/**
 * Returns a copy of `value` with every string inside it redacted: strings,
 * arrays, plain objects, `Map`s, `Set`s, errors (message, stack, `cause`
 * and own properties, prototype kept) and other objects' own enumerable
 * properties. Objects with their own inspection (`Secret`) and binary
 * buffers are kept as they are. Cycle-safe; at most 20 levels deep.
 *
 * @example
 * ```ts
 * import { Redactor } from "@keyward/secrets";
 * import { redactLogValue } from "@keyward/secrets/logging";
 * const redactor = new Redactor();
 * redactor.register("api/token", "tok-0123456789");
 * const out = redactLogValue({ headers: ["Bearer tok-0123456789"] }, redactor);
 * if (JSON.stringify(out) !== '{"headers":["Bearer [REDACTED:api/token]"]}') throw new Error();
 * ```
 */
export function redactLogValue(
  value: unknown,
  redactor: Redactor,
  options: LogRedactionOptions = {},
): unknown {
  return deepRedact(value, textRedactor(redactor, options), new Map(), 0);
}

const CUSTOM_INSPECT = [
  /* @__PURE__ */ Symbol.for("Deno.customInspect"),
  /* @__PURE__ */ Symbol.for("nodejs.util.inspect.custom"),
];

function deepRedact(
  value: unknown,
  text: (s: string) => string,
  seen: Map<object, unknown>,
  depth: number,
): unknown {
  if (typeof value === "string") return text(value);
  if (typeof value !== "object" || value === null) return value;
  if (seen.has(value)) return seen.get(value);
  if (depth >= MAX_DEPTH) return "[REDACTED:too deep]";
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  if (value instanceof Date || value instanceof RegExp) return value;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    seen.set(value, copy);
    for (const item of value) copy.push(deepRedact(item, text, seen, depth + 1));
    return copy;
  }
  if (value instanceof Map) {
    const copy = new Map();
    seen.set(value, copy);
    for (const [k, v] of value) {
      copy.set(deepRedact(k, text, seen, depth + 1), deepRedact(v, text, seen, depth + 1));
    }
    return copy;
  }
  if (value instanceof Set) {
    const copy = new Set();
    seen.set(value, copy);
    for (const v of value) copy.add(deepRedact(v, text, seen, depth + 1));
    return copy;
  }
  if (value instanceof Error) {
    const copy = Object.create(Object.getPrototypeOf(value)) as Error;
    seen.set(value, copy);
    const hidden = (key: string, v: unknown): void => {
      Object.defineProperty(copy, key, { value: v, writable: true, configurable: true });
    };
    hidden("message", text(value.message));
    if (typeof value.stack === "string") hidden("stack", text(value.stack));
    if (Object.hasOwn(value, "name")) hidden("name", deepRedact(value.name, text, seen, depth + 1));
    if ("cause" in value) hidden("cause", deepRedact(value.cause, text, seen, depth + 1));
    if (value instanceof AggregateError) {
      hidden("errors", deepRedact(value.errors, text, seen, depth + 1));
    }
    for (const [k, v] of Object.entries(value)) {
      (copy as unknown as Record<string, unknown>)[k] = deepRedact(v, text, seen, depth + 1);
    }
    return copy;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    if (
      CUSTOM_INSPECT.some((s) => s in value) ||
      typeof (value as { then?: unknown }).then === "function"
    ) {
      return value;
    }
  }
  const copy = Object.create(proto) as Record<string, unknown>;
  seen.set(value, copy);
  for (const [k, v] of Object.entries(value)) copy[k] = deepRedact(v, text, seen, depth + 1);
  return copy;
}

function redactRecord(
  record: LogRecordLike,
  text: (s: string) => string,
): LogRecordLike {
  const seen = new Map<object, unknown>();
  const message = record.message.map((part) =>
    typeof part === "string" ? text(part) : deepRedact(part, text, seen, 0)
  );
  const rawMessage = typeof record.rawMessage === "string"
    ? text(record.rawMessage)
    : record.rawMessage;
  const properties = deepRedact(record.properties, text, seen, 0) as Record<string, unknown>;
  return { ...record, message, rawMessage, properties };
}

/**
 * Wraps a LogTape sink so that every record reaching it has its message
 * parts, template and properties passed through `redactor`, the
 * well-known credential patterns and `@logtape/redaction`'s field and
 * text patterns.
 *
 * @example
 * ```ts
 * import type { LogRecord } from "@logtape/logtape";
 * import { Redactor } from "@keyward/secrets";
 * import { redactingSink } from "@keyward/secrets/logging";
 *
 * const redactor = new Redactor();
 * redactor.register("db/password", "pw-0123456789");
 * const seen: LogRecord[] = [];
 * const sink = redactingSink((r) => seen.push(r), redactor);
 * const dsn = "postgres://app:" + "pw-0123456789" + "@db";
 * sink({
 *   category: ["app"], level: "error", timestamp: Date.now(), rawMessage: "login failed for {dsn}",
 *   message: ["login failed for ", dsn, ""],
 *   properties: { dsn },
 * });
 * if (seen[0].properties.dsn !== "postgres://app:[REDACTED:db/password]@db") throw new Error();
 * ```
 */
export function redactingSink(
  sink: LogSink,
  redactor: Redactor,
  options: LogRedactionOptions = {},
): LogSink {
  const text = textRedactor(redactor, options);
  const fieldPatterns = [...(options.fieldPatterns ?? KEYWARD_REDACT_FIELDS)];
  const wrapped: LogSink = (record) =>
    sink(redactFields(redactRecord(record, text), fieldPatterns));
  const disposable = sink as Partial<Disposable & AsyncDisposable>;
  const dispose = disposable[Symbol.dispose];
  if (dispose) Object.assign(wrapped, { [Symbol.dispose]: dispose.bind(sink) });
  const asyncDispose = disposable[Symbol.asyncDispose];
  if (asyncDispose) Object.assign(wrapped, { [Symbol.asyncDispose]: asyncDispose.bind(sink) });
  return wrapped;
}

/**
 * The console methods {@linkcode redactConsole} wraps.
 *
 * @example Every wrapped method redacts
 * ```ts
 * import { Redactor } from "@keyward/secrets";
 * import { CONSOLE_METHODS, redactConsole } from "@keyward/secrets/logging";
 *
 * const printed: string[] = [];
 * const fake = {} as Record<(typeof CONSOLE_METHODS)[number], (...a: unknown[]) => void>;
 * for (const m of CONSOLE_METHODS) fake[m] = (...a) => void printed.push(String(a[0]));
 * const redactor = new Redactor();
 * redactor.register("api/token", "tok-0123456789");
 * const restore = redactConsole(redactor, { console: fake });
 * for (const m of CONSOLE_METHODS) fake[m]("tok-0123456789");
 * restore();
 * if (printed.length !== 5 || printed.some((p) => p !== "[REDACTED:api/token]")) throw new Error();
 * ```
 */
export const CONSOLE_METHODS: readonly ("log" | "info" | "warn" | "error" | "debug")[] = [
  "log",
  "info",
  "warn",
  "error",
  "debug",
];

/**
 * Options of {@linkcode redactConsole}.
 *
 * @example A text pattern of your own on console output
 * ```ts
 * import { Redactor } from "@keyward/secrets";
 * import { redactConsole } from "@keyward/secrets/logging";
 *
 * const printed: unknown[] = [];
 * const fake = { log() {}, info() {}, warn: (...a: unknown[]) => void printed.push(...a), error() {}, debug() {} };
 * const restore = redactConsole(new Redactor(), {
 *   console: fake,
 *   textPatterns: [{ pattern: /\bsid=\w+/g, replacement: "sid=[REDACTED]" }],
 * });
 * fake.warn("cookie sid=abc123 expired");
 * restore();
 * if (printed[0] !== "cookie sid=[REDACTED] expired") throw new Error(String(printed[0]));
 * ```
 */
export interface RedactConsoleOptions extends LogRedactionOptions {
  /**
   * The console to wrap.
   * @default {globalThis.console}
   */
  console?: Pick<Console, "log" | "info" | "warn" | "error" | "debug">;
}

/**
 * Opt-in, for services that log with `console`: wraps `console.log`,
 * `info`, `warn`, `error` and `debug` so that every argument is redacted
 * (strings, and copies of objects and errors) before it is printed. Returns
 * a function that restores the original methods.
 *
 * @example
 * ```ts
 * import { Redactor } from "@keyward/secrets";
 * import { redactConsole } from "@keyward/secrets/logging";
 *
 * const printed: unknown[][] = [];
 * const fake = { log: (...a: unknown[]) => printed.push(a), info() {}, warn() {}, error() {}, debug() {} };
 * const redactor = new Redactor();
 * redactor.register("api/token", "tok-0123456789");
 * const restore = redactConsole(redactor, { console: fake });
 * fake.log("token is", "tok-0123456789");
 * restore();
 * if (printed[0][1] !== "[REDACTED:api/token]") throw new Error();
 * ```
 */
export function redactConsole(redactor: Redactor, options: RedactConsoleOptions = {}): () => void {
  const target = options.console ?? globalThis.console;
  const text = textRedactor(redactor, options);
  const originals = CONSOLE_METHODS.map((method) => [method, target[method]] as const);
  for (const [method, original] of originals) {
    target[method] = (...args: unknown[]): void => {
      const seen = new Map<object, unknown>();
      original.apply(target, args.map((a) => deepRedact(a, text, seen, 0)));
    };
  }
  return (): void => {
    for (const [method, original] of originals) target[method] = original;
  };
}
