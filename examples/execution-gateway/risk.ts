/**
 * The risk check. It imports nothing from keyward: what it needs (the
 * account lookup, which uses the broker credential) is injected, so the
 * risk rules never hold or see a secret (a test checks its imports).
 *
 * @module
 */

/** An order as the gateway receives it. */
export interface Order {
  /** Ticker. */
  symbol: string;
  /** Shares. */
  qty: number;
  /** Buy or sell. */
  side: "buy" | "sell";
}

/** What the risk check needs from the broker, injected by the gateway. */
export interface RiskDeps {
  /** The account's buying power, in dollars. */
  buyingPower(): Promise<number>;
  /** Largest quantity one order may carry. */
  maxQty: number;
}

/** Returns why an order is refused, or `undefined` when it may go. */
export async function checkOrder(order: Order, deps: RiskDeps): Promise<string | undefined> {
  if (!/^[A-Z.]{1,10}$/.test(order.symbol)) return "unknown symbol";
  if (!Number.isInteger(order.qty) || order.qty <= 0) return "quantity must be a positive integer";
  if (order.qty > deps.maxQty) return `quantity above the limit of ${deps.maxQty}`;
  if (order.side !== "buy" && order.side !== "sell") return "side must be buy or sell";
  if (order.side === "buy" && (await deps.buyingPower()) <= 0) return "no buying power";
  return undefined;
}
