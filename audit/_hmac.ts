/**
 * A synchronous HMAC-SHA-256 (RFC 2104 over FIPS 180-4) for the audit chain.
 *
 * WebCrypto's `subtle.sign` is asynchronous and costs an event-loop turn per
 * call; a hash chain must sign its events one after the other, so WebCrypto
 * caps a chain at roughly 19,000 events per second on the project's machine.
 * This implementation signs in the caller's turn. The verifier
 * (`audit/verify.ts`) checks every MAC with WebCrypto, and a property test
 * checks both agree, so the two implementations watch each other.
 *
 * @module
 */

const K = /* @__PURE__ */ new Uint32Array([
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

const INIT = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
];

const W = /* @__PURE__ */ new Uint32Array(64);

/** Runs the compression function over the 64-byte blocks of `data` starting at `offset`. */
function compress(state: Uint32Array, data: Uint8Array, offset: number, blocks: number): void {
  let h0 = state[0], h1 = state[1], h2 = state[2], h3 = state[3];
  let h4 = state[4], h5 = state[5], h6 = state[6], h7 = state[7];
  for (let b = 0; b < blocks; b++) {
    const o = offset + b * 64;
    for (let i = 0; i < 16; i++) {
      const j = o + i * 4;
      W[i] = (data[j] << 24) | (data[j + 1] << 16) | (data[j + 2] << 8) | data[j + 3];
    }
    for (let i = 16; i < 64; i++) {
      const w15 = W[i - 15], w2 = W[i - 2];
      const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
      const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
      W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
    }
    let a = h0, bb = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const ch = (e & f) ^ (~e & g);
      const t1 = (h + S1 + ch + K[i] + W[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const maj = (a & bb) ^ (a & c) ^ (bb & c);
      const t2 = (S0 + maj) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = bb;
      bb = a;
      a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + bb) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }
  state[0] = h0;
  state[1] = h1;
  state[2] = h2;
  state[3] = h3;
  state[4] = h4;
  state[5] = h5;
  state[6] = h6;
  state[7] = h7;
}

/** Finishes a hash whose state already absorbed `prefixBytes` bytes. */
function finish(state: Uint32Array, prefixBytes: number, data: Uint8Array): Uint8Array {
  const full = Math.floor(data.length / 64);
  compress(state, data, 0, full);
  const rest = data.length - full * 64;
  const tailLen = rest + 9 <= 64 ? 64 : 128;
  const tail = new Uint8Array(tailLen);
  tail.set(data.subarray(full * 64));
  tail[rest] = 0x80;
  const bits = (prefixBytes + data.length) * 8;
  const view = new DataView(tail.buffer);
  view.setUint32(tailLen - 8, Math.floor(bits / 0x100000000));
  view.setUint32(tailLen - 4, bits >>> 0);
  compress(state, tail, 0, tailLen / 64);
  const out = new Uint8Array(32);
  const ov = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) ov.setUint32(i * 4, state[i]);
  return out;
}

/** SHA-256 of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  return finish(Uint32Array.from(INIT), 0, data);
}

/** A keyed HMAC-SHA-256 with the key's inner and outer pad states precomputed. */
export class Hmac256 {
  readonly #inner = new Uint32Array(8);
  readonly #outer = new Uint32Array(8);

  /** Prepares the key (any length; longer than a block is hashed first). */
  constructor(key: Uint8Array) {
    const block = new Uint8Array(64);
    block.set(key.length > 64 ? sha256(key) : key);
    const ipad = block.map((b) => b ^ 0x36);
    const opad = block.map((b) => b ^ 0x5c);
    this.#inner.set(INIT);
    compress(this.#inner, ipad, 0, 1);
    this.#outer.set(INIT);
    compress(this.#outer, opad, 0, 1);
    block.fill(0);
  }

  /** HMAC-SHA-256 of `data` under the key. */
  sign(data: Uint8Array): Uint8Array {
    const inner = finish(this.#inner.slice(), 64, data);
    return finish(this.#outer.slice(), 64, inner);
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
