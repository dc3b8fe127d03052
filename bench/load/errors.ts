/**
 * A request that did not end in a completed transfer, with a short kind for the report:
 * `dropped`, `not_final`, `http_<status>_<code>`, `failed_<reason>`, or a network error code.
 */
export class RequestError extends Error {
  override name = 'RequestError';

  constructor(
    readonly kind: string,
    /** True when the transfer may exist anyway (the request may have reached the server). */
    readonly outcomeUnknown = false,
  ) {
    super(kind);
  }
}

/** A short, stable name for any failure of a request. */
export function errorKindOf(error: unknown): string {
  if (error instanceof RequestError) return error.kind;
  const { code, name } = error as { code?: string; name?: string };
  return String(code ?? name ?? 'unknown').toLowerCase();
}

/** Errors that are not a server's answer: the request may or may not have been acted on. */
export function isOutcomeUnknown(error: unknown): boolean {
  return error instanceof RequestError ? error.outcomeUnknown : true;
}
