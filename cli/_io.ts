/**
 * What CLI commands read and write, passed in so tests can capture it.
 *
 * @module
 */

/**
 * The CLI's input and output. `main(args, io)` never touches anything else.
 *
 * @example Feeding a value on standard input, as the bytes a pipe holds
 * ```ts
 * import { type CliIo, main } from "@keyward/secrets/cli";
 * import { MemorySecretManager } from "@keyward/secrets/testing";
 *
 * let out = "";
 * const io: CliIo = {
 *   stdout: (text) => { out += text; },
 *   stderr: () => {},
 *   readStdin: () => Promise.resolve(new TextEncoder().encode("pw-0123456789\n")),
 *   stdinIsTerminal: false,
 *   env: {},
 * };
 * const memory = new MemorySecretManager();
 * const createManager = () => Promise.resolve(memory);
 * if (await main(["set", "db/password"], io, { createManager }) !== 0) throw new Error();
 * if (out.includes("pw-0123456789")) throw new Error("set never echoes the value");
 * ```
 */
export interface CliIo {
  /** Writes text to standard output as it is (add your own newline). */
  stdout(text: string): void;
  /** Writes text to standard error as it is. */
  stderr(text: string): void;
  /**
   * Reads all of standard input: its bytes (decoded by the CLI, which refuses
   * a value that is not UTF-8) or text already decoded.
   */
  readStdin(): Promise<string | Uint8Array>;
  /** Asks a question on the terminal without echoing the answer; absent when not interactive. */
  promptHidden?: (question: string) => Promise<string>;
  /** Whether standard input is a terminal. */
  stdinIsTerminal: boolean;
  /** Whether standard error is a terminal (progress lines are drawn only then). @default {false} */
  stderrIsTerminal?: boolean;
  /** The environment settings are read from. */
  env: Record<string, string | undefined>;
}

/**
 * A CLI command: parses its own arguments, returns the exit code.
 *
 * @example
 * ```ts
 * import { type CliCommand, createScanCommand } from "@keyward/secrets/cli";
 * import { captureIo } from "@keyward/secrets/testing";
 *
 * const scan: CliCommand = createScanCommand();
 * const io = captureIo();
 * if (await scan(["--help"], io) !== 0 || !io.stdoutText.includes("usage")) throw new Error();
 * ```
 */
export type CliCommand = (args: string[], io: CliIo) => Promise<number>;
