import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkStreamInvariants,
  webhookDelivery,
  type EndpointAtEnd,
  type StreamOutbox,
} from '../../chaos/stream-invariants';
import type { WebhookArrival } from '../../chaos/webhook-receiver';

const clean: StreamOutbox = {
  entriesWithoutOneEvent: [],
  events: [
    { eventId: 'ev_a_1', userId: 'a', sequence: 1 },
    { eventId: 'ev_a_2', userId: 'a', sequence: 2 },
    { eventId: 'ev_b_1', userId: 'b', sequence: 1 },
  ],
  walletsWithGaps: [],
};
const eventIds = clean.events.map((event) => event.eventId);

function held(outboxes: StreamOutbox[], stream: string[]): boolean[] {
  return checkStreamInvariants(outboxes, stream, 17).map((result) => result.held);
}

describe('the events stream invariants', () => {
  it('hold for an outbox whose every event is on the stream once', () => {
    assert.deepEqual(held([clean], ['ev_a_1', 'ev_b_1', 'ev_a_2']), [true, true, true]);
  });

  it('fail on an entry without its one event, a missing or doubled message, a gap', () => {
    assert.deepEqual(held([{ ...clean, entriesWithoutOneEvent: ['0:12 (0 events)'] }], eventIds), [false, true, true]);
    assert.deepEqual(held([clean], ['ev_a_1', 'ev_a_2']), [true, false, true]);
    assert.deepEqual(held([clean], [...eventIds, 'ev_a_1']), [true, false, true]);
    assert.deepEqual(held([{ ...clean, walletsWithGaps: ['1:a'] }], eventIds), [true, true, false]);
  });
});

/** Arrivals written `a:2` (acknowledged) or `a:2!` (answered 500). */
function arrivals(...written: string[]): WebhookArrival[] {
  return written.map((text) => {
    const [user_id, rest] = text.split(':') as [string, string];
    const sequence = Number(rest.replace('!', ''));
    return { user_id, sequence, event_id: `ev_${user_id}_${sequence}`, acknowledged: !rest.endsWith('!'), at_ms: 0 };
  });
}

const active: EndpointAtEnd = { status: 'active', disabled_reason: null };
const disabled: EndpointAtEnd = { status: 'disabled', disabled_reason: 'retry_budget_exhausted' };

function webhookHeld(received: WebhookArrival[], endpoint = active, refused: string[] = []): boolean {
  return webhookDelivery([clean], { arrivals: received, refused }, endpoint, 21).held;
}

describe('the webhook delivery invariant', () => {
  it('holds for every event in order per wallet, wallets interleaved, with retries and repeats', () => {
    assert.equal(webhookHeld(arrivals('a:1', 'b:1', 'a:2')), true);
    // A 500 is retried; an acknowledged one sent again (its answer lost) is a repeat, even a late one.
    assert.equal(webhookHeld(arrivals('a:1!', 'a:1', 'a:1', 'b:1', 'a:2', 'a:1')), true);
  });

  it('fails on a new sequence after a later one, or one that skips', () => {
    const outOfOrder = webhookDelivery([clean], { arrivals: arrivals('a:2', 'a:1', 'b:1'), refused: [] }, active, 21);
    assert.equal(outOfOrder.held, false);
    assert.equal(outOfOrder.examples[0], 'a: sequence 2 acknowledged as new after 0 (1 acknowledged later)');
    // Only answered 500 the first time: its acknowledgement came after 2's.
    assert.equal(webhookHeld(arrivals('a:1!', 'a:2', 'a:1', 'b:1')), false);
    // Disabled excuses a missing event, never the order.
    assert.equal(webhookHeld(arrivals('a:2', 'a:1', 'b:1'), disabled), false);
  });

  it('fails on an event never acknowledged, unless the endpoint is flagged disabled', () => {
    const missing = webhookDelivery([clean], { arrivals: arrivals('a:1', 'a:2', 'b:1!'), refused: [] }, active, 21);
    assert.equal(missing.held, false);
    assert.deepEqual(missing.examples, ['ev_b_1: never acknowledged']);
    assert.equal(webhookHeld(arrivals('a:1', 'a:2'), disabled), true);
  });

  it('fails on a delivery whose signature was refused', () => {
    assert.equal(webhookHeld(arrivals('a:1', 'a:2', 'b:1'), active, ['ev_b_1: No matching signature found']), false);
  });
});
