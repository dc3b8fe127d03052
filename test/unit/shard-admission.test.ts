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

  it('a slow shard with work waiting lowers the rate once the peak has decayed, never below its floor', () => {
    const clock = manualClock();
    const admission = new ShardAdmission(1, { ceiling: 5_000, ratePriorPerS: 20, rateFloorPerS: 5 }, clock.now);
    for (let index = 0; index < 200; index++) admitted(admission.admit([0], customer(120_000))).startedAs(`q${index}`);
    for (let second = 0; second < 180; second++) {
      clock.advance(1_000);
      admission.finished(`q${second}`);
      if (second === 29) {
        assert.ok(admission.ratePerS(0) < 1.5, `rate ${admission.ratePerS(0)}`);
        assert.ok(admission.capacityPerS(0) > 10, 'after 30 s the peak still holds the estimate up');
      }
    }
    // 180 s is four time constants of the peak's decay: 20/s × e^-4 is below the floor.
    assert.ok(admission.capacityPerS(0) < 1.5, `capacity ${admission.capacityPerS(0)}`);
    for (let index = 0; index < 279; index++) admitted(admission.admit([0], customer(120_000))).startedAs(`b${index}`);
    assert.equal(admission.estimateMs(0), 60_000, '300 at the floor of 5/s');
  });

  it('admits a burst whose accept makes completions lag: the peak of the rate holds the estimate up', () => {
    const clock = manualClock();
    const admission = new ShardAdmission(1, { ceiling: 5_000, ratePriorPerS: 20 }, clock.now);
    // For 10 s, 150 requests a second are admitted while the busy process finishes only 4 a second.
    let finished = 0;
    for (let second = 0; second < 10; second++) {
      for (let index = 0; index < 150; index++) {
        admitted(admission.admit([0], customer(120_000))).startedAs(`b${second * 150 + index}`);
      }
      clock.advance(1_000);
      for (let index = 0; index < 4; index++) admission.finished(`b${finished++}`);
    }
    // The EWMA alone (about 5.7/s) would put the 1,461st at 256 s, past the 2-minute target.
    const rate = admission.ratePerS(0);
    assert.ok(rate > 5 && rate < 6.5, `rate ${rate}`);
    assert.ok(((admission.estimateMs(0) / 1000) * admission.capacityPerS(0)) / rate > 120, 'refused on the EWMA alone');
    // Its peak, 20/s decayed for 10 s (16.0/s), puts it at 91 s.
    assert.ok(Math.abs(admission.capacityPerS(0) - 20 * Math.exp(-10 / 45)) < 0.01);
    assert.ok(Math.abs(admission.estimateMs(0) - (1_461 * 1000) / (20 * Math.exp(-10 / 45))) < 1);
  });

  it('the peak decays with a 45 s time constant and is renewed by a rate above it', () => {
    const clock = manualClock();
    const admission = new ShardAdmission(1, { ceiling: 5_000, ratePriorPerS: 20, rateFloorPerS: 1 }, clock.now);
    let next = 0;
    // Learn 100/s over 40 s of 100 started and finished each second.
    for (let second = 0; second < 40; second++) {
      const started = Array.from({ length: 100 }, () => `t${next++}`);
      for (const id of started) admitted(admission.admit([0], customer(120_000))).startedAs(id);
      clock.advance(1_000);
      for (const id of started) admission.finished(id);
    }
    const learned = admission.ratePerS(0);
    assert.ok(Math.abs(learned - 100) < 1, `rate ${learned}`);
    // Then the shard slows down to 2/s with work always waiting.
    for (let index = 0; index < 1_000; index++)
      admitted(admission.admit([0], customer(3_600_000))).startedAs(`s${index}`);
    let slow = 0;
    const capacityAfter = (seconds: number) => {
      for (let second = 0; second < seconds; second++) {
        clock.advance(1_000);
        admission.finished(`s${slow++}`);
        admission.finished(`s${slow++}`);
      }
      return admission.capacityPerS(0);
    };
    // The EWMA falls within seconds; the peak decays from the end of the last fast second (the
    // first of these 45, in which the last 100 were heard of).
    assert.ok(Math.abs(capacityAfter(45) - learned * Math.exp(-44 / 45)) < 0.1);
    assert.ok(admission.ratePerS(0) < 2.1, 'the EWMA itself has long followed the slow shard');
    assert.ok(Math.abs(capacityAfter(45) - learned * Math.exp(-89 / 45)) < 0.1);
    assert.ok(capacityAfter(90) < 2.1, 'after 3 minutes the slow rate is the estimate');
    // A faster rate renews the peak: 100 started and finished in one second, with the backlog drained first.
    while (slow < 1_000) admission.finished(`s${slow++}`);
    for (let second = 0; second < 30; second++) {
      const started = Array.from({ length: 100 }, () => `t${next++}`);
      for (const id of started) admitted(admission.admit([0], customer(120_000))).startedAs(id);
      clock.advance(1_000);
      for (const id of started) admission.finished(id);
    }
    assert.ok(admission.capacityPerS(0) > 90, `capacity ${admission.capacityPerS(0)}`);
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
