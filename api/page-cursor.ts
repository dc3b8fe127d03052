import { createHmac, timingSafeEqual } from 'node:crypto';

/** Enough of an HMAC-SHA256 to make forging a cursor hopeless, short enough for a URL. */
const cursor_mac_bytes = 16;

/**
 * Opaque page cursors around Temporal's next page tokens: base64url of a MAC and the token.
 * Temporal does not answer a made-up token with a clean "invalid argument" (the dev server
 * says "something went wrong, please retry", and the SDK retries that for seconds), so a
 * token reaches Temporal only if a wallet process (one with the same AUTH_SECRET) handed it
 * out, for the same listing. Anything else is the client's mistake: a 400, never a 5xx.
 */
export function pageCursors(secret: string) {
  // A key of its own, derived from the token secret, so the two uses never share a key.
  const key = createHmac('sha256', secret).update('wallet page cursor v1').digest();
  const macOf = (listing: string, token: Uint8Array) =>
    createHmac('sha256', key).update(listing).update('\u0000').update(token).digest().subarray(0, cursor_mac_bytes);

  return {
    /** `listing` names what was listed (e.g. "status:FAILED"); the cursor works only for that listing. */
    seal(listing: string, token: Uint8Array): string {
      return Buffer.concat([macOf(listing, token), token]).toString('base64url');
    },
    /** The token inside a cursor this process sealed for `listing`, or undefined. */
    open(listing: string, cursor: string): Uint8Array | undefined {
      const bytes = Buffer.from(cursor, 'base64url');
      if (bytes.length <= cursor_mac_bytes) return undefined;
      const token = bytes.subarray(cursor_mac_bytes);
      return timingSafeEqual(bytes.subarray(0, cursor_mac_bytes), macOf(listing, token)) ? token : undefined;
    },
  };
}
