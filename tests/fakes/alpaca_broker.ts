/**
 * A fake Alpaca broker on 127.0.0.1 for the `alpaca` rotator's and the
 * execution gateway's tests: it answers `GET /v2/account` and `POST
 * /v2/orders` for a configurable set of key pairs, each bound to an account
 * id, with Alpaca's headers (`APCA-API-KEY-ID`, `APCA-API-SECRET-KEY`) and its
 * 401/403 answers, and records the key id each accepted order came with.
 */

/** One order the broker accepted. */
export interface RecordedOrder {
  /** The `APCA-API-KEY-ID` it came with. */
  keyId: string;
  /** The account that key belongs to. */
  accountId: string;
  /** The order's JSON body. */
  body: Record<string, unknown>;
}

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
  /** Every order it accepted, in arrival order. */
  readonly orders: readonly RecordedOrder[];
  /** How many order requests it refused (bad or missing key pair). */
  readonly refusedOrders: number;
  /** Stops it. */
  close(): Promise<void>;
}

/** Starts a fake broker on a free port of 127.0.0.1. */
export function startFakeBroker(): FakeBroker {
  const pairs = new Map<string, { secretKey: string; accountId: string }>();
  const orders: RecordedOrder[] = [];
  let requests = 0;
  let refusedOrders = 0;
  const authorize = (req: Request): Response | { keyId: string; accountId: string } => {
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
    return { keyId, accountId: pair.accountId };
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const url = new URL(req.url);
      if (req.method === "GET" && url.pathname === "/v2/account") {
        requests++;
        const who = authorize(req);
        if (who instanceof Response) return who;
        return Response.json({
          id: who.accountId,
          account_number: `PA${who.accountId.slice(0, 8).toUpperCase()}`,
          status: "ACTIVE",
          currency: "USD",
          buying_power: "100000",
        });
      }
      if (req.method === "POST" && url.pathname === "/v2/orders") {
        const who = authorize(req);
        if (who instanceof Response) {
          refusedOrders++;
          await req.body?.cancel();
          return who;
        }
        let body: Record<string, unknown>;
        try {
          body = await req.json();
        } catch {
          return Response.json({ code: 40010000, message: "invalid body" }, { status: 400 });
        }
        orders.push({ keyId: who.keyId, accountId: who.accountId, body });
        return Response.json({
          id: crypto.randomUUID(),
          symbol: body.symbol,
          qty: String(body.qty),
          side: body.side,
          status: "accepted",
        });
      }
      await req.body?.cancel();
      return Response.json({ code: 40410000, message: "endpoint not found" }, { status: 404 });
    },
  );
  return {
    baseUrl: `http://127.0.0.1:${server.addr.port}`,
    addPair: (keyId, secretKey, accountId) => void pairs.set(keyId, { secretKey, accountId }),
    revoke: (keyId) => void pairs.delete(keyId),
    get requests() {
      return requests;
    },
    get orders() {
      return orders;
    },
    get refusedOrders() {
      return refusedOrders;
    },
    close: () => server.shutdown(),
  };
}
