/**
 * The route definitions, from which `/openapi.json` is generated.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";

/** The body of every error answer: `{ error: { code, message } }`. */
export const ErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
}).openapi("Error");

/** An error response of the document, described. */
export const err = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

/** The `Cache-Control: no-store` response header, documented. */
export const noStore = {
  "Cache-Control": { schema: { type: "string" as const, enum: ["no-store"] } },
};

/** The error answers the app gives around a route's own (limits, auth, rate limit, errors). */
export const common = {
  400: err("invalid request: a bad name, parameter or X-Forwarded-For"),
  401: err("missing or unknown token"),
  403: err("the token's policy does not allow this"),
  405: err("only GET is served"),
  413: err("the request body is too large"),
  414: err("the request line is too long"),
  429: {
    ...err("over this token's rate limit"),
    headers: { "Retry-After": { schema: { type: "string" as const } } },
  },
  431: err("the request headers are too large"),
  500: err("internal error"),
  503: err("the backend cannot be reached, or the token file is unusable"),
};

const StageSchema = z.enum(["current", "previous", "pending"]);

/** One name segment (the pattern is a little stricter than the rule: no leading '.'). */
const SEGMENT = "[A-Za-z0-9_-](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?";

/** A whole secret name (1 to 512 characters of `/`-separated segments), as a pattern. */
export const NAME_PATTERN = `^${SEGMENT}(/${SEGMENT})*$`;

/** `GET /v1/secrets/{name}`. */
export const readRoute = createRoute({
  method: "get",
  path: "/v1/secrets/{name}",
  summary: "Read a secret (role read)",
  description:
    "The name is the rest of the path, percent-decoded once; it may hold '/'. Encoded '/', '.', " +
    "'\\' and NUL are refused with 400.",
  security: [{ bearer: ["read"] }],
  request: {
    params: z.object({
      name: z.string().min(1).max(512).regex(new RegExp(`^${SEGMENT}$`)).openapi({
        description: "the secret's name; its '/' are sent as they are, never encoded",
      }),
    }),
    query: z.object({
      stage: StageSchema.optional(),
      field: z.string().regex(/^[A-Za-z0-9_.-]{1,256}$/).optional(),
    }),
  },
  responses: {
    200: {
      description: "the value",
      headers: noStore,
      content: {
        "application/json": {
          schema: z.object({
            name: z.string(),
            value: z.string(),
            version: z.string(),
            stage: StageSchema.optional(),
          }).openapi("SecretRead"),
        },
      },
    },
    404: err("no such secret, stage, field or version inside the policy"),
    ...common,
  },
});

/** `GET /v1/secrets?prefix=`. */
export const listRoute = createRoute({
  method: "get",
  path: "/v1/secrets",
  summary: "List secret names within the token's policy (role read)",
  security: [{ bearer: ["read"] }],
  request: {
    query: z.object({ prefix: z.string().max(512).regex(/^([A-Za-z0-9_.-]+\/?)*$/).optional() }),
  },
  responses: {
    200: {
      description: "names only",
      headers: noStore,
      content: {
        "application/json": {
          schema: z.object({ names: z.array(z.string()) }).openapi("SecretNames"),
        },
      },
    },
    ...common,
  },
});

/** `GET /secretsmanager/get`: the AWS Secrets Manager Agent's API. */
export const agentRoute = createRoute({
  method: "get",
  path: "/secretsmanager/get",
  summary: "AWS Secrets Manager Agent compatible read",
  security: [{ awsAgentToken: ["read"] }],
  request: {
    query: z.object({
      secretId: z.string().min(1).max(512).regex(
        new RegExp(
          `^(arn:keyward:secretsmanager:[A-Za-z0-9_-]{1,64}:000000000000:secret:)?` +
            NAME_PATTERN.slice(1),
        ),
      ).openapi({ description: "a name, or the ARN keyward invented for it" }),
      versionId: z.string().min(1).max(256).optional(),
      versionStage: z.string().regex(/^[A-Za-z0-9_.-]{1,256}$/).optional(),
      refreshNow: z.enum(["true", "false", "1", "0"]).optional(),
    }),
  },
  responses: {
    200: {
      description: "the GetSecretValue answer",
      headers: noStore,
      content: {
        "application/json": {
          schema: z.object({
            ARN: z.string(),
            Name: z.string(),
            VersionId: z.string(),
            SecretString: z.string(),
            VersionStages: z.array(z.string()),
            CreatedDate: z.string(),
          }).openapi("GetSecretValue"),
        },
      },
    },
    404: err("no such secret or version"),
    ...common,
  },
});

/** What every route can answer before (or instead of) its own: the request limits, an internal error. */
const beforeHandler = {
  413: common[413],
  414: common[414],
  431: common[431],
  500: common[500],
};

const text = (description: string) => ({
  description,
  content: { "text/plain": { schema: z.string() } },
});

/** `GET /ping` (the agent's health check). */
export const pingRoute = createRoute({
  method: "get",
  path: "/ping",
  summary: "Agent health check",
  responses: { 200: text("healthy"), 405: err("only GET is served"), ...beforeHandler },
});

/** `GET /healthz`. */
export const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  summary: "The process is up",
  responses: {
    200: {
      description: "up",
      content: {
        "application/json": {
          schema: z.object({ status: z.literal("ok"), versions: z.record(z.string(), z.string()) }),
        },
      },
    },
    405: err("only GET is served"),
    ...beforeHandler,
  },
});

const ReadySchema = z.object({
  status: z.enum(["ready", "not_ready"]),
  reason: z.string().optional(),
});

/** `GET /readyz`. */
export const readyRoute = createRoute({
  method: "get",
  path: "/readyz",
  summary: "The backend answers, or the cache is warm",
  responses: {
    200: { description: "ready", content: { "application/json": { schema: ReadySchema } } },
    503: { description: "not ready", content: { "application/json": { schema: ReadySchema } } },
    405: err("only GET is served"),
    ...beforeHandler,
  },
});

/** `GET /metrics`. */
export const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  summary: "Prometheus metrics (secret names only for a token with the metrics role)",
  security: [{ bearer: [] }],
  responses: {
    200: text("Prometheus text format"),
    401: common[401],
    405: common[405],
    429: common[429],
    503: common[503],
    ...beforeHandler,
  },
});

/** `GET /openapi.json`: this document. */
export const openapiRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  summary: "This document (OpenAPI 3.1), generated from the route definitions",
  responses: {
    200: {
      description: "the document",
      content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
    },
    ...beforeHandler,
  },
});

/**
 * The security schemes. In OpenAPI 3.1 a security requirement of a scheme
 * other than OAuth lists the roles the operation needs: `bearer: ["events"]`.
 */
export const securitySchemes = {
  bearer: {
    type: "http" as const,
    scheme: "bearer",
    description: "A token from the token file (`deno task secrets token create`), sent as " +
      "`Authorization: Bearer <token>`. Each operation's security requirement names the role " +
      "the token needs: `read` (the secret routes, within the token's prefixes and stages), " +
      "`events` (`/v1/events`), `audit-write` (`/v1/audit`); `/metrics` takes any token and " +
      "shows secret names only to one with `metrics`. Missing or unknown: 401; valid without " +
      "the role: 403.",
  },
  awsAgentToken: {
    type: "apiKey" as const,
    in: "header" as const,
    name: "X-Aws-Parameters-Secrets-Token",
    description: "The AWS Secrets Manager Agent's header (or `X-Vault-Token`, or a bearer " +
      "token) carrying a token with the `read` role; missing or unknown: 403, as the agent does.",
  },
};
