import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { drain_start, inWalletOrder, type DrainCursor } from '../../ledger/wallet-events';

/** An event at drain position (xid, position) of `userId`, whose previous event is at `previous` (or none). */
function drained(userId: string, sequence: number, at: [number, number], previous: [number, number] | null) {
  const cursorOf = ([xid, position]: [number, number]): DrainCursor => ({
    xid: BigInt(xid),
    position: BigInt(position),
  });
  return { userId, sequence: BigInt(sequence), cursor: cursorOf(at), previous: previous && cursorOf(previous) };
}

const handedOut = (events: ReturnType<typeof drained>[]) =>
  events.map((event) => `${event.userId}#${event.sequence}@${event.cursor.xid}.${event.cursor.position}`);

describe('inWalletOrder', () => {
  it('puts a wallet whose later number has the smaller xid back in sequence order, each slot keeping its cursor', () => {
    // ann#3 was written by xid 100, which took ann's head after xid 101 had taken #2.
    const page = [
      drained('ann', 3, [100, 7], [101, 8]),
      drained('bob', 1, [100, 9], null),
      drained('ann', 2, [101, 8], [90, 1]),
    ];
    assert.deepEqual(handedOut(inWalletOrder(page, { xid: 95n, position: 0n })), [
      'ann#2@100.7',
      'bob#1@100.9',
      'ann#3@101.8',
    ]);
  });

  it('stops before an event whose previous one is neither handed out nor in the page, and everything after it', () => {
    const page = [
      drained('bob', 4, [100, 1], [99, 5]),
      drained('ann', 3, [100, 7], [105, 2]),
      drained('bob', 5, [102, 3], [100, 1]),
    ];
    assert.deepEqual(handedOut(inWalletOrder(page, { xid: 99n, position: 5n })), ['bob#4@100.1']);
  });

  it('cuts again when a cut takes away the previous event of one kept before it', () => {
    const page = [
      drained('ann', 3, [100, 1], [101, 2]),
      drained('ann', 2, [101, 2], [103, 4]),
      drained('cat', 2, [102, 3], [104, 9]),
    ];
    // ann#2's own previous (#1) is not visible yet, so neither #2 nor #3 may go.
    assert.deepEqual(handedOut(inWalletOrder(page, drain_start)), []);
  });

  it('hands out a page already in order as it is', () => {
    const page = [
      drained('ann', 1, [10, 1], null),
      drained('ann', 2, [11, 2], [10, 1]),
      drained('bob', 1, [11, 3], null),
    ];
    assert.deepEqual(handedOut(inWalletOrder(page, drain_start)), ['ann#1@10.1', 'ann#2@11.2', 'bob#1@11.3']);
  });
});
