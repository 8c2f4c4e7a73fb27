import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { generateFileKey } from "../../backends/file.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

async function secrets(
  args: string[],
  env: Record<string, string>,
  stdin: string | Uint8Array = "",
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "secrets", ...args],
    cwd: ROOT,
    env: { ...env, NO_COLOR: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin);
  await writer.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("`deno task secrets` sets from standard input, gets, and exits with mapped codes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "keyward-cli-smoke-" });
  try {
    const env = {
      SECRET_BACKEND: "file",
      KEYWARD_FILE_PATH: `${dir}/secrets.json`,
      KEYWARD_FILE_KEY: generateFileKey(),
    };
    const set = await secrets(["set", "smoke/token"], env, "smoke-token-value-0001\n");
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, "set smoke/token: version 1 (current)\n");
    const get = await secrets(["get", "smoke/token"], env);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, "smoke-token-value-0001\n");
    const missing = await secrets(["get", "smoke/none"], env);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /error: secret "smoke\/none" \(stage current\) not found/);
    const notUtf8 = await secrets(["set", "smoke/bytes"], env, new Uint8Array([0x61, 0x62, 0xff]));
    assert.equal(notUtf8.code, 2);
    assert.match(notUtf8.stderr, /standard input is not valid UTF-8 at byte 2/);
    const unknown = await secrets(["frobnicate"], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /usage: secrets <command>/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
