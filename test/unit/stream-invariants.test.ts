import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkStreamInvariants, type StreamOutbox } from '../../chaos/stream-invariants';

const clean: StreamOutbox = {
  entriesWithoutOneEvent: [],
  eventIds: ['ev_a_1', 'ev_a_2', 'ev_b_1'],
  walletsWithGaps: [],
};

function held(outboxes: StreamOutbox[], stream: string[]): boolean[] {
  return checkStreamInvariants(outboxes, stream, 17).map((result) => result.held);
}

describe('the events stream invariants', () => {
  it('hold for an outbox whose every event is on the stream once', () => {
    assert.deepEqual(held([clean], ['ev_a_1', 'ev_b_1', 'ev_a_2']), [true, true, true]);
  });

  it('fail on an entry without its one event, a missing or doubled message, a gap', () => {
    assert.deepEqual(held([{ ...clean, entriesWithoutOneEvent: ['0:12 (0 events)'] }], clean.eventIds), [
      false,
      true,
      true,
    ]);
    assert.deepEqual(held([clean], ['ev_a_1', 'ev_a_2']), [true, false, true]);
    assert.deepEqual(held([clean], [...clean.eventIds, 'ev_a_1']), [true, false, true]);
    assert.deepEqual(held([{ ...clean, walletsWithGaps: ['1:a'] }], clean.eventIds), [true, true, false]);
  });
});
