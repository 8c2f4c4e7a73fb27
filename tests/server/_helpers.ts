/**
 * Shared set-up for the endpoint's tests: a token entry builder and an app
 * over a manager that counts its calls.
 */

import {
  createServerApp,
  hashToken,
  type ServerApp,
  staticTokens,
  type TokenEntry,
} from "../../server.ts";
import { FaultyManager, MemorySecretManager, RecordingAuditSink } from "../../testing.ts";
import type { SecretManager } from "../../mod.ts";

let counter = 0;

/** A token and its entry; `over` changes the entry's fields. */
export async function makeToken(
  over: Partial<TokenEntry> = {},
): Promise<{ token: string; entry: TokenEntry }> {
  counter += 1;
  const token = `kw_test-${crypto.randomUUID()}`;
  const entry: TokenEntry = {
    id: `tok_${counter.toString(16).padStart(12, "0")}`,
    sha256: await hashToken(token),
    service: "signal",
    prefixes: ["database/"],
    stages: ["current"],
    roles: ["read"],
    created: "2026-12-07T00:00:00Z",
    ...over,
  };
  return { token, entry };
}

/** An app over `manager` (wrapped in a call-counting FaultyManager). */
export function appOver(
  manager: SecretManager,
  entries: TokenEntry[],
  extra: Partial<Parameters<typeof createServerApp>[0]> = {},
): ServerApp & { backend: FaultyManager; audit: RecordingAuditSink } {
  const backend = new FaultyManager(manager);
  const audit = new RecordingAuditSink();
  const server = createServerApp({
    manager: backend,
    tokens: staticTokens(entries),
    audit,
    backendName: "memory",
    ratePerSecond: 1000,
    ...extra,
  });
  return { ...server, backend, audit };
}

/** A memory backend holding a few secrets. */
export function seeded(
  values: Record<string, string | Record<string, string>> = {},
): MemorySecretManager {
  return new MemorySecretManager({ initial: values });
}

/** Bearer headers. */
export const auth = (token: string): Record<string, string> => ({
  authorization: `Bearer ${token}`,
});
