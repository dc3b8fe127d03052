import { RailFileRefused } from '../rail';

/**
 * The calls the ACH rail makes to moov-io/ach's HTTP server (supervisor/ach-server.ts). Each file
 * lives on the server only for one build or parse and is deleted after it, so the server holds
 * nothing between calls and any instance will do.
 */

const request_timeout_ms = 10_000;
/** moov's own limit is 10 MiB; a bigger file is refused here before it is sent. */
const ach_file_bytes_max = 10 * 1024 * 1024;

interface CreateAnswer {
  id?: string;
  /** moov names the kept file's id `ID` when it also reports a parse error. */
  ID?: string;
  file?: unknown;
  error?: string | null;
}

export class MoovAchClient {
  constructor(private readonly baseUrl: string) {}

  /** Parses (text) or builds (JSON) a file, checks every total, count and hash, and hands the file back as moov's JSON. */
  async withFile<T>(body: string | object, use: (id: string, file: unknown) => Promise<T>): Promise<T> {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    if (Buffer.byteLength(text) > ach_file_bytes_max) throw new RailFileRefused('the file is larger than 10 MiB');
    const created = (await this.call('POST', '/files/create', text)) as CreateAnswer;
    const id = created.id ?? created.ID;
    try {
      if (created.error) throw new RailFileRefused(created.error);
      if (typeof id !== 'string') throw new Error('the ACH server answered neither a file nor an error');
      // Creating parses records; only validate recomputes the controls (totals, entry hash, counts).
      const validation = (await this.call('GET', `/files/${id}/validate`)) as { error?: string | null };
      if (validation.error) throw new RailFileRefused(validation.error);
      return await use(id, created.file);
    } finally {
      if (typeof id === 'string') await this.call('DELETE', `/files/${id}`).catch(() => undefined);
    }
  }

  async contents(id: string): Promise<string> {
    const response = await this.fetch('GET', `/files/${id}/contents`);
    if (!response.ok) throw new Error(`ACH server: GET contents answered ${response.status}`);
    return response.text();
  }

  private async call(method: string, path: string, body?: string): Promise<unknown> {
    const response = await this.fetch(method, path, body);
    const text = await response.text();
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      throw new Error(`ACH server: ${method} ${path} answered ${response.status} with no JSON`);
    }
    // moov answers 400, and for some unreadable files 500, with {error} saying what is wrong with
    // the file: that is a refusal of the file. A 5xx without one is a fault of the server.
    const saysWhy = typeof (answer as { error?: unknown } | null)?.error === 'string';
    if (response.status >= 500 && !saysWhy)
      throw new Error(`ACH server: ${method} ${path} answered ${response.status}`);
    return answer;
  }

  private fetch(method: string, path: string, body?: string): Promise<Response> {
    return fetch(`${this.baseUrl}${path}`, {
      method,
      body,
      headers: body === undefined ? {} : { 'content-type': body.startsWith('{') ? 'application/json' : 'text/plain' },
      signal: AbortSignal.timeout(request_timeout_ms),
    });
  }
}
