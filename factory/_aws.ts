/**
 * `SECRET_BACKEND=aws`: AWS Secrets Manager.
 *
 * | setting | meaning |
 * |---|---|
 * | `AWS_REGION` (or `AWS_DEFAULT_REGION`) | the Region (required) |
 * | `AWS_ENDPOINT_URL_SECRETS_MANAGER`, then `AWS_ENDPOINT_URL` | an endpoint replacing AWS's (moto, a VPC endpoint) |
 * | `AWS_MAX_ATTEMPTS` | attempts per call, 1 to 10 (default 3) |
 * | `AWS_TIMEOUT_MS` | how long one attempt may wait for an answer (default 5000) |
 * | `SECRET_READ_DEADLINE_MS` | the overall limit of one read, retries included (default 10000; 0: none) |
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
import { setting } from "./_settings.ts";
import type { BackendBuilder } from "./_types.ts";

/** Builds the AWS backend from settings; a missing or bad setting is a `ConfigError` naming it. */
export const build: BackendBuilder = (settings) => {
  const env = settings.env;
  const region = setting(env, "AWS_REGION") ?? setting(env, "AWS_DEFAULT_REGION");
  if (region === undefined) {
    return Promise.reject(
      new ConfigError(
        "SECRET_BACKEND=aws needs a Region: set AWS_REGION (or AWS_DEFAULT_REGION), e.g. eu-west-1",
        { backend: "aws" },
      ),
    );
  }
  if (!/^[a-z0-9-]{1,64}$/.test(region)) {
    const name = setting(env, "AWS_REGION") !== undefined ? "AWS_REGION" : "AWS_DEFAULT_REGION";
    return Promise.reject(
      new ConfigError(`${name} is not an AWS Region name such as eu-west-1`, { backend: "aws" }),
    );
  }
  const endpointName = setting(env, "AWS_ENDPOINT_URL_SECRETS_MANAGER") !== undefined
    ? "AWS_ENDPOINT_URL_SECRETS_MANAGER"
    : "AWS_ENDPOINT_URL";
  const endpoint = setting(env, endpointName);
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    return Promise.reject(
      new ConfigError(`${endpointName} must be an http(s) URL such as http://127.0.0.1:5000`, {
        backend: "aws",
      }),
    );
  }
  const attemptsText = setting(env, "AWS_MAX_ATTEMPTS");
  let maxAttempts: number | undefined;
  if (attemptsText !== undefined) {
    maxAttempts = /^\d{1,2}$/.test(attemptsText) ? Number(attemptsText) : NaN;
    if (!(maxAttempts >= 1 && maxAttempts <= 10)) {
      return Promise.reject(
        new ConfigError("AWS_MAX_ATTEMPTS must be an integer from 1 to 10", { backend: "aws" }),
      );
    }
  }
  const millis: Record<string, number> = {};
  for (const [name, min] of [["AWS_TIMEOUT_MS", 1], ["SECRET_READ_DEADLINE_MS", 0]] as const) {
    const raw = setting(env, name);
    if (raw === undefined) continue;
    if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) < min) {
      return Promise.reject(
        new ConfigError(
          `${name} must be a ${min > 0 ? "positive " : ""}whole number of milliseconds`,
          { backend: "aws" },
        ),
      );
    }
    millis[name] = Number(raw);
  }
  try {
    return Promise.resolve(
      new AwsSecretManager({
        region,
        ...(millis.AWS_TIMEOUT_MS !== undefined ? { timeoutMs: millis.AWS_TIMEOUT_MS } : {}),
        ...(millis.SECRET_READ_DEADLINE_MS !== undefined
          ? { readDeadlineMs: millis.SECRET_READ_DEADLINE_MS }
          : {}),
        ...(endpoint !== undefined ? { endpoint } : {}),
        ...(maxAttempts !== undefined ? { maxAttempts } : {}),
      }),
    );
  } catch (err) {
    return Promise.reject(err);
  }
};
