/**
 * A child process for the two-process test of the file backend: opens the
 * store given as the first argument (key from KEYWARD_FILE_KEY), says
 * "ready", waits for a line on standard input, then writes N versions of one
 * secret concurrently and prints what it wrote as one JSON line.
 *
 * Usage: deno run --allow-read=DIR --allow-write=DIR --allow-env=KEYWARD_FILE_KEY
 *        tests/backends/_file_writer.ts STORE LABEL N
 */

import { FileSecretManager } from "../../backends/file.ts";

const [path, label, countText] = Deno.args;
const count = Number(countText);
const secrets = new FileSecretManager({
  path,
  key: Deno.env.get("KEYWARD_FILE_KEY") ?? "",
  lockTimeoutMs: 30_000,
});
console.log("ready");
const reader = Deno.stdin.readable.getReader();
await reader.read();
reader.releaseLock();
const values = Array.from(
  { length: count },
  (_, i) => `${label}-value-${i}-${crypto.randomUUID()}`,
);
const written = await Promise.all(values.map((value) => secrets.setSecret("shared/key", value)));
console.log(JSON.stringify(written.map((v, i) => ({ version: v.version, value: values[i] }))));
await secrets.close();
