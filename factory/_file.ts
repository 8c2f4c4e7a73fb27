/**
 * `SECRET_BACKEND=file`: the embedded encrypted store.
 *
 * Settings: `KEYWARD_FILE_PATH` (default `.keyward/secrets.json`, relative to
 * the working directory), and the key as `KEYWARD_FILE_KEY` (32 bytes in
 * base64) or `KEYWARD_FILE_KEY_FILE` (a key file outside the repository,
 * readable by its owner only). Exactly one of the two.
 *
 * @module
 */

import { decodeFileKey, FileSecretManager, readKeyFile } from "../backends/file.ts";
import { ConfigError, KeywardError } from "../core/errors.ts";
import type { BackendBuilder } from "./_types.ts";
import { settingsOf } from "./_settings.ts";

export { DEFAULT_FILE_PATH } from "../settings/table.ts";

/** The store is a local file: the file backend is not cached. */
export const remote = false;

const KEYGEN_HINT = "make one with `deno task secrets keygen --out <path>`";

/** Builds the file backend; the key comes from the environment or a key file. */
export const build: BackendBuilder = async (input) => {
  const settings = settingsOf(input);
  const path = settings.KEYWARD_FILE_PATH;
  const inline = settings.KEYWARD_FILE_KEY;
  const keyFile = settings.KEYWARD_FILE_KEY_FILE;
  if (inline !== undefined && keyFile !== undefined) {
    throw new ConfigError(
      "both KEYWARD_FILE_KEY and KEYWARD_FILE_KEY_FILE are set; set only one of them",
      { backend: "file" },
    );
  }
  let key: Uint8Array;
  if (inline !== undefined) {
    try {
      key = decodeFileKey(inline);
    } catch {
      // The decoder's own message is not repeated: only the rule is.
      throw new ConfigError(
        `KEYWARD_FILE_KEY is not a valid file key: it must be 32 bytes in base64 (${KEYGEN_HINT})`,
        { backend: "file" },
      );
    }
  } else if (keyFile !== undefined) {
    try {
      key = await readKeyFile(keyFile);
    } catch (err) {
      const why = err instanceof KeywardError ? err.message : "it cannot be read";
      throw new ConfigError(`KEYWARD_FILE_KEY_FILE: ${why}`, { backend: "file", cause: err });
    }
  } else {
    throw new ConfigError(
      "the file backend needs a key: set KEYWARD_FILE_KEY (32 bytes in base64) or " +
        `KEYWARD_FILE_KEY_FILE (a key file outside the repository); ${KEYGEN_HINT}`,
      { backend: "file" },
    );
  }
  return new FileSecretManager({ path, key, readDeadlineMs: settings.SECRET_READ_DEADLINE_MS });
};
