import pino, { type Logger } from 'pino';

/** JSON logs, one line each; transfer lines carry transfer_id and workflow_id (see activities). */
export function createLogger(service: string, level: string): Logger {
  return pino({ level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime });
}
