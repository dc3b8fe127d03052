import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inWalletOrder } from '../../ledger/wallet-events';

/** An event of `userId` at drain position (xid, position): one of the page's, or an earlier one of its wallet read with it. */
function read(userId: string, sequence: number, [xid, position]: [number, number], inPage = true) {
  return { userId, sequence: BigInt(sequence), cursor: { xid: BigInt(xid), position: BigInt(position) }, inPage };
}

const handedOut = (events: ReturnType<typeof read>[]) =>
  events.map((event) => `${event.userId}#${event.sequence}@${event.cursor.xid}.${event.cursor.position}`);

describe('inWalletOrder', () => {
  it('hands a page already in order out as it is', () => {
    const page = [read('ann', 1, [10, 1]), read('ann', 2, [11, 2]), read('bob', 1, [11, 3])];
    assert.deepEqual(handedOut(inWalletOrder(page)), ['ann#1@10.1', 'ann#2@11.2', 'bob#1@11.3']);
  });

  it('puts a wallet whose later number has the smaller xid back in sequence order, each slot keeping its cursor', () => {
    // ann#3 was written by xid 100, which took ann's head after xid 101 had taken #2.
    const page = [read('ann', 3, [100, 7]), read('bob', 1, [100, 9]), read('ann', 2, [101, 8])];
    // The last slot (ann#2) went out with ann#3's: its cursor, the page's end, goes with the last event.
    assert.deepEqual(handedOut(inWalletOrder(page)), ['ann#2@100.7', 'ann#3@100.7', 'bob#1@101.8']);
    const longer = [...page, read('cat', 1, [102, 1])];
    assert.deepEqual(handedOut(inWalletOrder(longer)), ['ann#2@100.7', 'ann#3@100.7', 'bob#1@100.9', 'cat#1@102.1']);
  });

  it('hands out an earlier event from past the page before the later one in it, and ends on the page end', () => {
    // ann#2 (xid 105) is past the page's limit, or its xid not below xmin yet: read with the page, not in it.
    const page = [read('ann', 3, [100, 7]), read('bob', 4, [102, 1]), read('ann', 2, [105, 2], false)];
    const out = inWalletOrder(page);
    assert.deepEqual(handedOut(out), ['ann#2@100.7', 'ann#3@100.7', 'bob#4@102.1']);
    assert.deepEqual(out.at(-1)!.cursor, { xid: 102n, position: 1n });
  });

  it('hands each wallet out in sequence order whatever the interleaving', () => {
    const page = [
      read('ann', 5, [50, 1]),
      read('bob', 2, [51, 2]),
      read('ann', 3, [52, 3]),
      read('bob', 1, [53, 4]),
      read('ann', 4, [54, 5], false),
    ];
    const out = inWalletOrder(page);
    for (const user of ['ann', 'bob']) {
      const sequences = out.filter((event) => event.userId === user).map((event) => Number(event.sequence));
      assert.deepEqual(
        sequences,
        [...sequences].sort((a, b) => a - b),
        user,
      );
    }
    assert.equal(out.length, 5);
  });
});
