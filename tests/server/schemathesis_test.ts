/**
 * Schemathesis (PyPI; `.ci/run` installs it) against /openapi.json of a live
 * endpoint on 127.0.0.1 with a valid token: no 5xx, and every response
 * matches the document (status, content type, headers, body schema), and
 * auth is never ignored. Skipped with a message when `st` is not installed,
 * outside CI; under CI=true a missing `st` fails.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../cli.ts";
import { captureIo, MemorySecretManager } from "../../testing.ts";
import { startServer } from "../../server/serve.ts";

const IN_CI = Deno.env.get("CI") === "true";

async function stInstalled(): Promise<boolean> {
  try {
    const out = await new Deno.Command("st", {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

const installed = await stInstalled();
const HINT = "schemathesis is not installed (pip install schemathesis; .ci/run does)";
if (!installed && !IN_CI) console.warn(`tests/server/schemathesis_test.ts skipped: ${HINT}`);

Deno.test({
  name: "schemathesis finds no 5xx and no response that differs from /openapi.json",
  ignore: !installed && !IN_CI,
  async fn() {
    assert.ok(installed, `CI=true but ${HINT}`);
    const dir = await Deno.makeTempDir({ prefix: "keyward-fuzz-" });
    const canary = `fuzz-canary-${crypto.randomUUID()}`;
    const env = {
      KEYWARD_TOKENS_FILE: join(dir, "tokens.json"),
      KEYWARD_SERVER_AUDIT_FILE: join(dir, "audit.jsonl"),
      KEYWARD_SERVER_PORT: "0",
      SECRET_BACKEND: "memory",
    };
    const io = captureIo({ env });
    const made = await main([
      "token",
      "create",
      "--service",
      "fuzz",
      "--prefix",
      "*",
      "--stage",
      "previous",
      "--role",
      "read",
      "--role",
      "metrics",
      "--rate-per-second",
      "1000000",
    ], io);
    assert.equal(made, 0, io.stderrText);
    const token = io.stdoutText.trim();
    const manager = new MemorySecretManager({ initial: { app: canary, "database/app": canary } });
    const running = await startServer(env, () => {}, { manager });
    try {
      const out = await new Deno.Command("st", {
        args: [
          "run",
          `${running.url}/openapi.json`,
          "-H",
          `Authorization: Bearer ${token}`,
          "-H",
          `X-Aws-Parameters-Secrets-Token: ${token}`,
          "--checks",
          "not_a_server_error,status_code_conformance,content_type_conformance," +
          "response_headers_conformance,response_schema_conformance,ignored_auth",
          "--max-examples",
          "60",
          "--seed",
          "15",
          "--no-color",
          "--generation-database",
          "none",
        ],
        cwd: dir,
        env: { NO_COLOR: "1", SCHEMATHESIS_TELEMETRY: "false" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const report = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.ok(out.success, report.slice(-6000));
      assert.match(report, /Test cases:\s+\d+ generated, \d+ passed/);
    } finally {
      await running.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
