/**
 * Account ids name their owner and currency, so a ledger line reads on its own:
 * `customer:<user>:<currency>`, and per shard `clearing:<currency>` and `settlement:<currency>`
 * (built in SQL by post_leg, see migrations).
 */
export function customerAccountId(userId: string, currency: string): string {
  return `customer:${userId}:${currency}`;
}
