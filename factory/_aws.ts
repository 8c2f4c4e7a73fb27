/**
 * `SECRET_BACKEND=aws`: AWS Secrets Manager.
 *
 * Its settings (names, types, defaults) are rows of the one settings table,
 * `settings/table.ts` (what each means: `settings/meanings.ts`); the step
 * reads them parsed (`settingsOf`).
 *
 * Credentials are left to the SDK's default chain (`AWS_ACCESS_KEY_ID` /
 * `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, `AWS_PROFILE` and the shared
 * files, web identity, the container role, the instance role), which reads
 * the process environment and files itself.
 *
 * @module
 */

import { AwsSecretManager } from "../backends/aws.ts";
import { ConfigError } from "../core/errors.ts";
import { settingsOf } from "./_settings.ts";
import type { BackendBuilder } from "./_types.ts";

/** AWS is reached over the network: the factory puts the cache in front of it. */
export const remote = true;

/** Builds the AWS backend from settings; a missing or bad setting is a `ConfigError` naming it. */
export const build: BackendBuilder = (input) => {
  const settings = settingsOf(input);
  const region = settings.AWS_REGION ?? settings.AWS_DEFAULT_REGION;
  if (region === undefined) {
    return Promise.reject(
      new ConfigError(
        "SECRET_BACKEND=aws needs a Region: set AWS_REGION (or AWS_DEFAULT_REGION), e.g. eu-west-1",
        { backend: "aws" },
      ),
    );
  }
  if (!/^[a-z0-9-]{1,64}$/.test(region)) {
    const name = settings.AWS_REGION !== undefined ? "AWS_REGION" : "AWS_DEFAULT_REGION";
    return Promise.reject(
      new ConfigError(`${name} is not an AWS Region name such as eu-west-1`, { backend: "aws" }),
    );
  }
  const endpointName = settings.AWS_ENDPOINT_URL_SECRETS_MANAGER !== undefined
    ? "AWS_ENDPOINT_URL_SECRETS_MANAGER"
    : "AWS_ENDPOINT_URL";
  const endpoint = settings[endpointName];
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    return Promise.reject(
      new ConfigError(`${endpointName} must be an http(s) URL such as http://127.0.0.1:5000`, {
        backend: "aws",
      }),
    );
  }
  let maxAttempts: number | undefined;
  let timeoutMs: number | undefined;
  try {
    maxAttempts = settings.AWS_MAX_ATTEMPTS;
    timeoutMs = settings.AWS_TIMEOUT_MS;
  } catch (err) {
    return Promise.reject(
      err instanceof ConfigError ? new ConfigError(err.message, { backend: "aws" }) : err,
    );
  }
  let readDeadlineMs: number;
  try {
    readDeadlineMs = settings.SECRET_READ_DEADLINE_MS;
  } catch (err) {
    return Promise.reject(
      err instanceof ConfigError ? new ConfigError(err.message, { backend: "aws" }) : err,
    );
  }
  try {
    return Promise.resolve(
      new AwsSecretManager({
        region,
        readDeadlineMs,
        ...(endpoint !== undefined ? { endpoint } : {}),
        ...(maxAttempts !== undefined ? { maxAttempts } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      }),
    );
  } catch (err) {
    return Promise.reject(err);
  }
};
