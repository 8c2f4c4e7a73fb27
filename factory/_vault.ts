/**
 * `SECRET_BACKEND=vault`: HashiCorp Vault KV version 2.
 *
 * Settings: `VAULT_ADDR` (required), `VAULT_MOUNT` (default `secret`),
 * `VAULT_NAMESPACE`, `VAULT_TIMEOUT_MS` (default 5000, per attempt),
 * `SECRET_READ_DEADLINE_MS` (default 10000, the whole read; 0: none), and exactly one way
 * to authenticate: `VAULT_TOKEN`; or `VAULT_ROLE_ID` with `VAULT_SECRET_ID`
 * (AppRole, mount `VAULT_APPROLE_MOUNT`, default `approle`); or
 * `VAULT_K8S_ROLE` (Kubernetes, mount `VAULT_K8S_MOUNT`, default
 * `kubernetes`) with the service-account token read from
 * `VAULT_K8S_JWT_PATH` (default
 * `/var/run/secrets/kubernetes.io/serviceaccount/token`) at each login.
 *
 * @module
 */

import { type VaultAuth, VaultSecretManager } from "../backends/vault.ts";
import { ConfigError } from "../core/errors.ts";
import type { BackendBuilder } from "./_types.ts";
import { settingsOf } from "./_settings.ts";

export { DEFAULT_K8S_JWT_PATH } from "../settings/table.ts";

/** Vault is reached over the network: the factory puts the cache in front of it. */
export const remote = true;

const BACKEND = { backend: "vault" };

/** Builds the Vault backend from the `VAULT_*` settings. */
export const build: BackendBuilder = (input) => {
  const { readTextFile } = input;
  const settings = settingsOf(input);
  const address = settings.VAULT_ADDR;
  if (address === undefined) {
    return Promise.reject(
      new ConfigError("VAULT_ADDR is not set: the Vault backend needs Vault's address", BACKEND),
    );
  }
  const token = settings.VAULT_TOKEN;
  const roleId = settings.VAULT_ROLE_ID;
  const secretId = settings.VAULT_SECRET_ID;
  const k8sRole = settings.VAULT_K8S_ROLE;
  const chosen = [
    token !== undefined && "VAULT_TOKEN",
    (roleId !== undefined || secretId !== undefined) && "VAULT_ROLE_ID/VAULT_SECRET_ID",
    k8sRole !== undefined && "VAULT_K8S_ROLE",
  ].filter((x): x is string => typeof x === "string");
  if (chosen.length === 0) {
    return Promise.reject(
      new ConfigError(
        "the Vault backend needs credentials: set VAULT_TOKEN, or VAULT_ROLE_ID and " +
          "VAULT_SECRET_ID (AppRole), or VAULT_K8S_ROLE (Kubernetes)",
        BACKEND,
      ),
    );
  }
  if (chosen.length > 1) {
    return Promise.reject(
      new ConfigError(
        `more than one kind of Vault credentials is set (${chosen.join(", ")}); set only one`,
        BACKEND,
      ),
    );
  }
  let auth: VaultAuth;
  if (token !== undefined) {
    auth = { token };
  } else if (k8sRole !== undefined) {
    const jwtPath = settings.VAULT_K8S_JWT_PATH;
    const mount = settings.VAULT_K8S_MOUNT;
    auth = {
      kubernetes: {
        role: k8sRole,
        jwt: () => readTextFile(jwtPath),
        ...(mount !== undefined ? { mount } : {}),
      },
    };
  } else {
    if (roleId === undefined) {
      return Promise.reject(new ConfigError("VAULT_ROLE_ID is not set (AppRole login)", BACKEND));
    }
    if (secretId === undefined) {
      return Promise.reject(new ConfigError("VAULT_SECRET_ID is not set (AppRole login)", BACKEND));
    }
    const mount = settings.VAULT_APPROLE_MOUNT;
    auth = { appRole: { roleId, secretId, ...(mount !== undefined ? { mount } : {}) } };
  }
  let timeoutMs: number | undefined;
  let readDeadlineMs: number;
  try {
    timeoutMs = settings.VAULT_TIMEOUT_MS;
    readDeadlineMs = settings.SECRET_READ_DEADLINE_MS;
  } catch (err) {
    return Promise.reject(err instanceof ConfigError ? new ConfigError(err.message, BACKEND) : err);
  }
  const mount = settings.VAULT_MOUNT;
  const namespace = settings.VAULT_NAMESPACE;
  try {
    return Promise.resolve(
      new VaultSecretManager({
        address,
        auth,
        ...(mount !== undefined ? { mount } : {}),
        ...(namespace !== undefined ? { namespace } : {}),
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        readDeadlineMs,
      }),
    );
  } catch (err) {
    return Promise.reject(renameOption(err));
  }
};

/** Maps the backend's option names onto the settings that fed them. */
function renameOption(err: unknown): unknown {
  if (!(err instanceof ConfigError)) return err;
  const message = err.message
    .replace("option address (VAULT_ADDR)", "VAULT_ADDR")
    .replace(/^option mount /, "VAULT_MOUNT ")
    .replace(/^option namespace /, "VAULT_NAMESPACE ")
    .replace(/^option auth: appRole\.mount/, "VAULT_APPROLE_MOUNT")
    .replace(/^option auth: kubernetes\.mount/, "VAULT_K8S_MOUNT");
  return new ConfigError(message, BACKEND);
}
