/**
 * `secrets keygen`: makes a new key for the embedded file store.
 *
 * @module
 */

import { generateFileKey, writeKeyFile } from "../backends/file.ts";
import { type CommandDef, defineCommand, stringOption, toJson, UsageError } from "./_command.ts";

/** `keygen --out <path> | --stdout`. */
export const keygenCommand: CommandDef = defineCommand({
  name: "keygen",
  summary: "make a new file-store key (written to a 0600 file)",
  forms: ["--out <path> [--json]", "--stdout [--json]"],
  description: `Makes a new random key for the embedded file store (32 bytes, base64).
--out writes it to <path> with permissions 0600 and refuses to overwrite an
existing file; keep that file outside the repository and point
KEYWARD_FILE_KEY_FILE at it. --stdout prints the key instead: only when you
asked for it explicitly, e.g. to store it in your orchestrator's secret store.`,
  options: {
    out: { type: "string", arg: "path", help: "write the key to a new file (mode 0600)" },
    stdout: { type: "boolean", help: "print the key on standard output" },
  },
  jsonHelp: 'print {"path"} or {"key"} as JSON',
  positionals: { min: 0, max: 0 },
  async run({ values, json, io }) {
    const out = stringOption(values, "out");
    const toStdout = values.stdout === true;
    if (out !== undefined && toStdout) throw new UsageError("give --out or --stdout, not both");
    if (out === undefined && !toStdout) {
      throw new UsageError(
        "keygen writes the key to a file (--out <path>) or, only when asked, to standard output (--stdout)",
      );
    }
    const key = generateFileKey();
    if (out !== undefined) {
      await writeKeyFile(out, key);
      io.stdout(
        json
          ? toJson({ path: out })
          : `wrote a new file key to ${out} (mode 0600)\nuse it with KEYWARD_FILE_KEY_FILE=${out}\n`,
      );
    } else {
      io.stdout(json ? toJson({ key }) : `${key}\n`);
    }
    return 0;
  },
});
