import assert from "node:assert/strict";
import { MemorySecretManager } from "../../backends/memory.ts";
import { auditDefinition } from "../../cli/audit.ts";
import {
  type CommandDef,
  defineCommand,
  helpText,
  runCommand,
  UsageError,
} from "../../cli/_command.ts";
import { defaultDeps } from "../../cli/_deps.ts";
import { EXIT, EXIT_CODES } from "../../cli/_exit.ts";
import { scanDefinition } from "../../cli/scan.ts";
import { type ErrorCode, exitCodeFor } from "../../core/errors.ts";
import { captureIo } from "../../testing/canary.ts";
import { runMain } from "./_capture.ts";

const AUDIT_SUBCOMMANDS = ["tail", "query", "verify", "prune", "stats"];

Deno.test("the help lists the whole exit-code table, 8, 9 and 10 included", async () => {
  const r = await runMain(["--help"], {});
  assert.equal(r.code, 0);
  const help = r.stdout.replace(/\s+/g, " ");
  for (const e of EXIT_CODES) assert.ok(help.includes(`${e.code} ${e.meaning}`), e.meaning);
  assert.match(help, /8 rotation rolled back, 9 rotation overdue found, 10 some items failed/);
  const json = JSON.parse((await runMain(["--help", "--json"], {})).stdout);
  assert.deepEqual(json.exitCodes.map((e: { code: number }) => e.code), [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    130,
  ]);
});

Deno.test("every keyward error code exits with a code of the one table", () => {
  const codes: ErrorCode[] = [
    "not_found",
    "access",
    "conflict",
    "invalid_name",
    "invalid_value",
    "config",
    "unsupported",
    "write",
    "closed",
  ];
  const table = new Set(EXIT_CODES.map((e) => e.code));
  for (const c of codes) assert.ok(table.has(exitCodeFor(c)), c);
  assert.equal(EXIT.usage, exitCodeFor("config"));
  assert.equal(EXIT.not_found, exitCodeFor("not_found"));
  assert.equal(EXIT.write, exitCodeFor("write"));
});

Deno.test("every audit subcommand answers --help with text generated from its definition", async () => {
  for (const sub of AUDIT_SUBCOMMANDS) {
    for (const args of [["audit", sub, "--help"], ["--help", "audit", sub], ["audit", sub, "-h"]]) {
      const r = await runMain(args, {});
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr, "");
      assert.match(r.stdout, new RegExp(`^usage: secrets audit ${sub}\\b`));
      const def = auditDefinition.subcommands!.find((s) => s.name === sub)!;
      for (const option of Object.keys(def.options ?? {})) {
        assert.match(r.stdout, new RegExp(`^ {2}--${option}\\b`, "m"), `${sub} --${option}`);
      }
      assert.match(r.stdout, /^ {2}--json /m);
      assert.match(r.stdout, /^ {2}-h, --help /m);
    }
    const j = await runMain(["audit", sub, "--help", "--json"], {});
    assert.equal(JSON.parse(j.stdout).command, `audit ${sub}`);
  }
  const group = await runMain(["audit", "--help"], {});
  for (const sub of AUDIT_SUBCOMMANDS) {
    assert.match(group.stdout, new RegExp(`^ {2}${sub} +\\S`, "m"));
  }
});

Deno.test("audit's errors go through the one reporter: error: lines, JSON with --json, the table's codes", async () => {
  const noDb = await runMain(["audit", "stats"], {});
  assert.equal(noDb.code, 2);
  assert.match(noDb.stderr, /^error: DATABASE_URL is not set/);
  const noDbJson = await runMain(["audit", "stats", "--json"], {});
  assert.equal(noDbJson.code, 2);
  assert.equal(JSON.parse(noDbJson.stderr).error.code, "config");

  const env = { DATABASE_URL: "postgres://nobody:pw-not-shown-1@127.0.0.1:1/none" };
  const down = await runMain(["--json", "audit", "stats"], env);
  assert.equal(down.code, EXIT.access);
  const err = JSON.parse(down.stderr).error;
  assert.equal(err.code, "access");
  assert.match(err.message, /the audit database is unreachable/);
  assert.ok(!down.stderr.includes("pw-not-shown-1"));

  const unknown = await runMain(["audit", "sekrit-word"], {});
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^error: unknown audit subcommand\n\nusage: secrets audit/);
  assert.ok(!unknown.stderr.includes("sekrit-word"));
  const none = await runMain(["audit"], {});
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^error: no audit subcommand given/);
  const badDuration = await runMain(["audit", "query", "--since", "soon"], {
    DATABASE_URL: env.DATABASE_URL,
  });
  assert.equal(badDuration.code, 2);
  assert.match(badDuration.stderr, /^error: --since takes a duration/);
});

Deno.test("a DATABASE_URL that does not parse is named, never quoted", async () => {
  const r = await runMain(["audit", "stats"], {
    DATABASE_URL: "postgres://keyward:Sup3r/Secr3t#pw@127.0.0.1:5432/x",
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /^error: DATABASE_URL is not a usable Postgres connection URL.*percent-encode/,
  );
  assert.ok(!r.stderr.includes("Secr3t"), r.stderr);
});

Deno.test("a new command group is one definition: help, subcommands, options and deps come for free", async () => {
  const created: string[] = [];
  const token: CommandDef = defineCommand({
    name: "token",
    summary: "create, list and revoke endpoint tokens",
    subcommands: [
      defineCommand<{ service?: string }>({
        name: "create",
        summary: "create a token for a service",
        options: { service: { type: "string", arg: "NAME", required: true, help: "the service" } },
        run({ values, io, deps }) {
          created.push(values.service!);
          io.stdout(`created at ${new Date(deps.now()).toISOString()}\n`);
          return Promise.resolve(0);
        },
      }),
      defineCommand({
        name: "revoke",
        summary: "revoke a token",
        args: "<id>",
        positionals: { min: 1, max: 1 },
        run() {
          throw new UsageError("no such token");
        },
      }),
    ],
  });
  const deps = defaultDeps({ now: () => Date.UTC(2026, 11, 7) });
  const help = captureIo();
  assert.equal(await runCommand(token, ["create", "--help"], help, { deps }), 0);
  assert.match(help.stdoutText, /^usage: secrets token create --service NAME \[--json\]/);
  assert.equal(helpText(token).split("\n")[0], "usage: secrets token <subcommand> [options]");

  const ok = captureIo();
  assert.equal(await runCommand(token, ["create", "--service", "billing"], ok, { deps }), 0);
  assert.equal(ok.stdoutText, "created at 2026-12-07T00:00:00.000Z\n");
  assert.deepEqual(created, ["billing"]);

  const missing = captureIo();
  assert.equal(await runCommand(token, ["create"], missing, { deps }), EXIT.usage);
  assert.match(
    missing.stderrText,
    /^error: token create needs --service\n\nusage: secrets token create/,
  );
  const refused = captureIo();
  assert.equal(await runCommand(token, ["revoke", "t-1", "--json"], refused, { deps }), 2);
  assert.deepEqual(JSON.parse(refused.stderrText), {
    error: { code: "usage", message: "no such token" },
  });
});

Deno.test("main takes its manager factory as a dependency", async () => {
  const store = new MemorySecretManager({ initial: { "app/key": "injected-value-01" } });
  const r = await runMain(["get", "app/key"], {}, {}, {
    createManager: () => Promise.resolve(store),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "injected-value-01\n");
});

Deno.test("scan is a definition like every other command", () => {
  assert.match(helpText(scanDefinition), /^usage: secrets scan /);
  assert.match(helpText(scanDefinition), /^ {2}--allow-list FILE /m);
  assert.match(helpText(scanDefinition), /exit codes: 0 clean, 1 findings/);
});
