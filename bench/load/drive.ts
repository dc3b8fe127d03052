import { errorKindOf, isOutcomeUnknown, RequestError } from './errors';
import type { PhaseRecorder } from './recorder';
import type { LoadTarget } from './target';
import type { TransferPlan } from './workload';

/** How long one transfer may take from its scheduled instant to a final state before it is `not_final`. */
const completion_deadline_ms = 120_000;

export interface Sender {
  /** Sends request `index`, timed from `scheduled_ms`, and resolves when it is settled. */
  send(index: number, scheduled_ms: number): Promise<void>;
  /** Requests under way now. */
  readonly outstanding: number;
}

/** Binds a target, the workload and a recorder into one function per request. */
export function createSender(
  target: LoadTarget,
  nextPlan: () => TransferPlan,
  keyOf: (index: number) => string,
  recorder: PhaseRecorder,
): Sender {
  let outstanding = 0;
  const send = async (index: number, scheduled_ms: number) => {
    const plan = nextPlan();
    const key = keyOf(index);
    const deadline_ms = scheduled_ms + completion_deadline_ms;
    let transferId: string | undefined;
    outstanding++;
    recorder.sent_total++;
    try {
      const accepted = await target.submit(plan, key, deadline_ms);
      transferId = accepted.transferId;
      recorder.accepted(scheduled_ms, performance.now());
      if (!accepted.final) await target.awaitFinal(transferId, deadline_ms);
      recorder.finished(scheduled_ms, performance.now());
    } catch (error) {
      recorder.failed(scheduled_ms, errorKindOf(error));
      // A refusal the server answered is settled; anything else is checked again at the end.
      const settled = error instanceof RequestError && error.kind.startsWith('failed_');
      if (!settled && (transferId !== undefined || isOutcomeUnknown(error)))
        recorder.unsettled.push({ plan, key, ...(transferId ? { transferId } : {}) });
    } finally {
      outstanding--;
    }
  };
  return {
    send,
    get outstanding() {
      return outstanding;
    },
  };
}
