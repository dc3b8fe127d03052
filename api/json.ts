import type { Response } from 'express';

const bigint_marker = '\u0000bigint:';

/**
 * Sends JSON in which bigint values become exact JSON integers. Amounts in responses are
 * integers of minor units; JSON.stringify alone would throw on bigint or lose precision on Number.
 */
export function sendJson(response: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_key, value: unknown) =>
    typeof value === 'bigint' ? `${bigint_marker}${value.toString()}` : value,
  ).replace(/"\\u0000bigint:(-?[0-9]+)"/g, '$1');
  response.status(status).type('application/json').send(text);
}
