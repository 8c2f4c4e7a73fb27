/**
 * What CLI commands read and write, passed in so tests can capture it.
 *
 * @module
 */

/** The CLI's input and output. `main(args, io)` never touches anything else. */
export interface CliIo {
  /** Writes text to standard output as it is (add your own newline). */
  stdout(text: string): void;
  /** Writes text to standard error as it is. */
  stderr(text: string): void;
  /** Reads all of standard input. */
  readStdin(): Promise<string>;
  /** Asks a question on the terminal without echoing the answer; absent when not interactive. */
  promptHidden?: (question: string) => Promise<string>;
  /** Whether standard input is a terminal. */
  stdinIsTerminal: boolean;
  /** The environment settings are read from. */
  env: Record<string, string | undefined>;
}

/** A CLI command: parses its own arguments, returns the exit code. */
export type CliCommand = (args: string[], io: CliIo) => Promise<number>;
