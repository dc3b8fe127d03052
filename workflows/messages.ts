import { defineQuery } from '@temporalio/workflow';
import type { FailureReason, TransferStatus } from '../domain/transfers';

export interface TransferState {
  status: TransferStatus;
  /** Which step the workflow is on; useful to ops when a transfer is slow. */
  step: 'debiting' | 'fencing' | 'crediting' | 'compensating' | 'done';
  failureReason: FailureReason | null;
  /** True once the debit was refunded after a refused credit. */
  compensated: boolean;
}

export const statusQuery = defineQuery<TransferState>('status');
