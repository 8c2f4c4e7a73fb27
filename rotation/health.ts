/**
 * The health answer services give and rotation's verify polls:
 * `{ "status": "ok", "versions": { "<secret name>": "<version id>" } }`.
 *
 * @module
 */

/**
 * A health answer: the version of each secret bound to the live client or
 * pool (never a value, never a fingerprint of one).
 */
export interface HealthAnswer {
  /** Always `ok` when the service answers at all. */
  status: "ok";
  /** Secret name -> the version id of the credential in use. */
  versions: Record<string, string>;
}

/**
 * Builds the health answer from the versions bound to live clients: pass
 * the version a client was created with (from `readSecret(...).version`),
 * not one read fresh for the answer.
 *
 * @example A service reports the version its webhook verifier holds
 * ```ts
 * import { healthAnswer } from "@keyward/secrets/rotation";
 *
 * const bound = new Map([["webhooks/signing", "3"]]); // set when the client was built
 * const body = healthAnswer(bound);
 * if (JSON.stringify(body) !== '{"status":"ok","versions":{"webhooks/signing":"3"}}') {
 *   throw new Error();
 * }
 * ```
 */
export function healthAnswer(
  bound:
    | Map<string, string>
    | Record<string, string>
    | Iterable<{ name: string; version: string }>,
): HealthAnswer {
  const versions: Record<string, string> = {};
  const add = (name: string, version: string) => {
    if (typeof name !== "string" || typeof version !== "string") {
      throw new TypeError("healthAnswer takes secret names and version ids (strings)");
    }
    versions[name] = version;
  };
  if (bound instanceof Map) {
    for (const [n, v] of bound) add(n, v);
  } else if (Symbol.iterator in Object(bound)) {
    for (const e of bound as Iterable<{ name: string; version: string }>) add(e.name, e.version);
  } else {
    for (const [n, v] of Object.entries(bound as Record<string, string>)) add(n, v);
  }
  return { status: "ok", versions };
}

/**
 * The version a health answer reports for `name`, or `undefined` when the
 * body is not a health answer or does not name it.
 *
 * @example
 * ```ts
 * import { reportedVersion } from "@keyward/secrets/rotation";
 * if (reportedVersion({ status: "ok", versions: { a: "2" } }, "a") !== "2") throw new Error();
 * if (reportedVersion({ status: "down" }, "a") !== undefined) throw new Error();
 * ```
 */
export function reportedVersion(body: unknown, name: string): string | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const b = body as { status?: unknown; versions?: unknown };
  if (b.status !== "ok" || typeof b.versions !== "object" || b.versions === null) return undefined;
  const v = (b.versions as Record<string, unknown>)[name];
  return typeof v === "string" ? v : undefined;
}
