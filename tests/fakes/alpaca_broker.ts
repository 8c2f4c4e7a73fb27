/**
 * A fake Alpaca broker on 127.0.0.1 for the `alpaca` rotator's tests: it
 * answers `GET /v2/account` for a configurable set of key pairs, each bound
 * to an account id, with Alpaca's headers (`APCA-API-KEY-ID`,
 * `APCA-API-SECRET-KEY`) and its 401/403 answers.
 */

/** A running fake broker. */
export interface FakeBroker {
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /** Accepts a key pair for an account. */
  addPair(keyId: string, secretKey: string, accountId: string): void;
  /** Revokes a key pair. */
  revoke(keyId: string): void;
  /** How many account requests it answered. */
  readonly requests: number;
  /** Stops it. */
  close(): Promise<void>;
}

/** Starts a fake broker on a free port of 127.0.0.1. */
export function startFakeBroker(): FakeBroker {
  const pairs = new Map<string, { secretKey: string; accountId: string }>();
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    if (req.method !== "GET" || url.pathname !== "/v2/account") {
      return Response.json({ code: 40410000, message: "endpoint not found" }, { status: 404 });
    }
    requests++;
    const keyId = req.headers.get("APCA-API-KEY-ID");
    const secret = req.headers.get("APCA-API-SECRET-KEY");
    if (!keyId || !secret) {
      return Response.json({ code: 40110000, message: "request is not authorized" }, {
        status: 401,
      });
    }
    const pair = pairs.get(keyId);
    if (!pair || pair.secretKey !== secret) {
      return Response.json({ code: 40310000, message: "forbidden" }, { status: 403 });
    }
    return Response.json({
      id: pair.accountId,
      account_number: `PA${pair.accountId.slice(0, 8).toUpperCase()}`,
      status: "ACTIVE",
      currency: "USD",
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    addPair: (keyId, secretKey, accountId) => void pairs.set(keyId, { secretKey, accountId }),
    revoke: (keyId) => void pairs.delete(keyId),
    get requests() {
      return requests;
    },
    close: () => server.shutdown(),
  };
}
