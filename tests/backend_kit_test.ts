/**
 * The entries' faces (issue 11 item 7): `mod.ts` holds what an application
 * uses; the helpers for backend authors live in `backend_kit.ts`, once, and
 * that entry stays web-standard like `mod.ts`.
 */
import assert from "node:assert/strict";
import * as face from "../mod.ts";
import * as kit from "../backend_kit.ts";

const AUTHORING = [
  "nameProblem",
  "normalizeValue",
  "RESERVED_PREFIX",
  "selectValue",
  "sortFields",
  "utf8Length",
  "validateName",
  "validatePrefix",
  "validateReadOptions",
  "validateWriteOptions",
  "retry",
  "backoffDelayMs",
  "validateRetryPolicy",
  "scrubCause",
  "quoteName",
];

Deno.test("backend authoring helpers are in ./backend-kit and not in the main entry", () => {
  for (const name of AUTHORING) {
    assert.ok(Object.hasOwn(kit, name), `backend-kit exports ${name}`);
    assert.ok(!Object.hasOwn(face, name), `mod.ts no longer exports ${name}`);
  }
  assert.deepEqual(Object.keys(kit).sort(), [...AUTHORING].sort(), "backend-kit holds only these");
});

Deno.test("the main entry keeps what an application uses", () => {
  for (
    const name of [
      "MemorySecretManager",
      "EnvSecretManager",
      "VaultSecretManager",
      "withCache",
      "withNamespace",
      "withAudit",
      "withRedaction",
      "JsonLinesAuditSink",
      "Secret",
      "Redactor",
      "KeywardError",
      "InvalidSecretNameError",
      "ScrubbedError",
      "MAX_NAME_LENGTH",
      "MAX_VALUE_BYTES",
      "VALUE_FIELD",
      "DEFAULT_RETRY",
    ]
  ) {
    assert.ok(Object.hasOwn(face, name), `mod.ts exports ${name}`);
  }
});

Deno.test("backend_kit.ts imports only web-standard local modules", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../backend_kit.ts", import.meta.url).href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const { modules } = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  const root = new URL("../", import.meta.url).href;
  const foreign = modules.map((m) => m.specifier).filter((s) =>
    !s.startsWith(root) && !/^npm:\/?@logtape\//.test(s)
  );
  assert.deepEqual(foreign, [], "no npm package but LogTape, no node: built-in or remote module");
  for (const { specifier } of modules.filter((m) => m.specifier.startsWith(root))) {
    const code = await Deno.readTextFile(new URL(specifier));
    assert.ok(
      !/(?<!["'`*] ?)\bDeno\.(?!test)/.test(code.replace(/\/\*[\s\S]*?\*\//g, "")),
      specifier,
    );
  }
});
