/**
 * A synchronous HMAC-SHA-256 for the audit chain (FIPS 180-4 SHA-256, RFC 2104
 * HMAC), in plain TypeScript.
 *
 * Why synchronous: WebCrypto's `subtle.sign` is asynchronous and costs an
 * event-loop turn per call; a hash chain must sign its events one after the
 * other, so WebCrypto caps a chain at roughly 19,000 events per second on the
 * project's machine, and `AuditChain.seal` is a synchronous API. Why not
 * `npm:@noble/hashes` (used before issue 18): `mod.ts` exports the chain, and
 * any npm package in its static graph costs every Deno user of `mod.ts` about
 * 7 ms of start-up (the npm resolver), for some 60 lines of code; a lazy
 * import cannot serve a synchronous `seal`. The verifier (`audit/verify.ts`)
 * checks every MAC with WebCrypto, and tests check this one against WebCrypto
 * and `@noble/hashes` on generated keys and messages and against RFC 4231's
 * vectors, so the implementations watch each other.
 *
 * @module
 */

const K = /* @__PURE__ */ Uint32Array.from([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);

const IV = /* @__PURE__ */ Uint32Array.from([
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
]);

/** Scratch space, reused: the message schedule and the padded last block(s). */
const W = /* @__PURE__ */ new Uint32Array(64);
const TAIL = /* @__PURE__ */ new Uint8Array(128);

/** Runs the compression function on the 64-byte block of `b` at `off`, updating `h`. */
function compress(h: Uint32Array, b: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++, off += 4) {
    W[i] = (b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3];
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15];
    const w2 = W[i - 2];
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (s1 + W[i - 7] + s0 + W[i - 16]) | 0;
  }
  let a = h[0], c1 = h[1], c2 = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (hh + S1 + ch + K[i] + W[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & c1) ^ (a & c2) ^ (c1 & c2);
    const t2 = (S0 + maj) | 0;
    hh = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c2;
    c2 = c1;
    c1 = a;
    a = (t1 + t2) | 0;
  }
  h[0] += a;
  h[1] += c1;
  h[2] += c2;
  h[3] += d;
  h[4] += e;
  h[5] += f;
  h[6] += g;
  h[7] += hh;
}

/**
 * The SHA-256 digest of `prefix` blocks already folded into `state` (their
 * byte length `prefixLength`, a multiple of 64) followed by `data`.
 */
function finish(state: Uint32Array, prefixLength: number, data: Uint8Array): Uint8Array {
  const h = state.slice();
  const n = data.length;
  let off = 0;
  for (; n - off >= 64; off += 64) compress(h, data, off);
  const rest = n - off;
  TAIL.fill(0);
  TAIL.set(data.subarray(off), 0);
  TAIL[rest] = 0x80;
  const blocks = rest + 9 <= 64 ? 64 : 128;
  const bits = (prefixLength + n) * 8;
  const hi = Math.floor(bits / 0x1_0000_0000);
  const lo = bits >>> 0;
  TAIL[blocks - 8] = hi >>> 24;
  TAIL[blocks - 7] = hi >>> 16;
  TAIL[blocks - 6] = hi >>> 8;
  TAIL[blocks - 5] = hi;
  TAIL[blocks - 4] = lo >>> 24;
  TAIL[blocks - 3] = lo >>> 16;
  TAIL[blocks - 2] = lo >>> 8;
  TAIL[blocks - 1] = lo;
  compress(h, TAIL, 0);
  if (blocks === 128) compress(h, TAIL, 64);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const v = h[i];
    out[4 * i] = v >>> 24;
    out[4 * i + 1] = v >>> 16;
    out[4 * i + 2] = v >>> 8;
    out[4 * i + 3] = v;
  }
  TAIL.fill(0); // it held the message's last bytes (a long key's, when hashing one)
  return out;
}

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return finish(IV, 0, data);
}

/** A keyed HMAC-SHA-256 with the key's inner and outer pad states precomputed. */
export class Hmac256 {
  readonly #inner: Uint32Array;
  readonly #outer: Uint32Array;

  /** Prepares the key (any length; longer than a block is hashed first). */
  constructor(key: Uint8Array) {
    const block = new Uint8Array(64);
    block.set(key.length > 64 ? sha256(key) : key);
    for (let i = 0; i < 64; i++) block[i] ^= 0x36;
    this.#inner = IV.slice();
    compress(this.#inner, block, 0);
    for (let i = 0; i < 64; i++) block[i] ^= 0x36 ^ 0x5c;
    this.#outer = IV.slice();
    compress(this.#outer, block, 0);
    block.fill(0);
    W.fill(0); // the schedule of the last block held the key's words
  }

  /** HMAC-SHA-256 of `data` under the key. */
  sign(data: Uint8Array): Uint8Array {
    // The pad states are copied, never changed: no key schedule per call.
    return finish(this.#outer, 64, finish(this.#inner, 64, data));
  }
}

const HEX: string[] = /* @__PURE__ */ Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}
