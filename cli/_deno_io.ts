/**
 * The real {@linkcode CliIo} on Deno: standard streams, the environment and
 * a hidden prompt on a terminal (raw mode, nothing echoed).
 *
 * @module
 */

import { PromptInterrupted } from "./_command.ts";
import type { CliIo } from "./_io.ts";

const encoder = new TextEncoder();

function writeAll(stream: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.byteLength > 0) bytes = bytes.subarray(stream.writeSync(bytes));
}

/** Builds the CLI's input and output from Deno's standard streams and environment. */
export function denoIo(): CliIo {
  const io: CliIo = {
    stdout: (text) => writeAll(Deno.stdout, text),
    stderr: (text) => writeAll(Deno.stderr, text),
    readStdin: async () => new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer()),
    stdinIsTerminal: Deno.stdin.isTerminal(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    env: Deno.env.toObject(),
  };
  if (io.stdinIsTerminal) io.promptHidden = promptHidden;
  return io;
}

/**
 * Reads one line from the terminal without echoing it. Backspace removes the
 * last character, Ctrl-C interrupts, Ctrl-D on an empty line ends the input.
 */
async function promptHidden(question: string): Promise<string> {
  writeAll(Deno.stderr, question);
  const decoder = new TextDecoder();
  const buf = new Uint8Array(256);
  let answer = "";
  Deno.stdin.setRaw(true);
  try {
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null) return answer;
      let text = decoder.decode(buf.subarray(0, n), { stream: true });
      while (text.length > 0) {
        const ch = text[0];
        text = text.slice(1);
        if (ch === "\u0003") throw new PromptInterrupted();
        if (ch === "\r" || ch === "\n") return answer;
        if (ch === "\u0004") {
          if (answer === "") return answer;
          continue;
        }
        if (ch === "\u007f" || ch === "\b") {
          answer = Array.from(answer).slice(0, -1).join("");
          continue;
        }
        if (ch === "\u001b") break; // an escape sequence (arrow keys): drop the rest of this read
        if (ch < " ") continue;
        answer += ch;
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    writeAll(Deno.stderr, "\n");
  }
}
