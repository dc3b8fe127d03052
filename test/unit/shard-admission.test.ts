import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ops_headroom, ShardAdmission, type AdmissionDecision } from '../../api/shard-admission';

/** A clock the test moves by hand. */
function manualClock(startMs = 1_000_000) {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

const customer = (targetMs: number) => ({ targetMs, ops: false });

function admitted(decision: AdmissionDecision) {
  assert.ok(decision.admitted, `refused: ${JSON.stringify(decision)}`);
  return decision.ticket;
}

describe('ShardAdmission', () => {
  it('admits a burst whose backlog the measured rate finishes within the target', () => {
    const clock = manualClock();
    const admission = new ShardAdmission(4, { ceiling: 5_000, ratePriorPerS: 20 }, clock.now);
    // 1,000 transfers between shards 0 and 1 at 20/s prior: 50 s of work, under 120 s.
    for (let index = 0; index < 1_000; index++) {
      admitted(admission.admit([0, 1], customer(120_000))).startedAs(`t${index}`);
    }
    assert.equal(admission.inFlight, 1_000);
    assert.ok(Math.abs(admission.estimateMs(0) - 50_050) < 1);
    // The same backlog is more than a 10 s wait accepts.
    const refused = admission.admit([0], customer(10_000));
    assert.ok(!refused.admitted);
    assert.equal(refused.reason, 'delay');
    assert.equal(refused.shard, 0);
    assert.equal(refused.retryAfterS, 41, 'the excess over the target, rounded up');
    // Shards the burst does not touch are not affected.
    admitted(admission.admit([2, 3], customer(1_000))).release();
  });

  it('learns the completion rate from completions, over seconds with work only', () => {
    const clock = manualClock();
    const admission = new ShardAdmission(2, { ceiling: 5_000, ratePriorPerS: 20 }, clock.now);
    let next = 0;
    for (let second = 0; second < 30; second++) {
      // 100 started and 100 finished each second: the shard does 100/s.
      const started = Array.from({ length: 100 }, () => `t${next++}`);
      for (const id of started) admitted(admission.admit([0], customer(120_000))).startedAs(id);
      for (const id of started) admission.finished(id);
      clock.advance(1_000);
    }
    assert.ok(Math.abs(admission.ratePerS(0) - 100) < 1, `rate ${admission.ratePerS(0)}`);
    // An idle minute does not erase what was learned.
    clock.advance(60_000);
    assert.ok(Math.abs(admission.ratePerS(0) - 100) < 1, `rate after idling ${admission.ratePerS(0)}`);
    assert.equal(admission.ratePerS(1), 20, 'a shard with no work keeps its prior');
  });

  it('light demand with nothing left waiting does not lower the rate (it is not low capacity)', () => {
    const clock = manualClock();
    const admission = new ShardAdmission(1, { ceiling: 5_000, ratePriorPerS: 20, rateFloorPerS: 5 }, clock.now);
    for (let second = 0; second < 60; second++) {
      admitted(admission.admit([0], customer(120_000))).startedAs(`t${second}`);
      clock.advance(500);
      admission.finished(`t${second}`);
      clock.advance(500);
    }
    assert.equal(admission.ratePerS(0), 20, 'one a second finished, none waiting: the prior stands');
    for (let index = 0; index < 299; index++) admitted(admission.admit([0], customer(120_000))).startedAs(`b${index}`);
    assert.equal(admission.estimateMs(0), 15_000, '300 at the prior of 20/s');
  });

  it('a slow shard with work waiting lowers the rate, never below its floor', () => {
    const clock = manualClock();
    const admission = new ShardAdmission(1, { ceiling: 5_000, ratePriorPerS: 20, rateFloorPerS: 5 }, clock.now);
    for (let index = 0; index < 100; index++) admitted(admission.admit([0], customer(120_000))).startedAs(`q${index}`);
    for (let second = 0; second < 60; second++) {
      clock.advance(1_000);
      admission.finished(`q${second}`);
    }
    assert.ok(admission.ratePerS(0) < 1.5, `rate ${admission.ratePerS(0)}`);
    for (let index = 0; index < 259; index++) admitted(admission.admit([0], customer(120_000))).startedAs(`b${index}`);
    assert.equal(admission.estimateMs(0), 60_000, '300 at the floor of 5/s');
  });

  it('refuses a shard that finishes nothing once its stall passes the target, and only that shard', () => {
    const clock = manualClock();
    const admission = new ShardAdmission(3, { ceiling: 5_000 }, clock.now);
    for (let index = 0; index < 5; index++) admitted(admission.admit([0, 2], customer(2_000))).startedAs(`s${index}`);
    let healthy = 0;
    let refusal: AdmissionDecision | undefined;
    for (let tick = 0; tick < 40 && !refusal; tick++) {
      clock.advance(100);
      // Shard 1 keeps finishing; shard 2 finishes nothing.
      const id = `h${healthy++}`;
      admitted(admission.admit([1], customer(2_000))).startedAs(id);
      admission.finished(id);
      const decision = admission.admit([1, 2], customer(2_000));
      if (decision.admitted) decision.ticket.release();
      else refusal = decision;
    }
    assert.ok(refusal && !refusal.admitted);
    assert.equal(refusal.shard, 2);
    assert.ok(clock.now() - 1_000_000 >= 2_000, 'not before the target');
    assert.ok(!admission.admit([2], customer(2_000)).admitted);
    assert.ok(!admission.admit([0], customer(2_000)).admitted, 'shard 0 holds the same stuck transfers');
    admitted(admission.admit([1], customer(2_000))).release();
    // Once they finish, the shards admit again.
    for (let index = 0; index < 5; index++) admission.finished(`s${index}`);
    admitted(admission.admit([2], customer(2_000))).release();
  });

  it('measures the stall from when the shard got work, not from its last completion before an idle spell', () => {
    const clock = manualClock();
    const admission = new ShardAdmission(1, { ceiling: 5_000 }, clock.now);
    admitted(admission.admit([0], customer(2_000))).startedAs('a');
    admission.finished('a');
    clock.advance(600_000);
    admitted(admission.admit([0], customer(2_000))).startedAs('b');
    clock.advance(1_000);
    assert.ok(admission.estimateMs(0) < 2_000);
  });

  it('keeps headroom for ops requests past the customers target and ceiling', () => {
    const clock = manualClock();
    const admission = new ShardAdmission(1, { ceiling: 100, ratePriorPerS: 10, rateFloorPerS: 10 }, clock.now);
    let index = 0;
    for (;;) {
      const decision = admission.admit([0], customer(5_000));
      if (!decision.admitted) break;
      decision.ticket.startedAs(`c${index++}`);
    }
    assert.equal(index, 49, 'customers stop when 50 ahead would take 5 s');
    let ops = 0;
    while (admission.admit([0], { targetMs: 5_000, ops: true }).admitted) ops++;
    // Ops stop when 5 s × ops_headroom is ahead: 62 queued at 10/s.
    assert.equal(ops, Math.ceil(5 * 10 * ops_headroom) - 1 - index);
    // The ceiling keeps 10 % for ops.
    const full = new ShardAdmission(1, { ceiling: 100 }, clock.now);
    for (let count = 0; count < 90; count++) admitted(full.admit([0], customer(3_600_000))).startedAs(`f${count}`);
    const past = full.admit([0], customer(3_600_000));
    assert.ok(!past.admitted && past.reason === 'ceiling' && past.retryAfterS === 1);
    for (let count = 0; count < 10; count++) admitted(full.admit([0], { targetMs: 3_600_000, ops: true })).release();
  });

  it('counts a request from admission, releases it once, and forgets transfers never heard of again', () => {
    const clock = manualClock();
    const admission = new ShardAdmission(2, { ceiling: 2, forgetAfterMs: 60_000 }, clock.now);
    const first = admitted(admission.admit([0, 1], customer(120_000)));
    const second = admitted(admission.admit([0], customer(120_000)));
    assert.ok(!admission.admit([1], customer(120_000)).admitted, 'two reserved fill a ceiling of 2');
    second.release();
    second.release();
    assert.equal(admission.inFlight, 1);
    first.startedAs('x');
    first.release();
    assert.equal(admission.inFlight, 1, 'started: counted until it finishes');
    clock.advance(60_001);
    assert.ok(admission.estimateMs(1) <= 1_000 / 5, 'one ahead: nothing but the asking transfer, and no stall');
    assert.equal(admission.inFlight, 0);
  });
});
