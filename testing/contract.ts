/**
 * The contract suite: one list of cases every backend must pass. It is not
 * tied to `Deno.test`; any runner can execute the cases.
 *
 * @module
 */

import assert from "node:assert/strict";
import { KeywardError } from "../core/errors.ts";
import { withNamespace } from "../core/namespace.ts";
import { MAX_VALUE_BYTES } from "../core/names.ts";
import type { SecretManager, SecretVersion, Stage } from "../core/types.ts";

/**
 * What the suite needs to know about the backend under test.
 *
 * @example A target for a backend of your own, here a wrapper around the memory backend
 * ```ts
 * import { contractSuite, type ContractTarget, FaultyManager, MemorySecretManager } from "@keyward/secrets/testing";
 *
 * const opened = new Set<FaultyManager>();
 * const target: ContractTarget = {
 *   create: (seed) => {
 *     const manager = new FaultyManager(new MemorySecretManager({ initial: seed }));
 *     opened.add(manager);
 *     return manager;
 *   },
 *   retainedVersions: 100,
 *   dispose: async (manager) => {
 *     opened.delete(manager as FaultyManager);
 *     await manager.close();
 *   },
 * };
 * const cases = contractSuite(target);
 * for (const c of cases) await c.fn();
 * if (opened.size !== 0) throw new Error("every case disposed of its manager");
 * ```
 */
export interface ContractTarget {
  /** A fresh, empty manager for one case (for a read-only target: one holding `seed`). */
  create(seed: Record<string, string>): Promise<SecretManager> | SecretManager;
  /** A read-only backend (env): only the read cases run, on a seeded manager. */
  readOnly?: boolean;
  /** Versions the backend keeps per secret; the concurrency case reads back at most this many. */
  retainedVersions?: number;
  /** Whether `deleteSecret` accepts `recoveryDays` (AWS). */
  scheduledDeletion?: boolean;
  /**
   * Whether the version cases run (`readSecret`, `deprecateVersion`,
   * `destroyVersion`); `false` only while a backend is being built.
   * @default {true}
   */
  versionLifecycle?: boolean;
  /**
   * A destroyed version may stay readable by its id for a while (AWS: the
   * version loses its labels and AWS removes it later); it still leaves
   * `describeSecret` and every stage.
   */
  destroyIsEventual?: boolean;
  /** Counts the backend's I/O (requests, file operations): proves refusals happen before any. */
  ioCount?: () => number;
  /** Called after each case with the manager it used. */
  dispose?: (manager: SecretManager) => Promise<void> | void;
}

/**
 * One case of the suite.
 *
 * @example Registering the cases with `Deno.test`
 * ```ts
 * import { type ContractCase, contractSuite, MemorySecretManager } from "@keyward/secrets/testing";
 *
 * const cases: ContractCase[] = contractSuite({ create: () => new MemorySecretManager() });
 * if (cases.length === 0 || new Set(cases.map((c) => c.name)).size !== cases.length) throw new Error();
 * // In a test file: for (const c of cases) Deno.test(`memory: ${c.name}`, c.fn);
 * await cases[0].fn();
 * ```
 */
export interface ContractCase {
  /** A sentence saying what the case checks. */
  name: string;
  /** Runs the case; rejects when the backend breaks the contract. */
  fn: () => Promise<void>;
}

/** Builds an assertion that an error is a keyward error with `code` (and optionally fields). */
function isError(
  code: string,
  fields: Partial<Record<"secret" | "stage" | "version" | "field", string>> = {},
) {
  return (err: unknown): true => {
    assert.ok(err instanceof KeywardError, `expected a KeywardError (${code}), got ${String(err)}`);
    assert.equal(err.code, code, `expected code ${code}, got ${err.code}: ${err.message}`);
    for (const [key, value] of Object.entries(fields)) {
      assert.equal((err as unknown as Record<string, unknown>)[key], value, `error.${key}`);
      assert.ok(err.message.includes(value), `the message names the ${key}: ${err.message}`);
    }
    return true;
  };
}

function unique(label: string): string {
  return `${label}-${crypto.randomUUID()}`;
}

async function stageMap(m: SecretManager, name: string): Promise<Partial<Record<Stage, string>>> {
  const meta = await m.describeSecret(name);
  const out: Partial<Record<Stage, string>> = {};
  for (const v of meta.versions) for (const s of v.stages) out[s] = v.version;
  return out;
}

const BAD_NAMES = [
  "",
  "/leading",
  "trailing/",
  "a//b",
  "a/./b",
  "a/../b",
  "..",
  "ends.",
  "seg./x",
  "spaces are bad",
  "ümlaut",
  "x".repeat(513),
  ".keyward/pending/x",
  ".keyward-internal",
];

/**
 * Returns the contract cases for `target`.
 *
 * @example Running the suite on the memory backend with any runner
 * ```ts
 * import { contractSuite, MemorySecretManager } from "@keyward/secrets/testing";
 *
 * const cases = contractSuite({ create: () => new MemorySecretManager() });
 * for (const c of cases.slice(0, 3)) await c.fn();
 * ```
 */
export function contractSuite(target: ContractTarget): ContractCase[] {
  const cases: ContractCase[] = [];
  const add = (
    name: string,
    body: (m: SecretManager) => Promise<void>,
    seed: Record<string, string> = {},
  ) => {
    cases.push({
      name,
      fn: async () => {
        const m = await target.create(seed);
        try {
          await body(m);
        } finally {
          await target.dispose?.(m);
        }
      },
    });
  };

  const seedFor = (entries: Record<string, string>) => target.readOnly ? entries : {};
  const put = async (m: SecretManager, name: string, value: string) => {
    if (!target.readOnly) await m.setSecret(name, value);
  };

  // ---- reads (every backend) ----
  const readSeed = {
    "alpaca/api_key_id": "PKCONTRACT0000000001",
    "alpaca/api_secret_key": "contract-secret-value-0001",
    "database/password": "contract-db-password-0001",
  };

  add("getSecret() returns the value that was stored", async (m) => {
    for (const [k, v] of Object.entries(readSeed)) await put(m, k, v);
    for (const [k, v] of Object.entries(readSeed)) assert.equal(await m.getSecret(k), v);
  }, seedFor(readSeed));

  add("getSecret() of a missing secret is SecretNotFoundError naming it", async (m) => {
    await assert.rejects(
      m.getSecret("missing/secret_name"),
      isError("not_found", { secret: "missing/secret_name" }),
    );
  }, seedFor(readSeed));

  add(
    "getSecret() of a stage no version holds is SecretNotFoundError naming the stage",
    async (m) => {
      await put(m, "alpaca/api_key_id", readSeed["alpaca/api_key_id"]);
      await assert.rejects(
        m.getSecret("alpaca/api_key_id", { stage: "pending" }),
        isError("not_found", { secret: "alpaca/api_key_id", stage: "pending" }),
      );
      await assert.rejects(
        m.getSecret("alpaca/api_key_id", { stage: "previous" }),
        isError("not_found", { stage: "previous" }),
      );
    },
    seedFor(readSeed),
  );

  add("listSecrets() lists every name, sorted, and filters by prefix", async (m) => {
    for (const [k, v] of Object.entries(readSeed)) await put(m, k, v);
    const all = await m.listSecrets();
    for (const k of Object.keys(readSeed)) {
      assert.ok(all.includes(k), `lists ${k}: ${all.join(",")}`);
    }
    assert.deepEqual(all, [...all].sort());
    const alpaca = await m.listSecrets("alpaca/");
    assert.deepEqual(alpaca, ["alpaca/api_key_id", "alpaca/api_secret_key"]);
    assert.deepEqual(await m.listSecrets("nothing-here/"), []);
    for (const name of all) assert.equal(typeof (await m.getSecret(name)), "string");
  }, seedFor(readSeed));

  add(
    "describeSecret() names the backend and the current version, and never holds the value",
    async (m) => {
      await put(m, "database/password", readSeed["database/password"]);
      const meta = await m.describeSecret("database/password");
      assert.equal(meta.name, "database/password");
      assert.equal(typeof meta.backend, "string");
      const current = meta.versions.filter((v) => v.stages.includes("current"));
      assert.equal(current.length, 1);
      assert.ok(current[0].createdAt instanceof Date);
      assert.ok(!JSON.stringify(meta).includes(readSeed["database/password"]));
      await assert.rejects(
        m.describeSecret("missing/secret_name"),
        isError("not_found", { secret: "missing/secret_name" }),
      );
    },
    seedFor(readSeed),
  );

  add("invalid names are refused with InvalidSecretNameError before any I/O", async (m) => {
    const before = target.ioCount?.();
    for (const bad of BAD_NAMES) {
      await assert.rejects(
        m.getSecret(bad),
        isError("invalid_name"),
        `getSecret(${JSON.stringify(bad)})`,
      );
      await assert.rejects(m.setSecret(bad, "some-value-123"), isError("invalid_name"));
      await assert.rejects(m.describeSecret(bad), isError("invalid_name"));
      await assert.rejects(m.promote(bad, "1"), isError("invalid_name"));
      await assert.rejects(m.deleteSecret(bad), isError("invalid_name"));
      if (target.versionLifecycle !== false) {
        await assert.rejects(m.readSecret(bad), isError("invalid_name"));
        await assert.rejects(m.deprecateVersion(bad, "1"), isError("invalid_name"));
        await assert.rejects(m.destroyVersion(bad, "1"), isError("invalid_name"));
      }
    }
    if (before !== undefined) assert.equal(target.ioCount!(), before, "no I/O for invalid names");
  }, seedFor(readSeed));

  add("a name of 512 characters is accepted and one of 513 refused", async (m) => {
    const long = `long/${"n".repeat(507)}`;
    assert.equal(long.length, 512);
    if (target.readOnly) {
      await assert.rejects(m.getSecret(long), isError("not_found"));
    } else {
      await m.setSecret(long, "long-name-value-1");
      assert.equal(await m.getSecret(long), "long-name-value-1");
    }
    await assert.rejects(m.getSecret(`${long}x`), isError("invalid_name"));
  }, seedFor(readSeed));

  add("a closed manager refuses calls", async (m) => {
    await m.close();
    await assert.rejects(m.getSecret("alpaca/api_key_id"), isError("closed"));
    await assert.rejects(m.listSecrets(), isError("closed"));
  }, seedFor(readSeed));

  if (target.versionLifecycle !== false) {
    add(
      "readSecret() returns the value with the version describeSecret() reports as current",
      async (m) => {
        await put(m, "alpaca/api_key_id", readSeed["alpaca/api_key_id"]);
        const read = await m.readSecret("alpaca/api_key_id");
        assert.equal(read.value, readSeed["alpaca/api_key_id"]);
        assert.equal(read.stage, "current");
        assert.equal(read.version, (await stageMap(m, "alpaca/api_key_id")).current);
        const again = await m.readSecret("alpaca/api_key_id", { version: read.version });
        assert.equal(again.value, read.value);
        assert.equal(again.version, read.version);
        await assert.rejects(
          m.readSecret("missing/secret_name"),
          isError("not_found", { secret: "missing/secret_name" }),
        );
      },
      seedFor(readSeed),
    );
  }

  if (target.readOnly) {
    if (target.versionLifecycle !== false) {
      add(
        "a read-only backend refuses deprecateVersion() and destroyVersion() with UnsupportedOperationError",
        async (m) => {
          const { version } = await m.readSecret("alpaca/api_key_id");
          await assert.rejects(
            m.deprecateVersion("alpaca/api_key_id", version),
            isError("unsupported"),
          );
          await assert.rejects(
            m.destroyVersion("alpaca/api_key_id", version),
            isError("unsupported"),
          );
          assert.equal(await m.getSecret("alpaca/api_key_id"), readSeed["alpaca/api_key_id"]);
        },
        seedFor(readSeed),
      );
    }
    add("a read-only backend refuses writes with UnsupportedOperationError", async (m) => {
      await assert.rejects(
        m.setSecret("alpaca/api_key_id", "new-value-1234"),
        isError("unsupported"),
      );
      await assert.rejects(m.promote("alpaca/api_key_id", "2"), isError("unsupported"));
      await assert.rejects(m.deleteSecret("alpaca/api_key_id"), isError("unsupported"));
      assert.equal(await m.getSecret("alpaca/api_key_id"), readSeed["alpaca/api_key_id"]);
    }, seedFor(readSeed));
    return cases;
  }

  // ---- writes (versioned backends) ----

  add("setSecret() makes a new current version and reports it", async (m) => {
    const v1 = await m.setSecret("svc/token", "token-value-0001");
    assert.deepEqual(v1.stages, ["current"]);
    assert.equal(v1.name, "svc/token");
    assert.equal(typeof v1.version, "string");
    assert.ok(v1.createdAt instanceof Date);
    assert.equal(await m.getSecret("svc/token", { version: v1.version }), "token-value-0001");
    assert.equal(await m.getSecret("svc/token", { stage: "current" }), "token-value-0001");
  });

  add("listSecrets() under two namespaces keeps them apart and strips the namespace", async (m) => {
    const prod = withNamespace(m, "prod");
    const staging = withNamespace(m, "staging");
    await prod.setSecret("db/password", "prod-password-0001");
    await staging.setSecret("db/password", "staging-password-0001");
    await staging.setSecret("db/user", "staging-user-0001");
    assert.deepEqual(await prod.listSecrets(), ["db/password"]);
    assert.deepEqual(await staging.listSecrets("db/"), ["db/password", "db/user"]);
    assert.equal(await prod.getSecret("db/password"), "prod-password-0001");
    assert.equal(await staging.getSecret("db/password"), "staging-password-0001");
    assert.deepEqual(await m.listSecrets("prod/"), ["prod/db/password"]);
    assert.equal((await prod.describeSecret("db/password")).name, "db/password");
  });

  add("field secrets: one field, all fields as JSON, a missing field is not found", async (m) => {
    const login = { password: "field-password-0001", user: "field-user" };
    await m.setSecret("db/login", login);
    assert.equal(await m.getSecret("db/login", { field: "user" }), "field-user");
    assert.equal(await m.getSecret("db/login", { field: "password" }), "field-password-0001");
    assert.deepEqual(JSON.parse(await m.getSecret("db/login")), login);
    await assert.rejects(
      m.getSecret("db/login", { field: "host" }),
      isError("not_found", { field: "host" }),
    );
    await m.setSecret("plain/value", "plain-value-0001");
    assert.equal(await m.getSecret("plain/value", { field: "value" }), "plain-value-0001");
  });

  add(
    "stage table: set moves current to previous, pending keeps its label, a second pending replaces the first",
    async (m) => {
      const v1 = await m.setSecret("rot/key", "rot-value-0001");
      const v2 = await m.setSecret("rot/key", "rot-value-0002");
      assert.deepEqual(await stageMap(m, "rot/key"), { current: v2.version, previous: v1.version });
      assert.equal(await m.getSecret("rot/key", { stage: "previous" }), "rot-value-0001");
      const p1 = await m.setSecret("rot/key", "rot-value-0003", { stage: "pending" });
      assert.deepEqual(p1.stages, ["pending"]);
      assert.equal(
        await m.getSecret("rot/key"),
        "rot-value-0002",
        "current untouched by a pending write",
      );
      assert.equal(await m.getSecret("rot/key", { stage: "pending" }), "rot-value-0003");
      const p2 = await m.setSecret("rot/key", "rot-value-0004", { stage: "pending" });
      assert.equal(await m.getSecret("rot/key", { stage: "pending" }), "rot-value-0004");
      assert.notEqual(p1.version, p2.version);
      const v5 = await m.setSecret("rot/key", "rot-value-0005");
      assert.deepEqual(await stageMap(m, "rot/key"), {
        current: v5.version,
        previous: v2.version,
        pending: p2.version,
      });
    },
  );

  add("a pending write to a missing secret is SecretNotFoundError", async (m) => {
    await assert.rejects(
      m.setSecret("rot/absent", "pending-value-0001", { stage: "pending" }),
      isError("not_found", { secret: "rot/absent" }),
    );
    await assert.rejects(m.getSecret("rot/absent"), isError("not_found"));
  });

  add(
    "ifVersion: a matching write lands, a stale one is SecretConflictError and changes nothing",
    async (m) => {
      const v1 = await m.setSecret("cas/key", "cas-value-0001");
      const v2 = await m.setSecret("cas/key", "cas-value-0002", { ifVersion: v1.version });
      await assert.rejects(
        m.setSecret("cas/key", "cas-value-0003", { ifVersion: v1.version }),
        isError("conflict", { secret: "cas/key" }),
      );
      await assert.rejects(
        m.setSecret("cas/key", "cas-value-0003", { ifVersion: v1.version, stage: "pending" }),
        isError("conflict"),
      );
      assert.equal(await m.getSecret("cas/key"), "cas-value-0002");
      assert.deepEqual(await stageMap(m, "cas/key"), { current: v2.version, previous: v1.version });
    },
  );

  add(
    "promote() makes pending current, is a no-op when repeated, and rolls back to previous",
    async (m) => {
      const v1 = await m.setSecret("pro/key", "promote-value-0001");
      const p = await m.setSecret("pro/key", "promote-value-0002", { stage: "pending" });
      const promoted = await m.promote("pro/key", p.version);
      assert.equal(promoted.version, p.version);
      assert.ok(promoted.stages.includes("current"));
      assert.equal(await m.getSecret("pro/key"), "promote-value-0002");
      assert.equal(await m.getSecret("pro/key", { stage: "previous" }), "promote-value-0001");
      await assert.rejects(
        m.getSecret("pro/key", { stage: "pending" }),
        isError("not_found", { stage: "pending" }),
      );
      const again = await m.promote("pro/key", p.version);
      assert.equal(again.version, p.version);
      assert.equal(
        await m.getSecret("pro/key", { stage: "previous" }),
        "promote-value-0001",
        "repeat is a no-op",
      );
      const back = await m.promote("pro/key", v1.version);
      assert.equal(back.version, v1.version);
      assert.equal(await m.getSecret("pro/key"), "promote-value-0001");
      assert.equal(await m.getSecret("pro/key", { stage: "previous" }), "promote-value-0002");
      await assert.rejects(
        m.promote("pro/key", "no-such-version-999"),
        isError("not_found", { version: "no-such-version-999" }),
      );
      await assert.rejects(
        m.promote("pro/absent", "1"),
        isError("not_found", { secret: "pro/absent" }),
      );
    },
  );

  if (target.versionLifecycle !== false) {
    add("readSecret() of each stage reports the version describeSecret() gives it", async (m) => {
      await m.setSecret("svc/staged", "staged-value-0001");
      await m.setSecret("svc/staged", "staged-value-0002");
      await m.setSecret("svc/staged", "staged-value-0003", { stage: "pending" });
      const stages = await stageMap(m, "svc/staged");
      const expected: Record<Stage, string> = {
        previous: "staged-value-0001",
        current: "staged-value-0002",
        pending: "staged-value-0003",
      };
      for (const stage of ["current", "pending", "previous"] as const) {
        const read = await m.readSecret("svc/staged", { stage });
        assert.equal(read.value, expected[stage], stage);
        assert.equal(read.stage, stage);
        assert.equal(read.version, stages[stage], `the ${stage} version`);
      }
      const field = await m.setSecret("svc/login", { user: "app", password: "pw-field-0001" });
      const one = await m.readSecret("svc/login", { field: "user" });
      assert.deepEqual([one.value, one.version], ["app", (await stageMap(m, "svc/login")).current]);
      assert.equal(typeof field.version, "string");
    });

    add(
      "after promote(), readSecret() of current reports the id describeSecret() gives current",
      async (m) => {
        await m.setSecret("svc/rotated", "rotated-value-0001");
        const pending = await m.setSecret("svc/rotated", "rotated-value-0002", {
          stage: "pending",
        });
        await m.promote("svc/rotated", pending.version);
        const read = await m.readSecret("svc/rotated");
        assert.equal(read.value, "rotated-value-0002");
        assert.equal(read.version, (await stageMap(m, "svc/rotated")).current);
        const byId = await m.readSecret("svc/rotated", { version: read.version });
        assert.equal(byId.value, "rotated-value-0002");
        assert.equal(byId.stage ?? "current", "current");
      },
    );

    add(
      "deprecateVersion() and destroyVersion() refuse the current version with SecretConflictError",
      async (m) => {
        const v1 = await m.setSecret("svc/guarded", "guarded-value-0001");
        for (const call of [m.deprecateVersion, m.destroyVersion]) {
          await assert.rejects(
            call.call(m, "svc/guarded", v1.version),
            isError("conflict", { secret: "svc/guarded", version: v1.version }),
          );
        }
        const meta = await m.describeSecret("svc/guarded");
        assert.ok(meta.versions.every((v) => v.deprecatedAt === undefined));
        assert.equal(
          await m.getSecret("svc/guarded", { version: v1.version }),
          "guarded-value-0001",
        );
        await assert.rejects(
          m.deprecateVersion("missing/secret_name", v1.version),
          isError("not_found", { secret: "missing/secret_name" }),
        );
      },
    );

    add(
      "deprecateVersion() sets deprecatedAt on that version only; it stays readable",
      async (m) => {
        const v1 = await m.setSecret("svc/old", "old-value-0001");
        const v2 = await m.setSecret("svc/old", "old-value-0002");
        await m.deprecateVersion("svc/old", v1.version);
        await m.deprecateVersion("svc/old", v1.version); // again: harmless
        const meta = await m.describeSecret("svc/old");
        const old = meta.versions.find((v) => v.version === v1.version);
        const now = meta.versions.find((v) => v.version === v2.version);
        assert.ok(old?.deprecatedAt instanceof Date, "the deprecated version says when");
        assert.equal(now?.deprecatedAt, undefined);
        assert.equal(await m.getSecret("svc/old", { version: v1.version }), "old-value-0001");
        assert.equal(await m.getSecret("svc/old", { stage: "previous" }), "old-value-0001");
      },
    );

    add("destroyVersion() removes the version from describe, its stage and reads", async (m) => {
      const v1 = await m.setSecret("svc/gone", "gone-value-0001");
      const v2 = await m.setSecret("svc/gone", "gone-value-0002");
      await m.deprecateVersion("svc/gone", v1.version);
      await m.destroyVersion("svc/gone", v1.version);
      const meta = await m.describeSecret("svc/gone");
      assert.deepEqual(meta.versions.map((v) => v.version), [v2.version]);
      await assert.rejects(m.getSecret("svc/gone", { stage: "previous" }), isError("not_found"));
      if (!target.destroyIsEventual) {
        await assert.rejects(
          m.getSecret("svc/gone", { version: v1.version }),
          isError("not_found", { version: v1.version }),
        );
      }
      assert.equal(await m.getSecret("svc/gone"), "gone-value-0002");
      const unknown = v2.version.replace(/.$/, (c) => c === "0" ? "1" : "0");
      await assert.rejects(m.destroyVersion("svc/gone", unknown), isError("not_found"));
    });
  }

  add("describeSecret() lists the versions and their stages", async (m) => {
    const v1 = await m.setSecret("desc/key", "describe-value-0001");
    const v2 = await m.setSecret("desc/key", "describe-value-0002");
    const p = await m.setSecret("desc/key", "describe-value-0003", { stage: "pending" });
    const meta = await m.describeSecret("desc/key");
    const byId = new Map(meta.versions.map((v) => [v.version, v]));
    assert.deepEqual(byId.get(v1.version)?.stages, ["previous"]);
    assert.deepEqual(byId.get(v2.version)?.stages, ["current"]);
    assert.deepEqual(byId.get(p.version)?.stages, ["pending"]);
    assert.ok(!JSON.stringify(meta).includes("describe-value"));
  });

  add("deleteSecret() removes the secret from reads and lists", async (m) => {
    await m.setSecret("del/key", "delete-value-0001");
    await m.setSecret("del/keep", "delete-value-0002");
    await m.deleteSecret("del/key");
    await assert.rejects(m.getSecret("del/key"), isError("not_found", { secret: "del/key" }));
    assert.deepEqual(await m.listSecrets("del/"), ["del/keep"]);
    await assert.rejects(m.deleteSecret("del/never"), isError("not_found"));
  });

  add(
    target.scheduledDeletion
      ? "deleteSecret() with recoveryDays schedules the deletion"
      : "deleteSecret() with recoveryDays is UnsupportedOperationError and deletes nothing",
    async (m) => {
      await m.setSecret("del/recover", "recover-value-0001");
      if (target.scheduledDeletion) {
        await m.deleteSecret("del/recover", { recoveryDays: 7 });
        await assert.rejects(m.getSecret("del/recover"), isError("not_found"));
      } else {
        await assert.rejects(
          m.deleteSecret("del/recover", { recoveryDays: 7 }),
          isError("unsupported"),
        );
        assert.equal(await m.getSecret("del/recover"), "recover-value-0001");
      }
    },
  );

  add(
    "invalid values are refused with InvalidSecretValueError before any I/O, naming the secret",
    async (m) => {
      const before = target.ioCount?.();
      const bad: unknown[] = [
        "",
        "x".repeat(MAX_VALUE_BYTES + 1),
        "é".repeat(MAX_VALUE_BYTES / 2) + "x",
        "\ud800 lone surrogate",
        {},
        { user: 1 },
        { "bad field": "v" },
        { big: "y".repeat(MAX_VALUE_BYTES) },
        null,
        42,
        ["array"],
      ];
      for (const value of bad) {
        await assert.rejects(
          m.setSecret("val/key", value as string),
          (err: unknown) => {
            isError("invalid_value", { secret: "val/key" })(err);
            assert.ok(!(err as Error).message.includes("xxxxxxxx"), "the message holds no value");
            return true;
          },
        );
      }
      if (before !== undefined) {
        assert.equal(
          target.ioCount!(),
          before,
          "no I/O for invalid values",
        );
      }
      await assert.rejects(m.getSecret("val/key"), isError("not_found"));
    },
  );

  add(
    "a value of exactly 65,536 bytes is accepted, multi-byte characters counted as bytes",
    async (m) => {
      const ascii = "a".repeat(MAX_VALUE_BYTES);
      await m.setSecret("val/ascii", ascii);
      assert.equal(await m.getSecret("val/ascii"), ascii);
      const twoByte = "é".repeat(MAX_VALUE_BYTES / 2);
      await m.setSecret("val/multibyte", twoByte);
      assert.equal(await m.getSecret("val/multibyte"), twoByte);
      const fourByte = "😀".repeat(MAX_VALUE_BYTES / 4);
      await m.setSecret("val/emoji", fourByte);
      assert.equal(await m.getSecret("val/emoji"), fourByte);
      await assert.rejects(m.setSecret("val/emoji", fourByte + "a"), isError("invalid_value"));
    },
  );

  add(
    "20 concurrent writers on one name each get their own version and none is lost",
    async (m) => {
      await m.setSecret("race/key", "race-initial-0000");
      const values = Array.from(
        { length: 20 },
        (_, i) => `race-value-${String(i).padStart(4, "0")}-${unique("r")}`,
      );
      const results: SecretVersion[] = await Promise.all(
        values.map((v) => m.setSecret("race/key", v)),
      );
      const ids = new Set(results.map((r) => r.version));
      assert.equal(ids.size, 20, "every write got its own version");
      const retained = Math.min(20, (target.retainedVersions ?? 100) - 1);
      const ordered = [...results.entries()].sort((a, b) =>
        a[1].createdAt.getTime() - b[1].createdAt.getTime() ||
        compareVersions(a[1].version, b[1].version)
      );
      for (const [index, result] of ordered.slice(ordered.length - retained)) {
        assert.equal(await m.getSecret("race/key", { version: result.version }), values[index]);
      }
      const current = await m.getSecret("race/key");
      assert.ok(values.includes(current), "current is one of the written values");
    },
  );

  return cases;
}

function compareVersions(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}
