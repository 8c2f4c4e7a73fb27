/**
 * A Cloudflare Worker built on keyward's edge entry: `VaultSecretManager`
 * behind `withCache`. tests/edge/worker_test.ts bundles it (with `mod.ts`
 * replaced by the separately bundled `./keyward.js`) and runs it in workerd.
 *
 * Routes:
 * - `GET /secret?name=<name>`: `{ value, stats }`, or on an error
 *   `{ error: { code, message }, stats }` with the status of the error's code;
 * - `POST /clock?advanceMs=<n>`: moves the cache's clock forward (workerd's
 *   own clock stands still while a request runs, and the test must not sleep).
 *
 * Bindings: `VAULT_ADDR`, `VAULT_TOKEN`.
 *
 * @module
 */

import {
  type CachedSecretManager,
  KeywardError,
  VaultSecretManager,
  withCache,
} from "../../mod.ts";
import { STALE_IF_ERROR_MS, TTL_MS } from "./_worker_settings.ts";

/** The worker's bindings. */
interface Env {
  VAULT_ADDR: string;
  VAULT_TOKEN: string;
}

const STATUS: Record<string, number> = { not_found: 404, invalid_name: 400, access: 503 };

let clockOffsetMs = 0;
let secrets: CachedSecretManager | undefined;

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function manager(env: Env): CachedSecretManager {
  secrets ??= withCache(
    new VaultSecretManager({
      address: env.VAULT_ADDR,
      auth: { token: env.VAULT_TOKEN },
      timeoutMs: 2_000,
      retry: { attempts: 1 },
    }),
    { ttlMs: TTL_MS, staleIfErrorMs: STALE_IF_ERROR_MS, now: () => Date.now() + clockOffsetMs },
  );
  return secrets;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/clock" && request.method === "POST") {
      clockOffsetMs += Number(url.searchParams.get("advanceMs") ?? 0);
      return json({ clockOffsetMs });
    }
    if (url.pathname === "/secret") {
      const cache = manager(env);
      try {
        const value = await cache.getSecret(url.searchParams.get("name") ?? "");
        return json({ value, stats: cache.stats() });
      } catch (err) {
        if (!(err instanceof KeywardError)) throw err;
        return json(
          { error: { code: err.code, message: err.message }, stats: cache.stats() },
          STATUS[err.code] ?? 500,
        );
      }
    }
    return json({ error: { code: "route", message: "no such route" } }, 404);
  },
};
