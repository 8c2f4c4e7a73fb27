/**
 * The leak canary: plant a unique value in a backend, run a piece of code,
 * capture everything it could leak through (LogTape records, thrown errors
 * with their causes, audit events, metric lines, CLI output) and fail with
 * the channel that leaked if the value, or its JSON-escaped, URL-encoded or
 * base64 form, shows up. Not tied to `Deno.test`.
 *
 * @module
 */

import { configure, reset } from "@logtape/logtape";
import type { CliIo } from "../cli/_io.ts";
import type { SecretManager } from "../core/types.ts";
import type { LogRecordLike } from "../redact/logging.ts";
import { Redactor } from "../redact/redactor.ts";

/**
 * A {@linkcode CliIo} that keeps what is written.
 *
 * @example Checking what a CLI command printed, and where
 * ```ts
 * import { main } from "@keyward/secrets/cli";
 * import { type CaptureIo, captureIo, MemorySecretManager } from "@keyward/secrets/testing";
 *
 * const io: CaptureIo = captureIo();
 * const createManager = () => Promise.resolve(new MemorySecretManager());
 * const code = await main(["get", "missing/name"], io, { createManager });
 * if (code === 0 || io.stdoutText !== "") throw new Error("a failed get prints nothing on stdout");
 * if (!io.stderrText.includes('"missing/name"')) throw new Error("the error names the secret");
 * ```
 */
export interface CaptureIo extends CliIo {
  /** Everything written to standard output. */
  readonly stdoutText: string;
  /** Everything written to standard error. */
  readonly stderrText: string;
}

/**
 * Options of {@linkcode captureIo}.
 *
 * @example Answering the hidden prompts of an interactive `set`
 * ```ts
 * import { main } from "@keyward/secrets/cli";
 * import { captureIo, type CaptureIoOptions, MemorySecretManager } from "@keyward/secrets/testing";
 *
 * const questions: string[] = [];
 * const options: CaptureIoOptions = {
 *   stdinIsTerminal: true, // so `set` prompts instead of reading standard input
 *   promptHidden: (question) => {
 *     questions.push(question);
 *     return Promise.resolve("pw-0123456789");
 *   },
 * };
 * const io = captureIo(options);
 * const createManager = () => Promise.resolve(new MemorySecretManager());
 * if (await main(["set", "db/password"], io, { createManager }) !== 0) throw new Error(io.stderrText);
 * if (questions.length !== 2) throw new Error("the value is asked for, then confirmed");
 * if (io.stdoutText.includes("pw-0123456789")) throw new Error("set never echoes the value");
 * ```
 */
export interface CaptureIoOptions {
  /**
   * What standard input holds.
   * @default {""}
   */
  stdin?: string;
  /**
   * The environment the command sees.
   * @default {{}}
   */
  env?: Record<string, string | undefined>;
  /**
   * Whether standard input is a terminal.
   * @default {false}
   */
  stdinIsTerminal?: boolean;
  /** Answers hidden prompts, when given. */
  promptHidden?: (question: string) => Promise<string>;
}

/**
 * Builds a capturing {@linkcode CliIo} for `main(args, io)` or a command.
 *
 * @example
 * ```ts
 * import { captureIo } from "@keyward/secrets/testing";
 * const io = captureIo({ stdin: "input" });
 * io.stdout("hello\n");
 * if (io.stdoutText !== "hello\n" || await io.readStdin() !== "input") throw new Error();
 * ```
 */
export function captureIo(options: CaptureIoOptions = {}): CaptureIo {
  let out = "";
  let err = "";
  const io: CaptureIo = {
    stdout(text: string): void {
      out += text;
    },
    stderr(text: string): void {
      err += text;
    },
    readStdin: () => Promise.resolve(options.stdin ?? ""),
    stdinIsTerminal: options.stdinIsTerminal ?? false,
    env: options.env ?? {},
    get stdoutText(): string {
      return out;
    },
    get stderrText(): string {
      return err;
    },
  };
  if (options.promptHidden) io.promptHidden = options.promptHidden;
  return io;
}

/**
 * The planted value and the name it was planted under.
 *
 * @example Choosing the name the code under test reads
 * ```ts
 * import { type Canary, MemorySecretManager, runCanary } from "@keyward/secrets/testing";
 *
 * const manager = new MemorySecretManager();
 * const report = await runCanary(async ({ canary }: { canary: Canary }) => {
 *   return (await manager.getSecret("db/password")) === canary.value;
 * }, { manager, name: "db/password", captureLogs: false });
 * if (report.canary.name !== "db/password" || !report.canary.value.startsWith("canary-")) {
 *   throw new Error();
 * }
 * if (report.result !== true) throw new Error("the code read the planted value");
 * ```
 */
export interface Canary {
  /** The secret's name. */
  name: string;
  /** The value (`canary-<uuid>` unless given). */
  value: string;
}

/**
 * Where a leak was seen.
 *
 * @example A value printed on purpose is allowed on its channel only
 * ```ts
 * import {
 *   type CanaryChannel,
 *   CanaryLeakError,
 *   MemorySecretManager,
 *   runCanary,
 * } from "@keyward/secrets/testing";
 *
 * const manager = new MemorySecretManager();
 * const expectIn: CanaryChannel[] = ["stdout"]; // like `keyward get`, which prints the value
 * await runCanary(async ({ canary, io }) => {
 *   io.stdout(`${await manager.getSecret(canary.name)}\n`);
 * }, { manager, expectIn, captureLogs: false });
 * const leaked = await runCanary(async ({ canary, io }) => {
 *   io.stderr(`read ${await manager.getSecret(canary.name)}\n`);
 * }, { manager, expectIn, captureLogs: false }).then(() => null, (err) => err);
 * if (!(leaked instanceof CanaryLeakError) || leaked.channel !== "stderr") throw new Error();
 * ```
 */
export type CanaryChannel = "log" | "error" | "audit" | "metric" | "stdout" | "stderr";

/**
 * What the code under test receives.
 *
 * @example Scanning an error the code caught itself and the metric it emitted
 * ```ts
 * import { type CanaryContext, MemorySecretManager, runCanary } from "@keyward/secrets/testing";
 *
 * const manager = new MemorySecretManager();
 * const report = await runCanary(async (ctx: CanaryContext) => {
 *   try {
 *     await manager.getSecret(ctx.canary.name, { version: "no-such-version" });
 *   } catch (err) {
 *     ctx.recordError(err); // swallowed by the code, scanned all the same
 *   }
 *   ctx.metric(`secret_reads_failed{name="${ctx.canary.name}"} 1`);
 * }, { manager, captureLogs: false });
 * if (report.errors.length !== 1 || report.metrics.length !== 1) throw new Error();
 * ```
 */
export interface CanaryContext {
  /** The planted canary. */
  canary: Canary;
  /** The capturing CLI io (scanned as `stdout` and `stderr`). */
  io: CaptureIo;
  /** Records an error the code caught itself, so it is scanned too. */
  recordError(err: unknown): void;
  /** Records a metric line (scanned as `metric`). */
  metric(line: string): void;
}

/**
 * Options of {@linkcode runCanary}.
 *
 * @example Proving the audit trail of a read holds the name and never the value
 * ```ts
 * import { withAudit } from "@keyward/secrets";
 * import {
 *   type CanaryOptions,
 *   MemorySecretManager,
 *   RecordingAuditSink,
 *   runCanary,
 * } from "@keyward/secrets/testing";
 *
 * const sink = new RecordingAuditSink();
 * const manager = withAudit(new MemorySecretManager(), sink, { service: "api" });
 * const options: CanaryOptions = {
 *   manager, // the canary is planted with manager.setSecret()
 *   value: "canary-value-0123456789",
 *   audit: sink, // its events are scanned after the run
 *   captureLogs: true, // every LogTape record of the run is scanned too
 * };
 * const report = await runCanary(async ({ canary }) => {
 *   await manager.getSecret(canary.name);
 * }, options);
 * if (report.audit.length !== 2) throw new Error("the set and the get were audited");
 * ```
 */
export interface CanaryOptions {
  /**
   * The secret's name.
   * @default {"canary/leak-<8 hex digits>"}
   */
  name?: string;
  /**
   * The value planted (at least 8 bytes).
   * @default {"canary-<uuid>"}
   */
  value?: string;
  /** The backend the canary is planted in with `setSecret`, unless `plant` is given. */
  manager?: SecretManager;
  /** Plants the canary (for a read-only backend: build it holding the value). */
  plant?: (canary: Canary) => Promise<void> | void;
  /** Audit events to scan after the run: an array, or a sink with `events`, or a reader. */
  audit?:
    | readonly unknown[]
    | { readonly events: readonly unknown[] }
    | (() => readonly unknown[] | Promise<readonly unknown[]>);
  /** Metric lines to scan after the run (besides those given to `ctx.metric`). */
  metrics?: () => readonly string[] | Promise<readonly string[]>;
  /**
   * The io handed to the code.
   * @default {captureIo()}
   */
  io?: CaptureIo;
  /**
   * Capture every LogTape record (LogTape is configured for the run with a
   * capturing sink on every category, and reset afterwards: it replaces any
   * configuration the process had).
   * @default {true}
   */
  captureLogs?: boolean;
  /**
   * Channels where the value is expected (an explicit `get` prints it on
   * `stdout`): not scanned.
   * @default {[]}
   */
  expectIn?: readonly CanaryChannel[];
}

/**
 * What a run captured.
 *
 * @example A failure the code threw is reported, not rethrown
 * ```ts
 * import { SecretNotFoundError } from "@keyward/secrets";
 * import { type CanaryReport, MemorySecretManager, runCanary } from "@keyward/secrets/testing";
 *
 * const manager = new MemorySecretManager();
 * const report: CanaryReport<string> = await runCanary(async ({ canary }) => {
 *   return await manager.getSecret(canary.name, { stage: "pending" }); // there is no pending one
 * }, { manager, captureLogs: false });
 * if (report.result !== undefined) throw new Error();
 * if (!(report.thrown instanceof SecretNotFoundError) || report.errors[0] !== report.thrown) {
 *   throw new Error();
 * }
 * if (report.stdout !== "" || report.stderr !== "") throw new Error();
 * ```
 */
export interface CanaryReport<T> {
  /** The planted canary. */
  canary: Canary;
  /** What the code returned, when it did not throw. */
  result?: T;
  /** What the code threw, when it did. */
  thrown?: unknown;
  /** Every LogTape record. */
  logs: LogRecordLike[];
  /** Every error: the thrown one and the recorded ones. */
  errors: unknown[];
  /** Audit events read after the run. */
  audit: unknown[];
  /** Metric lines. */
  metrics: string[];
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/**
 * The canary appeared in a captured channel. Its message names the channel,
 * the item and the form, never the value.
 *
 * @example Catching a value printed by mistake
 * ```ts
 * import { CanaryLeakError, MemorySecretManager, runCanary } from "@keyward/secrets/testing";
 *
 * const manager = new MemorySecretManager();
 * try {
 *   await runCanary(async ({ canary, io }) => {
 *     const value = await manager.getSecret(canary.name);
 *     io.stderr(`debug: read ${btoa(value)}\n`); // the bug: base64 hides nothing
 *   }, { manager, captureLogs: false });
 *   throw new Error("the leak went unnoticed");
 * } catch (err) {
 *   if (!(err instanceof CanaryLeakError)) throw err;
 *   if (err.channel !== "stderr" || err.form !== "base64") throw err;
 *   if (err.message.includes("canary-")) throw err; // names the channel, never the value
 * }
 * ```
 */
export class CanaryLeakError extends Error {
  /** The channel that leaked. */
  readonly channel: CanaryChannel;
  /** Which item of the channel (`record 3 (keyward.cache)`, `error 1 cause 2`). */
  readonly where: string;
  /** How the value was written (`plain`, `json`, `url`, `base64`, `base64url`). */
  readonly form: string;
  /** Builds the error; it names the channel, never the value. */
  constructor(channel: CanaryChannel, where: string, form: string) {
    super(`the canary leaked into ${channel}: ${where}, written as ${form}`);
    this.name = "CanaryLeakError";
    this.channel = channel;
    this.where = where;
    this.form = form;
  }
}

/**
 * Plants a canary, runs `code`, and throws {@linkcode CanaryLeakError}
 * naming the channel if the value (plain, JSON-escaped, URL-encoded or
 * base64 at any alignment) appears in a log record, an error (message,
 * stack, JSON, down the `cause` chain), an audit event, a metric line, or
 * the output. Errors the code throws are captured, not rethrown: read them
 * from the report.
 *
 * @example Proving a not-found error names the secret, not the value
 * ```ts
 * import { MemorySecretManager, runCanary } from "@keyward/secrets/testing";
 *
 * const manager = new MemorySecretManager();
 * const report = await runCanary(async ({ canary }) => {
 *   await manager.getSecret(canary.name, { stage: "pending" });
 * }, { manager });
 * if (report.thrown === undefined || report.logs.length === 0) throw new Error("expected a warning");
 * ```
 */
export async function runCanary<T>(
  code: (ctx: CanaryContext) => Promise<T> | T,
  options: CanaryOptions = {},
): Promise<CanaryReport<T>> {
  const canary: Canary = {
    name: options.name ?? `canary/leak-${crypto.randomUUID().slice(0, 8)}`,
    value: options.value ?? `canary-${crypto.randomUUID()}`,
  };
  const detector = new Redactor();
  if (!detector.register("canary", canary.value)) {
    throw new RangeError("a canary value must be at least 8 bytes long");
  }
  const io = options.io ?? captureIo();
  const report: CanaryReport<T> = {
    canary,
    logs: [],
    errors: [],
    audit: [],
    metrics: [],
    stdout: "",
    stderr: "",
  };
  const captureLogs = options.captureLogs ?? true;
  if (captureLogs) {
    await configure({
      reset: true,
      sinks: { canary: (record: LogRecordLike) => void report.logs.push(record) },
      loggers: [
        { category: [], sinks: ["canary"], lowestLevel: "trace" },
      ],
    });
  }
  try {
    if (options.plant) await options.plant(canary);
    else if (options.manager) await options.manager.setSecret(canary.name, canary.value);
    const ctx: CanaryContext = {
      canary,
      io,
      recordError: (err) => void report.errors.push(err),
      metric: (line) => void report.metrics.push(line),
    };
    try {
      report.result = await code(ctx);
    } catch (err) {
      report.thrown = err;
      report.errors.unshift(err);
    }
    const audit = options.audit;
    if (audit !== undefined) {
      const events = typeof audit === "function"
        ? await audit()
        : Array.isArray(audit)
        ? audit
        : (audit as { events: readonly unknown[] }).events;
      report.audit.push(...events);
    }
    if (options.metrics) report.metrics.push(...await options.metrics());
  } finally {
    if (captureLogs) await reset();
  }
  report.stdout = io.stdoutText;
  report.stderr = io.stderrText;
  assertNoCanary(report, detector, new Set(options.expectIn ?? []));
  return report;
}

function assertNoCanary(
  report: CanaryReport<unknown>,
  detector: Redactor,
  expected: Set<CanaryChannel>,
): void {
  const check = (channel: CanaryChannel, where: string, texts: string[]): void => {
    if (expected.has(channel)) return;
    for (const text of texts) {
      const [hit] = detector.matches(text);
      if (hit) throw new CanaryLeakError(channel, where, hit.form);
    }
  };
  check("stdout", "standard output", [report.stdout]);
  check("stderr", "standard error", [report.stderr]);
  report.logs.forEach((record, i) => {
    const where = `log record ${i + 1} (${record.category.join(".")}, ${record.level})`;
    check("log", `${where}, message`, [
      ...record.message.flatMap((part) => textsOf(part)),
      ...textsOf(record.rawMessage),
    ]);
    for (const [key, value] of Object.entries(record.properties)) {
      check("log", `${where}, property ${JSON.stringify(key)}`, textsOf(value));
    }
  });
  report.errors.forEach((err, i) => {
    // Deepest first: an inspected error prints its causes too, so the
    // innermost link that holds the value is the one to name.
    const chain = causeChain(err);
    for (let depth = chain.length - 1; depth >= 0; depth--) {
      const where = depth === 0 ? `error ${i + 1}` : `error ${i + 1}, cause ${depth}`;
      check("error", where, textsOf(chain[depth], false));
    }
  });
  report.audit.forEach((event, i) => check("audit", `audit event ${i + 1}`, textsOf(event)));
  report.metrics.forEach((line, i) => check("metric", `metric line ${i + 1}`, [line]));
}

/** The error and its causes (and aggregated errors), cycle-safe. */
function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown): void => {
    if (seen.has(e) || chain.length > 100) return;
    seen.add(e);
    chain.push(e);
    if (typeof e === "object" && e !== null) {
      if ("cause" in e) visit((e as { cause: unknown }).cause);
      if (e instanceof AggregateError) { for (const inner of e.errors) visit(inner); }
    }
  };
  visit(err);
  return chain;
}

interface DenoInspect {
  inspect(value: unknown, options?: { depth?: number }): string;
}

/**
 * Every text a value could be printed as: strings found by walking it, its
 * JSON, and (on Deno) its inspection; errors give name, message, stack and
 * own properties (`deep` also walks their causes).
 */
function textsOf(value: unknown, deep = true): string[] {
  const texts: string[] = [];
  const seen = new Set<unknown>();
  const walk = (v: unknown, depth: number): void => {
    if (typeof v === "string") {
      texts.push(v);
      return;
    }
    if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") {
      texts.push(String(v));
      return;
    }
    if (typeof v !== "object" || v === null || seen.has(v) || depth > 30) return;
    seen.add(v);
    if (v instanceof Error) {
      texts.push(v.name, v.message, v.stack ?? "");
      if (deep && "cause" in v) walk(v.cause, depth + 1);
      if (deep && v instanceof AggregateError) walk(v.errors, depth + 1);
    }
    if (ArrayBuffer.isView(v)) {
      texts.push(new TextDecoder("utf-8", { fatal: false }).decode(v as Uint8Array));
      return;
    }
    if (v instanceof Map) {
      for (const [k, item] of v) {
        walk(k, depth + 1);
        walk(item, depth + 1);
      }
    } else if (v instanceof Set) {
      for (const item of v) walk(item, depth + 1);
    }
    for (const key of Object.keys(v)) {
      texts.push(key);
      walk((v as Record<string, unknown>)[key], depth + 1);
    }
  };
  walk(value, 0);
  try {
    const json = JSON.stringify(value, (_k, v) => typeof v === "bigint" ? String(v) : v);
    if (json !== undefined) texts.push(json);
  } catch { /* cyclic: the walk covered it */ }
  const deno = (globalThis as { Deno?: DenoInspect }).Deno;
  if (deno?.inspect && typeof value === "object" && value !== null) {
    try {
      texts.push(deno.inspect(value, { depth: 10 }));
    } catch { /* an object whose inspection throws shows nothing */ }
  }
  return texts;
}
