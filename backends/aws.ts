/**
 * The AWS Secrets Manager backend, on `@aws-sdk/client-secrets-manager`.
 *
 * This is its own entry (`@keyward/secrets/aws`) so that importing the core
 * library never loads the AWS SDK.
 *
 * Mapping: `SecretId` = the name; stages are AWS's own labels (`current` =
 * `AWSCURRENT`, `pending` = `AWSPENDING`, `previous` = `AWSPREVIOUS`), so every
 * other AWS reader sees exactly what keyward calls current; version ids are
 * AWS `VersionId`s. A plain value is the `SecretString` itself and a record of
 * fields is its JSON text (see `getSecret` for how fields are read back).
 *
 * @example Pointing the backend at a local moto server
 * ```ts
 * import { AwsSecretManager } from "@keyward/secrets/aws";
 *
 * const secrets = new AwsSecretManager({
 *   region: "us-east-1",
 *   endpoint: "http://127.0.0.1:5000",
 *   credentials: { accessKeyId: "test", secretAccessKey: "test" },
 * });
 * // await secrets.getSecret("alpaca/api_key_id");
 * await secrets.close();
 * ```
 *
 * @module
 */

import {
  CreateSecretCommand,
  type CreateSecretCommandOutput,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  type GetSecretValueCommandInput,
  type GetSecretValueCommandOutput,
  ListSecretsCommand,
  type ListSecretsCommandOutput,
  ListSecretVersionIdsCommand,
  type ListSecretVersionIdsCommandOutput,
  PutSecretValueCommand,
  type PutSecretValueCommandOutput,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { assertOpen, checkSignal, warnIfNotFound } from "../core/_backend_util.ts";
import {
  ConfigError,
  type ErrorContext,
  KeywardError,
  SecretAccessError,
  SecretConflictError,
  SecretNotFoundError,
  SecretWriteError,
  UnsupportedOperationError,
} from "../core/errors.ts";
import { keywardLogger } from "../core/log.ts";
import {
  normalizeValue,
  validateName,
  validatePrefix,
  validateReadOptions,
  validateWriteOptions,
} from "../core/names.ts";
import type {
  DeleteOptions,
  ReadOptions,
  SecretManager,
  SecretMetadata,
  SecretRead,
  SecretValue,
  SecretVersion,
  SignalOptions,
  Stage,
  WriteOptions,
} from "../core/types.ts";
import { type AwsRetryOptions, KeywardAwsRetryStrategy } from "./_aws_retry.ts";
import { encodeFields, readStored } from "./_aws_values.ts";

export {
  type AwsRetryOptions,
  KeywardAwsRetryStrategy,
  type RetryErrorInfo,
  type RetryToken,
} from "./_aws_retry.ts";

const BACKEND = "aws";

/**
 * AWS's label for each keyward stage.
 *
 * @example
 * ```ts
 * import { AWS_STAGE_LABELS } from "@keyward/secrets/aws";
 *
 * if (AWS_STAGE_LABELS.current !== "AWSCURRENT" || AWS_STAGE_LABELS.pending !== "AWSPENDING") {
 *   throw new Error();
 * }
 * ```
 */
export const AWS_STAGE_LABELS: Readonly<Record<Stage, string>> = {
  current: "AWSCURRENT",
  pending: "AWSPENDING",
  previous: "AWSPREVIOUS",
};

/**
 * AWS credentials.
 *
 * @example Temporary credentials sign every request (seen by a stand-in request handler)
 * ```ts
 * import { type AwsCredentials, AwsSecretManager } from "@keyward/secrets/aws";
 *
 * const credentials: AwsCredentials = {
 *   accessKeyId: "AKIDEXAMPLE",
 *   secretAccessKey: "example-only",
 *   sessionToken: "example-session",
 *   expiration: new Date(Date.now() + 3_600_000),
 * };
 * const signed: string[] = [];
 * const secrets = new AwsSecretManager({
 *   region: "eu-west-1",
 *   credentials,
 *   requestHandler: {
 *     handle: (request: { headers: Record<string, string> }) => {
 *       signed.push(request.headers["authorization"].split(" ")[1].split("/")[0]);
 *       signed.push(request.headers["x-amz-security-token"]);
 *       const body = JSON.stringify({ SecretString: "value-0001", VersionStages: ["AWSCURRENT"] });
 *       return Promise.resolve({ response: { statusCode: 200, headers: {}, body: new TextEncoder().encode(body) } });
 *     },
 *   },
 * });
 * await secrets.getSecret("app/key");
 * if (signed.join() !== "Credential=AKIDEXAMPLE,example-session") throw new Error(signed.join());
 * await secrets.close();
 * ```
 */
export interface AwsCredentials {
  /** The access key id. */
  accessKeyId: string;
  /** The secret access key. */
  secretAccessKey: string;
  /** The session token of temporary credentials. */
  sessionToken?: string;
  /** When temporary credentials expire; a provider is asked again before then. */
  expiration?: Date;
}

/**
 * Credentials, as the SDK takes them: an object or a provider function.
 *
 * @example A provider is asked when a request is signed, not at construction
 * ```ts
 * import { type AwsCredentialsOption, AwsSecretManager } from "@keyward/secrets/aws";
 *
 * let asked = 0;
 * const credentials: AwsCredentialsOption = () => {
 *   asked += 1; // e.g. read a rotated token file, or call an STS client
 *   return Promise.resolve({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "example-only" });
 * };
 * const secrets = new AwsSecretManager({
 *   region: "eu-west-1",
 *   credentials,
 *   requestHandler: {
 *     handle: () => {
 *       const body = JSON.stringify({ SecretString: "value-0001", VersionStages: ["AWSCURRENT"] });
 *       return Promise.resolve({ response: { statusCode: 200, headers: {}, body: new TextEncoder().encode(body) } });
 *     },
 *   },
 * });
 * if (asked > 0) throw new Error("asked at construction");
 * await secrets.getSecret("app/key");
 * if (asked !== 1) throw new Error();
 * await secrets.close();
 * ```
 */
export type AwsCredentialsOption = AwsCredentials | (() => Promise<AwsCredentials>);

/**
 * An SDK HTTP handler, such as `new FetchHttpHandler()` from
 * `@smithy/fetch-http-handler` (typed loosely here; the SDK checks it).
 *
 * @example A stand-in handler that answers `GetSecretValue` itself (no network)
 * ```ts
 * import { AwsSecretManager, type AwsRequestHandler } from "@keyward/secrets/aws";
 *
 * const targets: string[] = [];
 * const handler: AwsRequestHandler = {
 *   handle: (request: { headers: Record<string, string> }) => {
 *     targets.push(request.headers["x-amz-target"]);
 *     const body = JSON.stringify({ Name: "app/key", SecretString: "value-0001", VersionStages: ["AWSCURRENT"] });
 *     return Promise.resolve({ response: { statusCode: 200, headers: {}, body: new TextEncoder().encode(body) } });
 *   },
 * };
 * // In production: requestHandler: new FetchHttpHandler() from "@smithy/fetch-http-handler" (edge runtimes).
 * const secrets = new AwsSecretManager({
 *   region: "eu-west-1",
 *   credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "example-only" },
 *   requestHandler: handler,
 * });
 * if (await secrets.getSecret("app/key") !== "value-0001") throw new Error();
 * if (targets.join() !== "secretsmanager.GetSecretValue") throw new Error(targets.join());
 * await secrets.close();
 * ```
 */
export interface AwsRequestHandler {
  /** Sends one HTTP request. */
  handle(request: never, options?: never): Promise<{ response: unknown }>;
}

/**
 * The SDK client keyward needs: a `SecretsManagerClient` from `@aws-sdk/client-secrets-manager`.
 *
 * @example A stand-in client for a unit test (use a `SecretsManagerClient` in production)
 * ```ts
 * import { AwsSecretManager, type AwsSdkClient } from "@keyward/secrets/aws";
 *
 * const sent: string[] = [];
 * const client: AwsSdkClient = {
 *   send: (command: { constructor: { name: string }; input: { SecretId?: string } }) => {
 *     sent.push(`${command.constructor.name} ${command.input.SecretId}`);
 *     return Promise.resolve({ SecretString: "value-0001", VersionStages: ["AWSCURRENT"] });
 *   },
 *   destroy: () => {},
 * };
 * const secrets = new AwsSecretManager({ client });
 * if (await secrets.getSecret("app/key") !== "value-0001") throw new Error();
 * if (sent.join() !== "GetSecretValueCommand app/key") throw new Error(sent.join());
 * await secrets.close(); // an injected client is not destroyed
 * ```
 */
export interface AwsSdkClient {
  /** Sends one command. */
  send(command: never, options?: never): Promise<unknown>;
  /** Releases the client's sockets. */
  destroy(): void;
}

/**
 * Options of {@linkcode AwsSecretManager}.
 *
 * @example Retries with a fixed delay, a timeout and a stand-in handler (the first answer is a 500)
 * ```ts
 * import { AwsSecretManager } from "@keyward/secrets/aws";
 *
 * let calls = 0;
 * const secrets = new AwsSecretManager({
 *   region: "eu-west-1",
 *   endpoint: "http://127.0.0.1:4566", // e.g. LocalStack or moto; the handler below answers instead
 *   credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "example-only" },
 *   maxAttempts: 2,
 *   retryDelayMs: () => 0,
 *   timeoutMs: 5_000,
 *   now: () => Date.UTC(2026, 10, 29),
 *   requestHandler: {
 *     handle: () => {
 *       calls += 1;
 *       const [statusCode, body] = calls === 1
 *         ? [500, { __type: "InternalServiceError" }]
 *         : [200, { SecretString: "value-0001", VersionStages: ["AWSCURRENT"] }];
 *       const bytes = new TextEncoder().encode(JSON.stringify(body));
 *       return Promise.resolve({ response: { statusCode, headers: {}, body: bytes } });
 *     },
 *   },
 * });
 * if (await secrets.getSecret("app/key") !== "value-0001" || calls !== 2) throw new Error();
 * await secrets.close();
 * ```
 */
export interface AwsOptions {
  /**
   * The AWS Region, e.g. `eu-west-1`.
   * @default {the SDK's chain: `AWS_REGION`, then the shared config profile (Node/Deno build only)}
   */
  region?: string;
  /**
   * An endpoint URL replacing AWS's (moto, LocalStack, a VPC endpoint).
   * @default {AWS's regional endpoint (the Node/Deno build also honours `AWS_ENDPOINT_URL_SECRETS_MANAGER` and `AWS_ENDPOINT_URL`)}
   */
  endpoint?: string;
  /**
   * Explicit credentials (`{ accessKeyId, secretAccessKey, sessionToken? }`)
   * or a provider. On the edge (the SDK's browser build) they are required.
   * @default {the SDK's default chain: environment, shared profile, container role, instance role}
   */
  credentials?: AwsCredentialsOption;
  /**
   * The SDK's HTTP handler; pass `new FetchHttpHandler()` from
   * `@smithy/fetch-http-handler` on runtimes without `node:http`.
   * @default {the SDK's handler for the runtime (`node:http` on Deno and Node)}
   */
  requestHandler?: AwsRequestHandler;
  /**
   * Attempts per call, the first one included. Throttling and 5xx answers
   * and network failures are retried with the SDK's standard backoff;
   * `LimitExceededException` never is.
   * @default {3}
   */
  maxAttempts?: number;
  /**
   * The delay before retry number `retry` (1-based), in milliseconds.
   * @default {the SDK's standard backoff (full jitter, exponential, capped at 20 s)}
   */
  retryDelayMs?: (retry: number) => number;
  /**
   * How long one call may take, retries included, in milliseconds.
   * @default {30000}
   */
  timeoutMs?: number;
  /**
   * A ready client (tests, or a client with your own middleware). It excludes
   * `region`, `endpoint`, `credentials`, `requestHandler`, `maxAttempts` and
   * `retryDelayMs`; it keeps its own retry strategy (build it with
   * {@linkcode KeywardAwsRetryStrategy} to keep `LimitExceededException`
   * unretried) and {@linkcode AwsSecretManager.close} does not destroy it.
   */
  client?: AwsSdkClient;
  /**
   * The clock, in epoch milliseconds; stamps the versions `setSecret` returns.
   * @default {Date.now}
   */
  now?: () => number;
}

/** AWS version ids are client request tokens: 32 to 64 characters. */
const VERSION_ID = /^[A-Za-z0-9_-]{32,64}$/;
const SAFE_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;
const DENIED = new Set([
  "AccessDeniedException",
  "AccessDenied",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "InvalidClientTokenId",
  "MissingAuthenticationToken",
  "ExpiredTokenException",
  "ExpiredToken",
]);
const THROTTLED = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
]);

type Kind = "read" | "write" | "delete";

interface State {
  /** Labelled versions only (AWS omits label-less ones; moto does not). */
  labels: Map<string, string[]>;
  /** The version holding each AWS label. */
  holder: Map<string, string>;
  deletedDate?: Date;
  out: DescribeSecretCommandOutput;
}

/**
 * A {@linkcode SecretManager} on AWS Secrets Manager.
 *
 * - `setSecret` creates the secret when it is missing (`CreateSecret`) and
 *   otherwise puts a version (`PutSecretValue`); a pending write carries
 *   `VersionStages: ["AWSPENDING"]`, which AWS moves off any older pending
 *   version. `ifVersion` is compared with `DescribeSecret` just before the
 *   write: best-effort, since AWS has no conditional write.
 * - `promote` moves `AWSCURRENT` with `UpdateSecretVersionStage` (naming the
 *   version it leaves, so a concurrent promotion fails instead of being
 *   lost); AWS moves `AWSPREVIOUS` to the old current; `AWSPENDING` is removed
 *   from the promoted version.
 * - `deleteSecret` schedules the deletion (`recoveryDays`, 7 to 30, default
 *   30); until then reads say the secret is scheduled for deletion.
 * - Errors: `ResourceNotFoundException` is {@linkcode SecretNotFoundError};
 *   access denied and KMS decryption failures are {@linkcode SecretAccessError}
 *   (`denied`, not retried); throttling, 5xx and network failures are retried
 *   and then {@linkcode SecretAccessError} (`throttled` / `unreachable`);
 *   `LimitExceededException` (a quota) is not retried. AWS's own messages are
 *   never copied into keyward's (they can echo input).
 *
 * @example Injecting a client
 * ```ts
 * import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
 * import { AwsSecretManager, KeywardAwsRetryStrategy } from "@keyward/secrets/aws";
 *
 * const client = new SecretsManagerClient({
 *   region: "eu-west-1",
 *   credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "example-only" },
 *   retryStrategy: new KeywardAwsRetryStrategy({ maxAttempts: 5 }),
 * });
 * const secrets = new AwsSecretManager({ client });
 * await secrets.close(); // an injected client stays open
 *
 * client.destroy();
 * ```
 */
export class AwsSecretManager implements SecretManager {
  readonly #client: SecretsManagerClient;
  readonly #ownsClient: boolean;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #log = keywardLogger("backend", BACKEND);
  #closed = false;

  /** Builds the client; options are checked here, with messages naming the option. */
  constructor(options: AwsOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    if (
      !Number.isInteger(this.#timeoutMs) || this.#timeoutMs < 1 || this.#timeoutMs > 600_000
    ) {
      throw new ConfigError(
        "option timeoutMs of the aws backend must be an integer from 1 to 600000",
        { backend: BACKEND },
      );
    }
    this.#now = options.now ?? Date.now;
    if (options.client) {
      const clashing = (
        [
          "region",
          "endpoint",
          "credentials",
          "requestHandler",
          "maxAttempts",
          "retryDelayMs",
        ] as const
      ).filter((key) => options[key] !== undefined);
      if (clashing.length) {
        throw new ConfigError(
          `option client of the aws backend excludes ${
            clashing.join(", ")
          }; configure the client instead`,
          { backend: BACKEND },
        );
      }
      this.#client = options.client as unknown as SecretsManagerClient;
      this.#ownsClient = false;
      return;
    }
    if (options.region !== undefined && !/^[a-z0-9-]{1,64}$/.test(options.region)) {
      throw new ConfigError(
        "option region of the aws backend must be an AWS Region such as eu-west-1",
        { backend: BACKEND },
      );
    }
    if (options.endpoint !== undefined) checkEndpoint(options.endpoint);
    let retryStrategy: KeywardAwsRetryStrategy;
    try {
      retryStrategy = new KeywardAwsRetryStrategy(
        {
          maxAttempts: options.maxAttempts,
          retryDelayMs: options.retryDelayMs,
        } satisfies AwsRetryOptions,
      );
    } catch (err) {
      throw new ConfigError(`${(err as Error).message} (aws backend)`, { backend: BACKEND });
    }
    const config: SecretsManagerClientConfig = {
      retryStrategy,
      maxAttempts: options.maxAttempts ?? 3,
    };
    if (options.region !== undefined) config.region = options.region;
    if (options.endpoint !== undefined) config.endpoint = options.endpoint;
    if (options.credentials !== undefined) config.credentials = options.credentials;
    if (options.requestHandler !== undefined) {
      config.requestHandler = options
        .requestHandler as SecretsManagerClientConfig["requestHandler"];
    }
    this.#client = new SecretsManagerClient(config);
    this.#ownsClient = true;
  }

  /**
   * Reads a secret. Without `field`, the `SecretString` exactly as stored.
   * With `field`: when the `SecretString` is a JSON object, that member
   * (numbers and booleans as their JSON text); any other text has the one
   * field `value`. A binary secret (`SecretBinary`) is refused with
   * {@linkcode UnsupportedOperationError}, never decoded.
   */
  async getSecret(name: string, opts: ReadOptions = {}): Promise<string> {
    this.#enter(opts.signal);
    validateName(name);
    validateReadOptions(name, opts);
    const stage = opts.stage ?? (opts.version === undefined ? "current" : undefined);
    const ctx: ErrorContext & { secret: string; backend: string } = {
      secret: name,
      backend: BACKEND,
      ...(stage ? { stage } : {}),
      ...(opts.version !== undefined ? { version: opts.version } : {}),
    };
    try {
      if (opts.version !== undefined && !VERSION_ID.test(opts.version)) {
        throw new SecretNotFoundError(
          ctx,
          "no such version (AWS version ids are 32 to 64 characters)",
        );
      }
      const input: GetSecretValueCommandInput = { SecretId: name };
      if (opts.version !== undefined) input.VersionId = opts.version;
      else input.VersionStage = AWS_STAGE_LABELS[stage!];
      let out: GetSecretValueCommandOutput;
      try {
        out = await this.#send(
          (o) => this.#client.send(new GetSecretValueCommand(input), o),
          ctx,
          opts.signal,
        );
      } catch (err) {
        throw await this.#fail(err, "read", ctx, opts.signal);
      }
      if (
        opts.version !== undefined && stage !== undefined &&
        !(out.VersionStages ?? []).includes(AWS_STAGE_LABELS[stage])
      ) {
        throw new SecretNotFoundError(ctx, "that version does not hold that stage");
      }
      if (typeof out.SecretString !== "string") {
        if (out.SecretBinary !== undefined) {
          throw new UnsupportedOperationError(
            "getSecret of a binary secret",
            ctx,
            "the version holds SecretBinary; keyward reads SecretString values only and never decodes binary ones",
          );
        }
        throw new SecretNotFoundError(ctx, "the version holds no value");
      }
      return readStored(out.SecretString, opts.field, ctx);
    } catch (err) {
      throw warnIfNotFound(this.#log, err);
    }
  }

  /**
   * Lists names starting with `prefix` (case-sensitive), following every
   * page. Secrets scheduled for deletion are not listed. AWS's listing is
   * eventually consistent: a secret created in the last minutes may be
   * missing.
   */
  async listSecrets(prefix = "", opts: SignalOptions = {}): Promise<string[]> {
    this.#enter(opts.signal);
    validatePrefix(prefix);
    const ctx: ErrorContext = prefix ? { backend: BACKEND, secret: prefix } : { backend: BACKEND };
    const names = new Set<string>();
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      let out: ListSecretsCommandOutput;
      try {
        out = await this.#send(
          (o) =>
            this.#client.send(
              new ListSecretsCommand({
                MaxResults: 100,
                ...(token ? { NextToken: token } : {}),
                ...(prefix ? { Filters: [{ Key: "name", Values: [prefix] }] } : {}),
              }),
              o,
            ),
          ctx,
          opts.signal,
        );
      } catch (err) {
        throw await this.#fail(err, "read", ctx, opts.signal);
      }
      for (const entry of out.SecretList ?? []) {
        if (typeof entry.Name === "string" && entry.Name.startsWith(prefix) && !entry.DeletedDate) {
          names.add(entry.Name);
        }
      }
      token = out.NextToken || undefined;
      if (token !== undefined) {
        if (seen.has(token)) {
          throw new SecretAccessError(ctx, "AWS returned the same page token twice", "damaged");
        }
        seen.add(token);
      }
    } while (token !== undefined);
    return [...names].sort();
  }

  /**
   * Writes a new version: `CreateSecret` when the secret is missing,
   * otherwise `PutSecretValue` (with `VersionStages: ["AWSPENDING"]` for a
   * pending write). `ifVersion` is checked against `DescribeSecret` just
   * before writing (best-effort). The returned `createdAt` is this client's
   * clock.
   */
  async setSecret(
    name: string,
    value: SecretValue,
    opts: WriteOptions = {},
  ): Promise<SecretVersion> {
    this.#enter(opts.signal);
    validateName(name);
    validateWriteOptions(name, opts);
    const text = encodeFields(normalizeValue(name, value));
    const stage = opts.stage ?? "current";
    const ctx = { secret: name, backend: BACKEND };
    const state = await this.#state(name, ctx, opts.signal);
    if (state?.deletedDate) throw scheduledForWrite(ctx, state.deletedDate);
    if (opts.ifVersion !== undefined && state?.holder.get("AWSCURRENT") !== opts.ifVersion) {
      throw new SecretConflictError(
        { ...ctx, version: opts.ifVersion },
        state ? "the current version is another one" : "the secret does not exist",
      );
    }
    if (stage === "pending" && !state) {
      throw new SecretNotFoundError(
        { ...ctx, stage: "pending" },
        "a pending version needs an existing secret; create it first",
      );
    }
    const token = crypto.randomUUID();
    if (!state) {
      try {
        const out: CreateSecretCommandOutput = await this.#send(
          (o) =>
            this.#client.send(
              new CreateSecretCommand({
                Name: name,
                SecretString: text,
                ClientRequestToken: token,
              }),
              o,
            ),
          ctx,
          opts.signal,
        );
        return this.#written(name, out.VersionId ?? token, ["AWSCURRENT"]);
      } catch (err) {
        if (errorName(err) !== "ResourceExistsException") {
          throw await this.#fail(err, "write", ctx, opts.signal);
        }
        // Created concurrently, or (moto) a name scheduled for deletion: look again.
        const again = await this.#state(name, ctx, opts.signal);
        if (!again) throw await this.#fail(err, "write", ctx, opts.signal);
        if (again.deletedDate) throw scheduledForWrite(ctx, again.deletedDate);
      }
    }
    try {
      const out: PutSecretValueCommandOutput = await this.#send(
        (o) =>
          this.#client.send(
            new PutSecretValueCommand({
              SecretId: name,
              SecretString: text,
              ClientRequestToken: token,
              ...(stage === "pending" ? { VersionStages: [AWS_STAGE_LABELS.pending] } : {}),
            }),
            o,
          ),
        ctx,
        opts.signal,
      );
      return this.#written(
        name,
        out.VersionId ?? token,
        out.VersionStages ?? [AWS_STAGE_LABELS[stage]],
      );
    } catch (err) {
      throw await this.#fail(
        err,
        "write",
        { ...ctx, ...(stage === "pending" ? { stage } : {}) },
        opts.signal,
      );
    }
  }

  /**
   * Describes a secret: its labelled versions (AWS drops versions without a
   * label; so does keyward, also on moto, which lists them) with their
   * creation dates, `CreatedDate`, `LastChangedDate` and, for a secret
   * scheduled for deletion, `deletionScheduledAt` (AWS's `DeletedDate`).
   */
  async describeSecret(name: string, opts: SignalOptions = {}): Promise<SecretMetadata> {
    this.#enter(opts.signal);
    validateName(name);
    const ctx = { secret: name, backend: BACKEND };
    const state = await this.#state(name, ctx, opts.signal);
    if (!state) throw new SecretNotFoundError(ctx);
    const created = await this.#versionDates(name, ctx, opts.signal, false);
    const fallback = state.out.LastChangedDate ?? state.out.CreatedDate ?? new Date(0);
    const versions: SecretVersion[] = [...state.labels].map(([id, labels]) => ({
      name,
      version: id,
      stages: stagesOf(labels),
      createdAt: created.get(id) ?? fallback,
    }));
    versions.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    const meta: SecretMetadata = { name, backend: BACKEND, versions };
    if (state.out.CreatedDate) meta.createdAt = state.out.CreatedDate;
    if (state.out.LastChangedDate) meta.updatedAt = state.out.LastChangedDate;
    if (state.deletedDate) meta.deletionScheduledAt = state.deletedDate;
    return meta;
  }

  /**
   * Makes `version` current: `UpdateSecretVersionStage` moves `AWSCURRENT`
   * from the current version (AWS then moves `AWSPREVIOUS` there) and
   * `AWSPENDING` is removed from `version` if it held it. Promoting the
   * current version is a no-op. A concurrent change of `AWSCURRENT` makes
   * the call fail with {@linkcode SecretConflictError}.
   */
  async promote(name: string, version: string, opts: SignalOptions = {}): Promise<SecretVersion> {
    this.#enter(opts.signal);
    validateName(name);
    validateReadOptions(name, { version });
    const ctx = { secret: name, backend: BACKEND, version };
    if (!VERSION_ID.test(version)) {
      throw new SecretNotFoundError(
        ctx,
        "no such version (AWS version ids are 32 to 64 characters)",
      );
    }
    const state = await this.#state(name, ctx, opts.signal);
    if (!state) throw new SecretNotFoundError(ctx);
    if (state.deletedDate) throw scheduledForWrite(ctx, state.deletedDate);
    const created = await this.#versionDates(name, ctx, opts.signal, true);
    const createdAt = created.get(version);
    if (createdAt === undefined) throw new SecretNotFoundError(ctx, "no such version");
    const current = state.holder.get(AWS_STAGE_LABELS.current);
    const labels = new Set(state.labels.get(version) ?? []);
    if (current !== version) {
      try {
        await this.#send(
          (o) =>
            this.#client.send(
              new UpdateSecretVersionStageCommand({
                SecretId: name,
                VersionStage: AWS_STAGE_LABELS.current,
                MoveToVersionId: version,
                ...(current !== undefined ? { RemoveFromVersionId: current } : {}),
              }),
              o,
            ),
          ctx,
          opts.signal,
        );
      } catch (err) {
        if (errorName(err) === "InvalidParameterException") {
          throw new SecretConflictError(
            ctx,
            "AWSCURRENT moved while promoting (or the version vanished); describe the secret and retry",
          );
        }
        throw await this.#fail(err, "write", ctx, opts.signal);
      }
      labels.delete(AWS_STAGE_LABELS.previous);
      labels.add(AWS_STAGE_LABELS.current);
    }
    if (state.holder.get(AWS_STAGE_LABELS.pending) === version) {
      try {
        await this.#send(
          (o) =>
            this.#client.send(
              new UpdateSecretVersionStageCommand({
                SecretId: name,
                VersionStage: AWS_STAGE_LABELS.pending,
                RemoveFromVersionId: version,
              }),
              o,
            ),
          ctx,
          opts.signal,
        );
      } catch (err) {
        throw await this.#fail(err, "write", ctx, opts.signal);
      }
      labels.delete(AWS_STAGE_LABELS.pending);
    }
    return { name, version, stages: stagesOf([...labels]), createdAt };
  }

  /**
   * Schedules the deletion (`DeleteSecret` with `RecoveryWindowInDays`).
   * `recoveryDays` must be an integer from 7 to 30 (default 30), checked
   * before any request. Until the date, AWS can restore the secret
   * (`RestoreSecret`) and keyward reads say it is scheduled for deletion.
   */
  async deleteSecret(name: string, opts: DeleteOptions = {}): Promise<void> {
    this.#enter(opts.signal);
    validateName(name);
    const days = opts.recoveryDays ?? 30;
    if (!Number.isInteger(days) || days < 7 || days > 30) {
      throw new ConfigError(
        `option recoveryDays of deleteSecret must be an integer from 7 to 30 (days) on the aws backend`,
        { secret: name, backend: BACKEND },
      );
    }
    const ctx = { secret: name, backend: BACKEND };
    try {
      await this.#send(
        (o) =>
          this.#client.send(
            new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: days }),
            o,
          ),
        ctx,
        opts.signal,
      );
    } catch (err) {
      throw await this.#fail(err, "delete", ctx, opts.signal);
    }
  }

  /** Not yet supported here (the version-aware read lands with the rotation work). */
  readSecret(name: string, _opts?: ReadOptions): Promise<SecretRead> {
    return Promise.reject(
      new UnsupportedOperationError("readSecret", { secret: name, backend: "aws" }),
    );
  }

  /** Not yet supported here. */
  deprecateVersion(name: string, _version: string, _opts?: SignalOptions): Promise<void> {
    return Promise.reject(
      new UnsupportedOperationError("deprecateVersion", { secret: name, backend: "aws" }),
    );
  }

  /** Not yet supported here. */
  destroyVersion(name: string, _version: string, _opts?: SignalOptions): Promise<void> {
    return Promise.reject(
      new UnsupportedOperationError("destroyVersion", { secret: name, backend: "aws" }),
    );
  }

  /** Refuses further calls; destroys the client unless it was injected. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      if (this.#ownsClient) this.#client.destroy();
    }
    return Promise.resolve();
  }

  #enter(signal: AbortSignal | undefined): void {
    assertOpen(this.#closed, BACKEND);
    checkSignal(signal);
  }

  #written(name: string, version: string, labels: string[]): SecretVersion {
    return { name, version, stages: stagesOf(labels), createdAt: new Date(this.#now()) };
  }

  /** `DescribeSecret`, or `undefined` when the secret does not exist. */
  async #state(
    name: string,
    ctx: ErrorContext,
    signal: AbortSignal | undefined,
  ): Promise<State | undefined> {
    let out: DescribeSecretCommandOutput;
    try {
      out = await this.#send(
        (o) => this.#client.send(new DescribeSecretCommand({ SecretId: name }), o),
        ctx,
        signal,
      );
    } catch (err) {
      if (errorName(err) === "ResourceNotFoundException") return undefined;
      throw await this.#fail(err, "read", ctx, signal, false);
    }
    const labels = new Map<string, string[]>();
    const holder = new Map<string, string>();
    for (const [id, stages] of Object.entries(out.VersionIdsToStages ?? {})) {
      if (!stages || stages.length === 0) continue;
      labels.set(id, stages);
      for (const label of stages) holder.set(label, id);
    }
    const state: State = { labels, holder, out };
    if (out.DeletedDate) state.deletedDate = out.DeletedDate;
    return state;
  }

  /** Creation dates of the versions (`ListSecretVersionIds`, every page). */
  async #versionDates(
    name: string,
    ctx: ErrorContext,
    signal: AbortSignal | undefined,
    includeDeprecated: boolean,
  ): Promise<Map<string, Date>> {
    const dates = new Map<string, Date>();
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      let out: ListSecretVersionIdsCommandOutput;
      try {
        out = await this.#send(
          (o) =>
            this.#client.send(
              new ListSecretVersionIdsCommand({
                SecretId: name,
                MaxResults: 100,
                IncludeDeprecated: includeDeprecated,
                ...(token ? { NextToken: token } : {}),
              }),
              o,
            ),
          ctx,
          signal,
        );
      } catch (err) {
        throw await this.#fail(err, "read", ctx, signal);
      }
      for (const v of out.Versions ?? []) {
        if (typeof v.VersionId === "string") {
          dates.set(v.VersionId, v.CreatedDate ?? new Date(0));
        }
      }
      token = out.NextToken || undefined;
      if (token !== undefined) {
        if (seen.has(token)) {
          throw new SecretAccessError(ctx, "AWS returned the same page token twice", "damaged");
        }
        seen.add(token);
      }
    } while (token !== undefined);
    return dates;
  }

  /** Sends one command with the call's timeout and the caller's signal. */
  async #send<Out>(
    call: (options: { abortSignal: AbortSignal }) => Promise<Out>,
    ctx: ErrorContext,
    signal: AbortSignal | undefined,
  ): Promise<Out> {
    assertOpen(this.#closed, BACKEND);
    checkSignal(signal);
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException("timed out", "TimeoutError"));
    }, this.#timeoutMs);
    try {
      const answer = call({ abortSignal: controller.signal });
      answer.catch(() => {}); // when the race below is lost, its late failure is ignored
      const cancelled = new Promise<never>((_, reject) => {
        controller.signal.addEventListener("abort", () => reject(controller.signal.reason), {
          once: true,
        });
      });
      // A handler that ignores the abort signal still cannot hold the call past its timeout.
      return await Promise.race([answer, cancelled]);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timedOut) {
        throw new SecretAccessError(
          { ...ctx, cause: err },
          `AWS Secrets Manager did not answer within ${this.#timeoutMs} ms`,
          "timeout",
        );
      }
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Turns a failure into a keyward error. An `InvalidRequestException` is
   * explained with `DescribeSecret` (a secret scheduled for deletion says so).
   */
  async #fail(
    err: unknown,
    kind: Kind,
    ctx: ErrorContext,
    signal: AbortSignal | undefined,
    explain = true,
  ): Promise<unknown> {
    if (err instanceof KeywardError) return err;
    if (signal?.aborted && err === signal.reason) return err;
    const name = errorName(err);
    if (explain && name === "InvalidRequestException" && ctx.secret !== undefined) {
      try {
        const state = await this.#state(ctx.secret, ctx, signal);
        if (state?.deletedDate) {
          if (kind === "read") return scheduledForRead(ctx, state.deletedDate, err);
          if (kind === "delete") {
            return new SecretNotFoundError(
              { ...ctx, cause: err },
              `it is already scheduled for deletion on ${day(state.deletedDate)}`,
            );
          }
          return scheduledForWrite(ctx, state.deletedDate, err);
        }
      } catch {
        // fall through to the plain mapping
      }
    }
    return mapAwsError(err, kind, ctx);
  }
}

function checkEndpoint(endpoint: string): void {
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new ConfigError(
      "option endpoint of the aws backend must be an http(s) URL such as http://127.0.0.1:5000",
      { backend: BACKEND },
    );
  }
}

function stagesOf(labels: readonly string[]): Stage[] {
  return (["current", "pending", "previous"] as const).filter((s) =>
    labels.includes(AWS_STAGE_LABELS[s])
  );
}

function day(date: Date): string {
  return Number.isNaN(date.getTime()) ? "an unknown date" : date.toISOString();
}

function scheduledForRead(ctx: ErrorContext, date: Date, cause?: unknown): SecretNotFoundError {
  return new SecretNotFoundError(
    { ...ctx, ...(cause === undefined ? {} : { cause }) },
    `it is scheduled for deletion on ${day(date)}; restore it (RestoreSecret) to use it again`,
  );
}

function scheduledForWrite(ctx: ErrorContext, date: Date, cause?: unknown): SecretWriteError {
  return new SecretWriteError(
    { ...ctx, ...(cause === undefined ? {} : { cause }) },
    `it is scheduled for deletion on ${
      day(date)
    }; restore it (RestoreSecret) before writing, or wait until the deletion is final to create it anew`,
  );
}

/** The AWS error name (`__type`), when it is a safe identifier. */
function errorName(err: unknown): string | undefined {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === "string" && SAFE_NAME.test(name) ? name : undefined;
}

function metadataOf(err: unknown): { status?: number; attempts?: number } {
  const meta = (err as { $metadata?: { httpStatusCode?: unknown; attempts?: unknown } } | null)
    ?.$metadata;
  return {
    status: typeof meta?.httpStatusCode === "number" ? meta.httpStatusCode : undefined,
    attempts: typeof meta?.attempts === "number" ? meta.attempts : undefined,
  };
}

function attemptsText(attempts: number | undefined): string {
  return attempts === undefined ? "" : ` after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
}

/** Maps an SDK error to a keyward error; never copies the SDK's message. */
function mapAwsError(err: unknown, kind: Kind, ctx: ErrorContext): KeywardError {
  if (err instanceof KeywardError) return err;
  const name = errorName(err);
  const shown = name ?? "an unnamed error";
  const { status, attempts } = metadataOf(err);
  const withCause = { ...ctx, cause: err };
  if (name === "ResourceNotFoundException") return new SecretNotFoundError(withCause);
  if (name !== undefined && DENIED.has(name)) {
    return new SecretAccessError(
      withCause,
      `AWS denied the request (${name}); check the caller's IAM policy and credentials`,
      "denied",
    );
  }
  if (name === "DecryptionFailure") {
    return new SecretAccessError(
      withCause,
      "AWS KMS could not decrypt the secret (DecryptionFailure); the caller needs kms:Decrypt on the secret's key",
      "denied",
    );
  }
  if (name === "EncryptionFailure") {
    return new SecretWriteError(
      withCause,
      "AWS KMS could not encrypt the value (EncryptionFailure); the caller needs kms:GenerateDataKey on the secret's key",
    );
  }
  if (name === "LimitExceededException") {
    const detail =
      "a Secrets Manager quota was exceeded (LimitExceededException), e.g. too many versions of this secret or too many secrets; not retried";
    return kind === "read"
      ? new SecretAccessError(withCause, detail, "denied")
      : new SecretWriteError(withCause, detail);
  }
  if ((name !== undefined && THROTTLED.has(name)) || status === 429) {
    return new SecretAccessError(
      withCause,
      `AWS kept throttling the request (${shown})${attemptsText(attempts)}`,
      "throttled",
    );
  }
  if (name === "NotCapable" || name === "PermissionDenied") {
    return new ConfigError(
      `Deno refused a permission the AWS SDK needs (${name}): run with --allow-env, --allow-sys=osRelease, --allow-net for the endpoint and, for profile credentials, --allow-read`,
      withCause,
    );
  }
  if (name === "CredentialsProviderError") {
    return new SecretAccessError(
      withCause,
      "no AWS credentials could be resolved (environment, shared profile, container or instance role)",
      "denied",
    );
  }
  if (status === undefined && err instanceof Error && /Region is missing/.test(err.message)) {
    return new ConfigError(
      "the aws backend has no region: set option region (or AWS_REGION)",
      withCause,
    );
  }
  if (status === undefined || status >= 500) {
    return new SecretAccessError(
      withCause,
      `AWS Secrets Manager could not be reached or failed (${shown}${
        status === undefined ? "" : `, HTTP ${status}`
      })${attemptsText(attempts)}`,
      "unreachable",
    );
  }
  const detail = `AWS refused the request (${shown}, HTTP ${status})`;
  return kind === "read"
    ? new SecretAccessError(withCause, detail, "denied")
    : new SecretWriteError(withCause, detail);
}
