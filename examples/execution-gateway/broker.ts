/**
 * A small broker client over Alpaca's trading API: the key pair travels in
 * the `APCA-API-KEY-ID` and `APCA-API-SECRET-KEY` headers and nowhere else.
 *
 * @module
 */

import type { Secret } from "@keyward/secrets";
import type { Order } from "./risk.ts";

/** The broker key pair, as `Secret`s. */
export interface BrokerKey {
  /** `key_id`. */
  keyId: Secret;
  /** `secret_key`. */
  secretKey: Secret;
}

/** A client bound to one key pair and its version. */
export class BrokerClient {
  readonly #base: string;
  readonly #key: BrokerKey;
  /** The version of `alpaca/api_key` this client holds. */
  readonly version: string;

  /** Binds the client to `key` (version `version`) at `base`. */
  constructor(base: string, key: BrokerKey, version: string) {
    this.#base = base.replace(/\/+$/, "");
    this.#key = key;
    this.version = version;
  }

  #headers(): HeadersInit {
    return {
      "APCA-API-KEY-ID": this.#key.keyId.reveal(),
      "APCA-API-SECRET-KEY": this.#key.secretKey.reveal(),
      "content-type": "application/json",
    };
  }

  /** `GET /v2/account`: the account, or an error naming the status. */
  async account(signal?: AbortSignal): Promise<{ id: string; buying_power: string }> {
    const res = await fetch(`${this.#base}/v2/account`, { headers: this.#headers(), signal });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`the broker answered ${res.status} to GET /v2/account`);
    }
    return await res.json();
  }

  /** `POST /v2/orders`. */
  async submit(order: Order, signal?: AbortSignal): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.#base}/v2/orders`, {
      method: "POST",
      headers: this.#headers(),
      body: JSON.stringify({ ...order, type: "market", time_in_force: "day" }),
      signal,
    });
    const text = await res.text();
    let body: unknown = undefined;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return { status: res.status, body };
  }
}
