/**
 * A service instance's side of the host endpoint (`deno task serve`): rotation
 * events over the endpoint's server-sent events instead of a LISTEN connection
 * of the instance's own, and audit events sent in batches to the endpoint,
 * which writes them through its one Postgres connection. Web standards only
 * (`fetch` and streams). The factory wires both from `SECRET_ROTATION_EVENTS=endpoint`
 * and `SECRET_AUDIT=endpoint`; this entry is for code that builds them itself.
 *
 * @example
 * ```ts
 * import { EndpointRotationEvents } from "@keyward/secrets/fleet";
 * import { MemorySecretManager, withCache } from "@keyward/secrets";
 *
 * const events = new EndpointRotationEvents({ url: "http://127.0.0.1:8787", token: "kw_example" });
 * const secrets = withCache(new MemorySecretManager(), { rotationEvents: events });
 * await secrets.close();
 * ```
 *
 * @module
 */

export {
  EndpointRotationEvents,
  type EndpointRotationEventsOptions,
} from "./cache/endpoint_rotation_events.ts";
export {
  EndpointAuditSink,
  type EndpointAuditSinkOptions,
  type EndpointAuditSinkStats,
} from "./audit/endpoint_sink.ts";
