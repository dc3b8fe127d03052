import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Fields that hold a bank account number, wherever a log line might carry one (a request body,
 * an error's context, a rail's input): written as `[masked]`. The code never logs one on purpose
 * (answers and audit rows show the last 4 digits); this is the net under a mistake.
 */
const redacted_paths = ['account_number', 'accountNumber'].flatMap((field) => [
  field,
  `*.${field}`,
  `*.*.${field}`,
  `*.*.*.${field}`,
]);

/** JSON logs, one line each; transfer lines carry transfer_id and workflow_id (see activities). */
export function createLogger(service: string, level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redacted_paths, censor: '[masked]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
