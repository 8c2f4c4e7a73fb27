/**
 * The AWS backend's error mapping: SDK errors to keyward errors, never
 * copying AWS's own messages (they can echo input).
 *
 * @module
 */

import {
  ConfigError,
  type ErrorContext,
  KeywardError,
  SecretAccessError,
  SecretNotFoundError,
  SecretWriteError,
} from "../core/errors.ts";

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

const ATTEMPT_MS = Symbol("keyward attempt timeout");

/** The error a timed-out attempt fails with: retryable (`TimeoutError`), holding only the limit. */
export function attemptTimedOut(ms: number): Error {
  return Object.assign(new Error(`no answer within ${ms} ms`), {
    name: "TimeoutError",
    $metadata: {},
    [ATTEMPT_MS]: ms,
  });
}

/** What a failed call was doing: decides between access and write errors. */
export type Kind = "read" | "write" | "delete";

/** The AWS error name (`__type`), when it is a safe identifier. */
export function errorName(err: unknown): string | undefined {
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
export function mapAwsError(err: unknown, kind: Kind, ctx: ErrorContext): KeywardError {
  if (err instanceof KeywardError) return err;
  const name = errorName(err);
  const shown = name ?? "an unnamed error";
  const { status, attempts } = metadataOf(err);
  const withCause = { ...ctx, cause: err };
  if (name === "ResourceNotFoundException") return new SecretNotFoundError(withCause);
  const attemptMs = (err as { [ATTEMPT_MS]?: unknown } | null)?.[ATTEMPT_MS];
  if (typeof attemptMs === "number") {
    return new SecretAccessError(
      withCause,
      `AWS Secrets Manager did not answer within ${attemptMs} ms per attempt (option timeoutMs, AWS_TIMEOUT_MS)${
        attemptsText(attempts)
      }`,
      "timeout",
    );
  }
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
