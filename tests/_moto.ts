/**
 * The moto server for the AWS tests: found at `MOTO_ENDPOINT` or
 * http://127.0.0.1:5000, reset once per test file, and split per test by a
 * fresh moto account id (moto keeps each account's secrets apart), so tests
 * never see each other's secrets.
 *
 * Outside CI a missing moto skips the tests with a message saying how to run
 * it; with `CI=true` it is a failure.
 *
 * @module
 */

import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type AwsOptions, AwsSecretManager, KeywardAwsRetryStrategy } from "../backends/aws.ts";

/** Where moto listens, once it answered. */
export interface Moto {
  /** The endpoint URL. */
  endpoint: string;
}

const HOW_TO =
  "start it with `pip install 'moto[server]' && moto_server -H 127.0.0.1 -p 5000` (or set MOTO_ENDPOINT)";

/**
 * Finds and resets moto. Returns `undefined` (after printing why) when moto
 * is not running outside CI; throws when `CI=true`.
 */
export async function findMoto(): Promise<Moto | undefined> {
  const endpoint = (Deno.env.get("MOTO_ENDPOINT") ?? "http://127.0.0.1:5000").replace(/\/+$/, "");
  let problem: string | undefined;
  try {
    const res = await fetch(`${endpoint}/moto-api/reset`, {
      method: "POST",
      signal: AbortSignal.timeout(3000),
    });
    const body = await res.text();
    if (!res.ok) problem = `POST /moto-api/reset answered HTTP ${res.status}`;
    else if (!body.includes("ok")) problem = "POST /moto-api/reset did not answer ok";
  } catch (err) {
    problem = `not reachable (${(err as Error).name})`;
  }
  if (problem === undefined) return { endpoint };
  const message = `moto at ${endpoint}: ${problem}; ${HOW_TO}`;
  if (Deno.env.get("CI") === "true") throw new Error(`AWS tests need moto in CI. ${message}`);
  console.warn(`Skipping the AWS tests against moto. ${message}`);
  return undefined;
}

/** A fresh moto account id (12 digits, never the default 123456789012). */
export function freshAccountId(): string {
  let id = "";
  for (const byte of crypto.getRandomValues(new Uint8Array(12))) id += String(byte % 10);
  return id === "123456789012" ? "210987654321" : id;
}

/** Options of {@linkcode motoManager}. */
export interface MotoManagerOptions extends Pick<AwsOptions, "timeoutMs" | "now"> {
  /** The moto account the manager lives in (default: a fresh one). */
  accountId?: string;
  /** Options of the SDK client (default: moto's endpoint, a real Region, test credentials). */
  client?: ConstructorParameters<typeof SecretsManagerClient>[0];
}

/** A manager built by {@linkcode motoManager}, with its client and I/O counter. */
export interface Counted {
  /** The manager. */
  manager: AwsSecretManager;
  /** The SDK client it was given. */
  client: SecretsManagerClient;
  /** The moto account it uses. */
  accountId: string;
  /** Commands sent so far (one per SDK call, retries not counted). */
  commands(): number;
}

/**
 * An {@linkcode AwsSecretManager} on moto through an injected SDK client (the
 * SDK's default `node:http` handler, keyward's retry strategy without
 * delays), in its own moto account, counting the commands it sends.
 */
export function motoManager(moto: Moto, options: MotoManagerOptions = {}): Counted {
  const { accountId = freshAccountId(), client: clientOptions = {}, ...rest } = options;
  const client = new SecretsManagerClient({
    region: "eu-west-1",
    credentials: { accessKeyId: "moto-test-key", secretAccessKey: "moto-test-secret" },
    retryStrategy: new KeywardAwsRetryStrategy({ retryDelayMs: () => 0 }),
    ...clientOptions,
    endpoint: moto.endpoint,
  });
  let count = 0;
  client.middlewareStack.add(
    (next) => (args) => {
      count += 1;
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers["x-moto-account-id"] = accountId;
      return next(args);
    },
    { step: "build", name: "keywardMotoAccount" },
  );
  const manager = new AwsSecretManager({ ...rest, client });
  const close = manager.close.bind(manager);
  manager.close = async () => {
    await close();
    client.destroy();
  };
  return { manager, client, accountId, commands: () => count };
}
