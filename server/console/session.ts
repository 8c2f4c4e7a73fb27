/**
 * The console's session cookie: `<payload>.<mac>`, base64url, where the
 * payload names the token entry (its id, never the token) and the expiry,
 * and the MAC is HMAC-SHA-256 under a key the endpoint holds. A session is
 * checked again on every request against the token file: a revoked or
 * expired token, or one that lost the `operator` role, ends it.
 *
 * @module
 */

/** The cookie's name. */
export const COOKIE = "keyward_console";
/** How long a session lasts: 8 hours. */
export const SESSION_MS = 8 * 3_600_000;

const enc = new TextEncoder();

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  try {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

/** What a valid cookie says. */
export interface Session {
  /** The token entry's id. */
  tokenId: string;
  /** When it ends, epoch ms. */
  expiresMs: number;
}

/** Signs and checks session cookies under one key. */
export class SessionKeys {
  readonly #key: Promise<CryptoKey>;

  /** `key`: 32 bytes or more; omitted: a random key (sessions end with the process). */
  constructor(key?: Uint8Array) {
    if (key !== undefined && key.length < 32) {
      throw new RangeError("the console's session key needs 32 bytes or more");
    }
    const raw = key ?? crypto.getRandomValues(new Uint8Array(32));
    this.#key = crypto.subtle.importKey(
      "raw",
      new Uint8Array(raw),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
  }

  /** The cookie value for `session`. */
  async sign(session: Session): Promise<string> {
    const payload = b64url(
      enc.encode(JSON.stringify({ t: session.tokenId, e: session.expiresMs })),
    );
    const mac = await crypto.subtle.sign("HMAC", await this.#key, enc.encode(payload));
    return `${payload}.${b64url(new Uint8Array(mac))}`;
  }

  /** The session a cookie value holds, when its MAC is right and it has not ended. */
  async check(value: string | undefined, nowMs: number): Promise<Session | undefined> {
    if (value === undefined || value.length > 512) return undefined;
    const [payload, mac, extra] = value.split(".");
    if (extra !== undefined || !payload || !mac) return undefined;
    const sig = fromB64url(mac);
    // Only the one canonical spelling: the last character's unused bits must be zero.
    if (!sig || b64url(sig) !== mac) return undefined;
    const ok = await crypto.subtle.verify("HMAC", await this.#key, sig, enc.encode(payload));
    if (!ok) return undefined;
    try {
      const o = JSON.parse(new TextDecoder().decode(fromB64url(payload)));
      if (typeof o.t !== "string" || typeof o.e !== "number" || o.e <= nowMs) return undefined;
      return { tokenId: o.t, expiresMs: o.e };
    } catch {
      return undefined;
    }
  }
}
