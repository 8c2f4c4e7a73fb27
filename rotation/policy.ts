/**
 * The rotation policy: a JSON file mapping name prefixes to a rotator, its
 * options, ages, verify URLs and restart hooks. Validated as a whole: every
 * problem is reported at once with its JSON path.
 *
 * ```json
 * {
 *   "rules": [
 *     {
 *       "prefix": "webhooks/",
 *       "rotator": "random",
 *       "options": { "length": 48 },
 *       "maxAgeDays": 90, "graceDays": 7, "deleteAfterDays": 30,
 *       "verify": [{ "service": "api", "url": "http://127.0.0.1:8080/health", "timeoutSeconds": 60 }],
 *       "restart": [{ "service": "worker", "command": ["systemctl", "restart", "worker"] }]
 *     }
 *   ]
 * }
 * ```
 *
 * @module
 */

import { ConfigError } from "../core/errors.ts";

/** A URL whose health answer must report the new version. */
export interface VerifyTarget {
  /** The service's name (printed when it fails). */
  service: string;
  /** The health URL. */
  url: string;
  /** How long to wait for the new version. */
  timeoutMs: number;
}

/** A command that restarts a service that reads secrets only at start-up. */
export interface RestartHook {
  /** The service's name. */
  service: string;
  /** The program and its arguments (no shell). */
  command: string[];
}

/** One rule: everything under `prefix`. */
export interface PolicyRule {
  /** The name prefix (`""` matches every name). */
  prefix: string;
  /** The rotator's name. */
  rotator: string;
  /** The rotator's options. */
  options: Record<string, unknown>;
  /** Age after which `rotation due` calls the secret overdue. */
  maxAgeDays: number;
  /** Wait between promotion and deprecation of the previous version. */
  graceDays: number;
  /** Wait between deprecation and destruction. */
  deleteAfterDays: number;
  /** Health URLs polled by verify. */
  verify: VerifyTarget[];
  /** Restart hooks run after promotion. */
  restart: RestartHook[];
}

/** A validated policy. */
export interface RotationPolicy {
  /** The rules, in file order. */
  rules: PolicyRule[];
}

/** Defaults of a rule. */
export const POLICY_DEFAULTS = {
  maxAgeDays: 90,
  graceDays: 7,
  deleteAfterDays: 30,
  verifyTimeoutSeconds: 60,
} as const;

/** A policy with problems: `problems` lists every one as `path: message`. */
export class PolicyError extends ConfigError {
  /** Every problem, `$.rules[0].rotator: ...`. */
  readonly problems: string[];
  /** Builds the error. */
  constructor(source: string, problems: string[]) {
    super(
      `the rotation policy ${source} has ${problems.length} problem${
        problems.length === 1 ? "" : "s"
      }:\n${problems.map((p) => `  ${p}`).join("\n")}`,
    );
    this.problems = problems;
  }
}

const RULE_KEYS = new Set([
  "prefix",
  "rotator",
  "options",
  "maxAgeDays",
  "graceDays",
  "deleteAfterDays",
  "verify",
  "restart",
]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Validates a parsed policy document. `knownRotators` maps a rotator name
 * to its option validator (returning `[path, message]` pairs).
 *
 * @example Every problem at once, each with its path
 * ```ts
 * import { PolicyError, validatePolicy } from "./policy.ts";
 * try {
 *   validatePolicy({ rules: [{ prefix: "a/", rotator: "nope", graceDays: -1 }] }, "p.json", {
 *     random: () => [],
 *   });
 *   throw new Error("accepted");
 * } catch (err) {
 *   if (!(err instanceof PolicyError) || err.problems.length !== 2) throw err;
 * }
 * ```
 */
export function validatePolicy(
  doc: unknown,
  source: string,
  knownRotators: Record<string, (options: Record<string, unknown>) => [string, string][]>,
): RotationPolicy {
  const problems: string[] = [];
  const rules: PolicyRule[] = [];
  if (!isObject(doc)) {
    throw new PolicyError(source, ['$: must be an object with a "rules" array']);
  }
  for (const key of Object.keys(doc)) {
    if (key !== "rules" && key !== "$schema") problems.push(`$.${key}: unknown key`);
  }
  if (!Array.isArray(doc.rules)) {
    problems.push("$.rules: must be an array");
  } else {
    const seen = new Map<string, number>();
    doc.rules.forEach((raw, i) => {
      const at = `$.rules[${i}]`;
      if (!isObject(raw)) {
        problems.push(`${at}: must be an object`);
        return;
      }
      for (const key of Object.keys(raw)) {
        if (!RULE_KEYS.has(key)) problems.push(`${at}.${key}: unknown key`);
      }
      const prefix = raw.prefix;
      if (typeof prefix !== "string" || prefix.length > 512) {
        problems.push(`${at}.prefix: must be a string (a name prefix, "" for every name)`);
      } else if (seen.has(prefix)) {
        problems.push(`${at}.prefix: repeats the prefix of $.rules[${seen.get(prefix)}]`);
      } else {
        seen.set(prefix, i);
      }
      const rotator = raw.rotator;
      let validate: ((o: Record<string, unknown>) => [string, string][]) | undefined;
      if (typeof rotator !== "string") {
        problems.push(`${at}.rotator: must be one of: ${Object.keys(knownRotators).join(", ")}`);
      } else if (!Object.hasOwn(knownRotators, rotator)) {
        problems.push(
          `${at}.rotator: unknown rotator ${JSON.stringify(rotator.slice(0, 40))}; ` +
            `choose one of: ${Object.keys(knownRotators).join(", ")}`,
        );
      } else {
        validate = knownRotators[rotator];
      }
      let options: Record<string, unknown> = {};
      if (raw.options !== undefined) {
        if (!isObject(raw.options)) problems.push(`${at}.options: must be an object`);
        else options = raw.options;
      }
      if (validate) {
        for (const [path, message] of validate(options)) {
          problems.push(`${at}.options${path ? `.${path}` : ""}: ${message}`);
        }
      }
      const days = (key: "maxAgeDays" | "graceDays" | "deleteAfterDays", min: number) => {
        const v = raw[key];
        if (v === undefined) return POLICY_DEFAULTS[key];
        if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > 3650) {
          problems.push(`${at}.${key}: must be a number of days from ${min} to 3650`);
          return POLICY_DEFAULTS[key];
        }
        return v;
      };
      const maxAgeDays = days("maxAgeDays", 1);
      const graceDays = days("graceDays", 0);
      const deleteAfterDays = days("deleteAfterDays", 0);
      const verify: VerifyTarget[] = [];
      if (raw.verify !== undefined) {
        if (!Array.isArray(raw.verify)) problems.push(`${at}.verify: must be an array`);
        else {
          raw.verify.forEach((v, j) => {
            const vat = `${at}.verify[${j}]`;
            if (!isObject(v)) return void problems.push(`${vat}: must be an object`);
            for (const key of Object.keys(v)) {
              if (!["service", "url", "timeoutSeconds"].includes(key)) {
                problems.push(`${vat}.${key}: unknown key`);
              }
            }
            let url = "";
            if (typeof v.url !== "string" || !/^https?:\/\//.test(v.url)) {
              problems.push(`${vat}.url: must be an http:// or https:// URL`);
            } else {
              try {
                url = new URL(v.url).toString();
              } catch {
                problems.push(`${vat}.url: is not a valid URL`);
              }
            }
            const service = typeof v.service === "string" && v.service.length > 0
              ? v.service
              : (url ? new URL(url).host : "");
            if (v.service !== undefined && typeof v.service !== "string") {
              problems.push(`${vat}.service: must be a string`);
            }
            let timeout: number = POLICY_DEFAULTS.verifyTimeoutSeconds;
            if (v.timeoutSeconds !== undefined) {
              if (
                typeof v.timeoutSeconds !== "number" || !(v.timeoutSeconds > 0) ||
                v.timeoutSeconds > 3600
              ) {
                problems.push(`${vat}.timeoutSeconds: must be a number of seconds from 0 to 3600`);
              } else timeout = v.timeoutSeconds;
            }
            verify.push({ service, url, timeoutMs: Math.round(timeout * 1000) });
          });
        }
      }
      const restart: RestartHook[] = [];
      if (raw.restart !== undefined) {
        if (!Array.isArray(raw.restart)) problems.push(`${at}.restart: must be an array`);
        else {
          raw.restart.forEach((h, j) => {
            const hat = `${at}.restart[${j}]`;
            if (!isObject(h)) return void problems.push(`${hat}: must be an object`);
            if (typeof h.service !== "string" || h.service.length === 0) {
              problems.push(`${hat}.service: must be a non-empty string`);
            }
            if (
              !Array.isArray(h.command) || h.command.length === 0 ||
              !h.command.every((c) => typeof c === "string")
            ) {
              problems.push(`${hat}.command: must be a non-empty array of strings (no shell)`);
            } else {
              restart.push({ service: String(h.service), command: h.command as string[] });
            }
          });
        }
      }
      rules.push({
        prefix: typeof prefix === "string" ? prefix : "",
        rotator: typeof rotator === "string" ? rotator : "",
        options,
        maxAgeDays,
        graceDays,
        deleteAfterDays,
        verify,
        restart,
      });
    });
  }
  if (problems.length > 0) throw new PolicyError(source, problems);
  return { rules };
}

/**
 * The rule for `name`: the longest matching prefix, or `undefined`.
 *
 * @example
 * ```ts
 * import { ruleFor } from "./policy.ts";
 * const base = { options: {}, maxAgeDays: 90, graceDays: 7, deleteAfterDays: 30, verify: [], restart: [] };
 * const policy = { rules: [{ ...base, prefix: "", rotator: "random" }, { ...base, prefix: "database/", rotator: "postgres-password" }] };
 * if (ruleFor(policy, "database/app")?.rotator !== "postgres-password") throw new Error();
 * ```
 */
export function ruleFor(policy: RotationPolicy, name: string): PolicyRule | undefined {
  let best: PolicyRule | undefined;
  for (const rule of policy.rules) {
    if (name.startsWith(rule.prefix) && (!best || rule.prefix.length > best.prefix.length)) {
      best = rule;
    }
  }
  return best;
}

/** A rule built from defaults only (no policy covers the name, `--rotator` given). */
export function defaultRule(rotator: string): PolicyRule {
  return {
    prefix: "",
    rotator,
    options: {},
    maxAgeDays: POLICY_DEFAULTS.maxAgeDays,
    graceDays: POLICY_DEFAULTS.graceDays,
    deleteAfterDays: POLICY_DEFAULTS.deleteAfterDays,
    verify: [],
    restart: [],
  };
}

/**
 * Parses policy JSON text and validates it.
 *
 * @example
 * ```ts
 * import { parsePolicy } from "./policy.ts";
 * const policy = parsePolicy('{"rules":[{"prefix":"webhooks/","rotator":"random"}]}', "p.json", {
 *   random: () => [],
 * });
 * if (policy.rules[0].graceDays !== 7) throw new Error();
 * ```
 */
export function parsePolicy(
  text: string,
  source: string,
  knownRotators: Record<string, (options: Record<string, unknown>) => [string, string][]>,
): RotationPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new PolicyError(source, [`$: not valid JSON (${(err as Error).name})`]);
  }
  return validatePolicy(doc, source, knownRotators);
}
