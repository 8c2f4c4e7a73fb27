/**
 * A child process for the paused-writer tests of the file backend (issue 12
 * item 9): writes one value to the store, and inside the lock, just before
 * the commit, writes MARKER and waits until RESUME exists. The test stops it
 * there with SIGSTOP, lets another writer try, then resumes it with SIGCONT.
 * Prints its outcome as one JSON line: {"ok":true,"version"} or
 * {"ok":false,"code","reason"}.
 *
 * MODE `os-lock` uses the default port (with Deno's OS file lock); MODE
 * `fence-only` drops the OS lock, as on Node, so only the commit fence guards.
 *
 * Usage: deno run --allow-read=DIR --allow-write=DIR --allow-env=KEYWARD_FILE_KEY
 *        tests/backends/_file_paused_writer.ts STORE MARKER RESUME VALUE MODE
 */

import { FileSecretManager, type FsPort } from "../../backends/file.ts";
import { nodeFsPort } from "../../backends/_fs_port.ts";
import { KeywardError } from "../../mod.ts";

const [path, marker, resume, value, mode] = Deno.args;
const { tryOsLock, ...withoutOsLock } = nodeFsPort;
const base: FsPort = mode === "fence-only" ? withoutOsLock : { ...withoutOsLock, tryOsLock };

const port: FsPort = {
  ...base,
  async writeFileAtomic(target, data, fileMode, beforeRename) {
    if (target === path) {
      await Deno.writeTextFile(marker, "inside the lock\n");
      while (!(await Deno.stat(resume).then(() => true, () => false))) {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    return await base.writeFileAtomic(target, data, fileMode, beforeRename);
  },
};

const secrets = new FileSecretManager({
  path,
  key: Deno.env.get("KEYWARD_FILE_KEY") ?? "",
  fsPort: port,
});
try {
  const written = await secrets.setSecret("shared/key", value);
  console.log(JSON.stringify({ ok: true, version: written.version }));
} catch (err) {
  const code = err instanceof KeywardError ? err.code : "unknown";
  const reason = (err as { reason?: string }).reason ?? null;
  console.log(JSON.stringify({ ok: false, code, reason }));
} finally {
  await secrets.close();
}
