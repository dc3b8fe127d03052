// The worker bundles this file and everything it imports into the deterministic workflow sandbox.
export { transferWorkflow } from './transfer';
export { reconcileWorkflow } from './reconcile';
export { transferBatchWorkflow } from './transfer-batch';
export { payinPollWorkflow } from './payins';
export { payoutWorkflow } from './payout';
export { payoutCutoffWorkflow, payoutInboundWorkflow } from './payout-files';
export { settlementReconcileWorkflow } from './settlement-reconcile';
export { webhookDeliveryWorkflow, webhookDispatchWorkflow } from './webhooks';
