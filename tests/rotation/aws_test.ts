/**
 * A full `random` rotation on AWS Secrets Manager (moto, real SDK): the
 * pending version (AWSPENDING) is promoted to AWSCURRENT and the old one is
 * AWSPREVIOUS; a verify that never sees the new version rolls back.
 */

import assert from "node:assert/strict";
import { exitCodeOf } from "../../rotation/engine.ts";
import { findMoto, motoManager } from "../_moto.ts";
import { assertStepsClosed, logText, oneRule, startService, testEngine } from "./_helpers.ts";
import { InMemoryRotationEvents } from "../../cache/rotation_events.ts";

const moto = await findMoto();
const NAME = `rotation/${crypto.randomUUID().slice(0, 8)}/signing`;
const CANARY = "canary-aws-whsec-6b2e9d40f1";

Deno.test({
  name: "aws (moto): a full random rotation; verify waits for the new VersionId",
  ignore: moto === undefined,
  async fn() {
    const { manager } = motoManager(moto!);
    try {
      await manager.setSecret(NAME, CANARY);
      const events = new InMemoryRotationEvents();
      const service = await startService(manager, NAME, events);
      try {
        const { engine, log } = testEngine(manager, {
          events,
          policy: oneRule({
            prefix: "rotation/",
            rotator: "random",
            verify: [{ service: "api", url: service.url, timeoutSeconds: 10 }],
          }),
        });
        const r = await engine.rotate(NAME);
        assert.equal(r.outcome, "scheduled", String(r.error));
        assert.notEqual(r.newVersion, r.fromVersion);
        assert.equal(service.bound(), r.newVersion);
        assert.notEqual(await manager.getSecret(NAME), CANARY);
        assert.equal(await manager.getSecret(NAME, { stage: "previous" }), CANARY);
        assertStepsClosed(await log.entries());
        assert.ok(!(await logText(log)).includes(CANARY));
      } finally {
        await service.close();
      }
    } finally {
      await manager.deleteSecret(NAME, { recoveryDays: 7 }).catch(() => {});
      await manager.close();
    }
  },
});

Deno.test({
  name: "aws (moto): a service that keeps the old version fails verify; rollback, exit 8",
  ignore: moto === undefined,
  async fn() {
    const { manager } = motoManager(moto!);
    const name = `${NAME}-rb`;
    try {
      await manager.setSecret(name, CANARY);
      const stubborn = await startService(manager, name);
      try {
        const { engine } = testEngine(manager, {
          policy: oneRule({
            prefix: "rotation/",
            rotator: "random",
            verify: [{ service: "worker", url: stubborn.url, timeoutSeconds: 0.5 }],
          }),
        });
        const r = await engine.rotate(name);
        assert.equal(exitCodeOf(r), 8);
        assert.equal(await manager.getSecret(name), CANARY);
      } finally {
        await stubborn.close();
      }
    } finally {
      await manager.deleteSecret(name, { recoveryDays: 7 }).catch(() => {});
      await manager.close();
    }
  },
});
