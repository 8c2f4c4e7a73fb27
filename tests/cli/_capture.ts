import { generateFileKey } from "../../backends/file.ts";
import { type CliDeps, type CliIo, main } from "../../cli.ts";

/** What one CLI run printed and returned. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** The questions the hidden prompt was asked. */
  prompts: string[];
}

/** How a captured run is fed. */
export interface Feed {
  /** Standard input (not a terminal). */
  stdin?: string;
  /** Standard input as raw bytes, as a pipe hands them (instead of `stdin`). */
  stdinBytes?: Uint8Array;
  /** Answers typed at the hidden prompt (stdin is then a terminal). */
  typed?: string[];
  /** A terminal without a prompt. */
  terminalWithoutPrompt?: boolean;
}

/** A temporary file store and a `run()` that calls `main` against it with captured output. */
export class CliHarness {
  readonly dir: string;
  readonly env: Record<string, string>;

  private constructor(dir: string, env: Record<string, string>) {
    this.dir = dir;
    this.env = env;
  }

  static async create(extraEnv: Record<string, string> = {}): Promise<CliHarness> {
    const dir = await Deno.makeTempDir({ prefix: "keyward-cli-" });
    return new CliHarness(dir, {
      SECRET_BACKEND: "file",
      KEYWARD_FILE_PATH: `${dir}/secrets.json`,
      KEYWARD_FILE_KEY: generateFileKey(),
      ...extraEnv,
    });
  }

  run(args: string[], feed: Feed = {}, deps: Partial<CliDeps> = {}): Promise<Run> {
    return runMain(args, this.env, feed, deps);
  }

  async dispose(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** Runs `main(args, io)` with captured output. */
export async function runMain(
  args: string[],
  env: Record<string, string | undefined>,
  feed: Feed = {},
  deps: Partial<CliDeps> = {},
): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const prompts: string[] = [];
  const typed = [...(feed.typed ?? [])];
  const terminal = feed.typed !== undefined || feed.terminalWithoutPrompt === true;
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    readStdin: () => {
      if (terminal) throw new Error("standard input read on a terminal");
      return Promise.resolve(feed.stdinBytes ?? feed.stdin ?? "");
    },
    stdinIsTerminal: terminal,
    env,
  };
  if (feed.typed !== undefined) {
    io.promptHidden = (question) => {
      prompts.push(question);
      const answer = typed.shift();
      if (answer === undefined) throw new Error(`unexpected prompt: ${question}`);
      return Promise.resolve(answer);
    };
  }
  const code = await main(args, io, deps);
  return { code, stdout, stderr, prompts };
}

/** Runs `fn` with a fresh harness and removes its directory afterwards. */
export async function withHarness(
  fn: (h: CliHarness) => Promise<void>,
  extraEnv: Record<string, string> = {},
): Promise<void> {
  const h = await CliHarness.create(extraEnv);
  try {
    await fn(h);
  } finally {
    await h.dispose();
  }
}
