/**
 * Rotation steps reach the audit trail whatever wraps the audited manager:
 * the namespace (which prefixes the name), the redaction wrapper, the
 * factory's closing wrapper and the cache the factory builds.
 */

import assert from "node:assert/strict";
import { MemorySecretManager } from "../../backends/memory.ts";
import { withAudit } from "../../audit/audited_manager.ts";
import { withCache } from "../../cache/cached_manager.ts";
import { withNamespace } from "../../core/namespace.ts";
import { exposeRotationRecorder, rotationRecorderOf } from "../../core/rotation_recorder.ts";
import { closingAlso } from "../../factory/_rotation.ts";
import { withRedaction } from "../../redact/manager.ts";
import { Redactor } from "../../redact/redactor.ts";
import { RecordingAuditSink } from "../../testing.ts";

Deno.test("rotationRecorderOf finds the audited manager through every wrapper, under the full name", async () => {
  const sink = new RecordingAuditSink();
  const audited = withAudit(new MemorySecretManager(), sink, { service: "rotator" });
  const cache = withCache(audited);
  exposeRotationRecorder(cache, audited);
  const namespaced = withNamespace(closingAlso(cache, () => Promise.resolve()), "prod");
  const wrapped = withRedaction(namespaced, new Redactor());
  exposeRotationRecorder(wrapped, namespaced);
  const record = rotationRecorderOf(wrapped);
  assert.ok(record, "a recorder is found");
  record("webhooks/signing", { outcome: "ok", version: "2", latencyMs: 3 });
  await wrapped.close();
  const [event] = sink.find({ action: "rotate" });
  assert.equal(event.secretName, "prod/webhooks/signing");
  assert.equal(event.version, "2");
});

Deno.test("rotationRecorderOf answers undefined when nothing is audited", async () => {
  const plain = withNamespace(withCache(new MemorySecretManager()), "prod");
  assert.equal(rotationRecorderOf(plain), undefined);
  await plain.close();
});
