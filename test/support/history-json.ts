import { createRequire } from 'node:module';
import type { History } from '@temporalio/common/lib/proto-utils';

/**
 * Reads a workflow history in the JSON the Temporal CLI writes (`temporal workflow show
 * --output json`). The SDK's own historyFromJSON cannot be used here: npm installs two copies of
 * protobufjs 8 (one under @temporalio/common, one under @temporalio/proto), and the converter
 * of one refuses the message types of the other ("type must be a Type"). This takes the
 * converter from the same copy that built the types.
 */
const fromProto = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
const { fromJson } = fromProto('protobufjs/ext/protojson') as {
  fromJson: (type: unknown, json: unknown, options?: object) => History;
};
const proto = fromProto('@temporalio/proto') as object;
const { patchProtobufRoot } = fromProto('@temporalio/proto/lib/patch-protobuf-root') as {
  patchProtobufRoot: (root: object) => { lookupType(name: string): unknown };
};
const historyType = patchProtobufRoot(proto).lookupType('temporal.api.history.v1.History');

export function historyFromCliJson(json: unknown): History {
  // Histories from newer servers may carry fields this SDK does not know: they are ignored.
  return fromJson(historyType, json, { ignoreUnknownFields: true });
}
