import assert from "node:assert/strict";
import { MemorySecretManager } from "../../backends/memory.ts";
import {
  healthAnswer,
  matchSignature,
  reportedVersion,
  signPayload,
  verifySignature,
} from "../../rotation.ts";
import { parseDuration } from "../../rotation/duration.ts";
import { PolicyError, validatePolicy } from "../../rotation/policy.ts";
import { randomRotator, randomString } from "../../rotation/rotators/random.ts";

Deno.test("healthAnswer reports the bound versions, never a value", () => {
  const body = healthAnswer([{ name: "db/app", version: "7" }, {
    name: "webhooks/x",
    version: "2",
  }]);
  assert.deepEqual(body, { status: "ok", versions: { "db/app": "7", "webhooks/x": "2" } });
  assert.equal(reportedVersion(body, "db/app"), "7");
  assert.equal(reportedVersion({ status: "ok", versions: { "db/app": 7 } }, "db/app"), undefined);
  assert.throws(() => healthAnswer({ a: 1 as unknown as string }), TypeError);
});

Deno.test("a webhook signature verifies against current and, during the grace, previous", async () => {
  const secrets = new MemorySecretManager({ initial: { "webhooks/x": "whsec-old-000000000000" } });
  const body = '{"order":"filled"}';
  const oldSig = await signPayload("whsec-old-000000000000", body);
  assert.equal(await verifySignature(secrets, "webhooks/x", body, oldSig), "current");
  await secrets.setSecret("webhooks/x", "whsec-new-000000000000");
  assert.equal(await verifySignature(secrets, "webhooks/x", body, `sha256=${oldSig}`), "previous");
  const newSig = await signPayload("whsec-new-000000000000", body);
  assert.equal(await verifySignature(secrets, "webhooks/x", body, newSig), "current");
  await secrets.setSecret("webhooks/x", "whsec-newer-0000000000");
  assert.equal(await verifySignature(secrets, "webhooks/x", body, oldSig), undefined, "two back");
  assert.equal(await matchSignature(body + " ", newSig, ["whsec-new-000000000000"]), -1);
});

Deno.test("random values: length, alphabet, uniform choice from WebCrypto", async () => {
  assert.match(randomString(64, "0123456789abcdef"), /^[0-9a-f]{64}$/);
  const v = await randomRotator.generate({ name: "a/b", current: "x", options: { length: 20 } });
  assert.match(v as string, /^[A-Za-z0-9_-]{20}$/);
  const f = await randomRotator.generate({
    name: "a/b",
    current: { id: "k1", token: "old" },
    options: { field: "token", alphabet: "hex" },
  });
  assert.equal((f as Record<string, string>).id, "k1");
  assert.match((f as Record<string, string>).token, /^[0-9a-f]{48}$/);
  assert.deepEqual(
    randomRotator.validateOptions!({ length: 3, alphabet: "ab", x: 1 }).map((p) => p[0]),
    [
      "x",
      "length",
      "alphabet",
    ],
  );
});

Deno.test("durations and the policy's paths", () => {
  assert.equal(parseDuration("0s"), 0);
  assert.equal(parseDuration("30d"), 30 * 86_400_000);
  assert.equal(parseDuration("-1d"), undefined);
  try {
    validatePolicy(
      {
        rules: [{ prefix: "a/", rotator: "random", restart: [{ service: "", command: "x" }] }, {
          prefix: "a/",
        }],
      },
      "p.json",
      { random: () => [] },
    );
    assert.fail("accepted");
  } catch (err) {
    assert.ok(err instanceof PolicyError);
    assert.deepEqual(err.problems, [
      "$.rules[0].restart[0].service: must be a non-empty string",
      "$.rules[0].restart[0].command: must be a non-empty array of strings (no shell)",
      "$.rules[1].prefix: repeats the prefix of $.rules[0]",
      "$.rules[1].rotator: must be one of: random",
    ]);
  }
});
