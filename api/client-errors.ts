import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Requests Node's HTTP parser refuses before Express sees them (headers or a URL past
 * `--max-http-header-size`, 16 KiB; a request line it cannot read) get the API's documented
 * error shape instead of Node's bare `431` or `400` with no body: every error a client can cause
 * is JSON with a code from api/errors.ts. The connection is closed after the answer, as Node does.
 */
export function answerClientErrorsAsJson(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const [status, code, message] = tooLarge
      ? [431, 'headers_too_large', 'the request line and headers are more than 16 KiB']
      : [400, 'invalid_request', 'the request is not valid HTTP'];
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  });
}
