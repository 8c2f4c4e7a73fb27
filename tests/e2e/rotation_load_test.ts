/**
 * Zero-downtime rotation, end to end: while a client sends a steady stream
 * of requests to both example services, `deno task rotate database/app` and
 * `deno task rotate alpaca/api_key` complete, verify sees both services
 * report the new versions, and not one request fails. The figures are printed
 * (docs/PERFORMANCE.md, "Zero-downtime rotation, measured", comes from
 * `tests/bench/rotation_load.ts`, which runs the same scenario).
 */

import assert from "node:assert/strict";
import { openTestDatabase } from "../_postgres.ts";
import { figures, lastPrinted, runRotationLoad } from "./_rotation_load.ts";

const db = await openTestDatabase("e2e_rotation_load");

Deno.test({
  name:
    "e2e: database/app and alpaca/api_key rotate under a steady load on both services, and not one request fails",
  ignore: db === null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    try {
      const result = await runRotationLoad(db!, { rate: 100 });
      const f = figures(result);
      console.log(
        `rotation under load: ${f.sent} requests in ${f.runSeconds.toFixed(1)} s ` +
          `(${f.ratePerSecond.toFixed(0)}/s), ${f.failed} failed; during the rotations ` +
          `(${f.rotationSeconds.toFixed(1)} s): ${f.duringSent} sent, ${f.duringFailed} failed, ` +
          `p50 ${f.duringP50.toFixed(1)} ms, p99 ${f.duringP99.toFixed(1)} ms`,
      );
      for (const r of result.rotations) {
        assert.equal(r.code, 0, `deno task rotate ${r.name}:\n${r.output}`);
        assert.match(r.output, /verify +succeeded/, r.output);
      }
      // verify saw both services on the new versions; they still report them
      const dbVersion = (result.finalVersions.signal as Record<string, string>)["database/app"];
      const keyVersion = (result.finalVersions.gateway as Record<string, string>)["alpaca/api_key"];
      assert.notEqual(dbVersion, result.initialVersions.database);
      assert.notEqual(keyVersion, result.initialVersions.alpaca);
      assert.match(
        result.rotations[0].output,
        new RegExp(
          `rotated database/app: version ${result.initialVersions.database} -> ${dbVersion}`,
        ),
      );
      assert.match(
        result.rotations[1].output,
        new RegExp(
          `rotated alpaca/api_key: version ${result.initialVersions.alpaca} -> ${keyVersion}`,
        ),
      );
      // the signal service's live pool logs in as the other alternating role
      assert.equal(result.database.after, result.database.before.replace(/_a$/, "_b"));
      assert.ok(result.database.sessionsAsNew > 0, "the new pool is connected as the new login");
      // the broker saw the old key, then the new one, and refused nothing
      assert.equal(result.brokerKeyIds[0], result.oldKeyId);
      assert.equal(result.brokerKeyIds.at(-1), result.newKeyId);
      assert.equal(result.brokerRefused, 0);

      const failures = result.samples.filter((s) => !s.ok);
      assert.deepEqual(
        failures.slice(0, 5).map((s) => `${s.service} ${s.status}`),
        [],
        `${failures.length} requests failed`,
      );
      assert.ok(f.ratePerSecond >= 50, `only ${f.ratePerSecond.toFixed(1)} requests/s`);
      assert.ok(f.duringSent > 0, "requests were sent during the rotations");

      assert.deepEqual(lastPrinted.codes, [0, 0], "both services stopped on SIGTERM with 0");
      for (const value of result.values) {
        assert.ok(!lastPrinted.printed.includes(value), "a service or the CLI printed a secret");
      }
    } finally {
      await db!.close();
    }
  },
});
