/**
 * The AWS Secrets Manager Agent's answer (`GET /secretsmanager/get`), as
 * REFERENCE.md E describes it, for any backend: `ARN` (invented for every
 * backend: `arn:keyward:secretsmanager:<backend>:000000000000:secret:<name>`),
 * `Name`, `VersionId`, `SecretString`, `VersionStages` (`AWSCURRENT`,
 * `AWSPREVIOUS`, `AWSPENDING`) and `CreatedDate` (epoch seconds, three
 * decimals, as a string).
 *
 * @module
 */

import type { Context } from "hono";
import type { SecretManager, SecretMetadata, SecretRead, Stage } from "../core/types.ts";

/** The agent's `GetSecretValue` answer. */
export interface AgentAnswer {
  /** The secret's ARN (invented, stable). */
  ARN: string;
  /** The name. */
  Name: string;
  /** The version read. */
  VersionId: string;
  /** The value. */
  SecretString: string;
  /** The AWS labels the version holds. */
  VersionStages: string[];
  /** When the version was written: epoch seconds with three decimals. */
  CreatedDate: string;
}

const TO_AWS: Record<Stage, string> = {
  current: "AWSCURRENT",
  previous: "AWSPREVIOUS",
  pending: "AWSPENDING",
};

/** Maps an AWS staging label to a keyward stage; `undefined` for any other label. */
export function agentStage(label: string): Stage | undefined {
  switch (label) {
    case "AWSCURRENT":
      return "current";
    case "AWSPREVIOUS":
      return "previous";
    case "AWSPENDING":
      return "pending";
    default:
      return undefined;
  }
}

const ARN_PREFIX = /^arn:keyward:secretsmanager:[A-Za-z0-9_-]{1,64}:000000000000:secret:/;

/** The invented ARN of a secret. */
export function inventedArn(backend: string, name: string): string {
  return `arn:keyward:secretsmanager:${backend}:000000000000:secret:${name}`;
}

/** A `secretId` is a name or an ARN keyward invented; returns the name. */
export function parseAgentId(secretId: string): string {
  const m = ARN_PREFIX.exec(secretId);
  return m ? secretId.slice(m[0].length) : secretId;
}

/** Epoch seconds with three decimals, as the agent writes `CreatedDate`. */
export function epochSeconds(date: Date): string {
  return (date.getTime() / 1000).toFixed(3);
}

/**
 * Builds answers; keeps the last metadata seen per name, so an answer
 * served from the cache while the backend is down still carries the
 * version's date and labels.
 */
export class AgentAnswers {
  readonly #manager: SecretManager;
  readonly #backend: string;
  readonly #meta = new Map<string, SecretMetadata>();

  /** Reads metadata from `manager`; `backend` goes into the ARN. */
  constructor(manager: SecretManager, backend: string) {
    this.#manager = manager;
    this.#backend = backend;
  }

  /** The answer for a read of `name`. */
  async answer(name: string, read: SecretRead): Promise<AgentAnswer> {
    let meta = this.#meta.get(name);
    const known = meta?.versions.find((v) => v.version === read.version);
    if (!known || (read.stage !== undefined && !known.stages.includes(read.stage))) {
      try {
        meta = await this.#manager.describeSecret(name, { signal: AbortSignal.timeout(2_000) });
        this.#meta.set(name, meta);
      } catch {
        // The value is good; only the date and labels may be older.
      }
    }
    const v = meta?.versions.find((x) => x.version === read.version);
    const stages = v?.stages ?? (read.stage ? [read.stage] : []);
    return {
      ARN: inventedArn(this.#backend, name),
      Name: name,
      VersionId: read.version,
      SecretString: read.value,
      VersionStages: stages.map((s) => TO_AWS[s]),
      CreatedDate: epochSeconds(v?.createdAt ?? meta?.createdAt ?? new Date(0)),
    };
  }
}

/** The agent route's parameters, checked. */
export interface AgentQuery {
  secretId: string;
  versionId?: string;
  versionStage?: string;
  refreshNow: boolean;
}

const AGENT_PARAMS = new Set(["secretId", "versionId", "versionStage", "refreshNow"]);

/** Checks the agent route's query: known parameters, each once; `secretId` given. */
export function parseAgentQuery(c: Context): AgentQuery | { error: string } {
  const query = c.req.queries();
  for (const [k, v] of Object.entries(query)) {
    if (!AGENT_PARAMS.has(k)) return { error: "unknown parameter" };
    if (v.length > 1) return { error: "a parameter is given more than once" };
  }
  const secretId = query.secretId?.[0];
  if (secretId === undefined || secretId === "") return { error: "secretId is required" };
  const refresh = query.refreshNow?.[0];
  if (refresh !== undefined && !["true", "false", "1", "0"].includes(refresh)) {
    return { error: "refreshNow is true, false, 1 or 0" };
  }
  const out: AgentQuery = { secretId, refreshNow: refresh === "true" || refresh === "1" };
  const versionId = query.versionId?.[0];
  if (versionId !== undefined) {
    if (versionId === "" || versionId.length > 256) return { error: "versionId is not valid" };
    out.versionId = versionId;
  }
  const versionStage = query.versionStage?.[0];
  if (versionStage !== undefined) {
    if (!/^[A-Za-z0-9_.\-]{1,256}$/.test(versionStage)) {
      return { error: "versionStage is not valid" };
    }
    out.versionStage = versionStage;
  }
  return out;
}
