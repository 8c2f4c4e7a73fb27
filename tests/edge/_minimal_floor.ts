/**
 * The floor an edge bundle is read against: the least code that reads a
 * secret from Vault (KV v2, token auth, `fetch`) and keeps it in a TTL
 * cache with one request per name in flight. No validation, retries,
 * deadlines, stale serving, errors that name the secret or redaction: what
 * keyward's edge bundle adds on top is the ratio in tests/bench/bundle_size.ts.
 *
 * @module
 */

const cache = new Map<string, { value: Promise<string>; expiresAt: number }>();

/** The value of `name` (field `value`) at `addr`, cached for `ttlMs`. */
export function readSecret(
  addr: string,
  token: string,
  name: string,
  ttlMs = 60_000,
): Promise<string> {
  const hit = cache.get(name);
  if (hit !== undefined && Date.now() < hit.expiresAt) return hit.value;
  const value = fetch(`${addr}/v1/secret/data/${name}`, { headers: { "X-Vault-Token": token } })
    .then(async (res) => {
      if (!res.ok) throw new Error(`vault answered ${res.status}`);
      return (await res.json()).data.data.value as string;
    });
  value.catch(() => cache.delete(name));
  cache.set(name, { value, expiresAt: Date.now() + ttlMs });
  return value;
}
