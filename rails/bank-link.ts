/**
 * How the wallet reaches its bank's file exchange: it polls the bank's outgoing files by cursor
 * and uploads its own files (bank/http.ts in development; a real bank's SFTP or API would be
 * another implementation of BankLink, chosen by configuration). Transport only: what a file
 * means is the Rail's business (rails/rail.ts).
 */
export interface BankFile {
  /** The bank's cursor of this file: files come in cursor order, and the next poll asks after it. */
  cursor: bigint;
  fileName: string;
  contents: string;
}

export interface BankLink {
  filesAfter(cursor: bigint, limit: number): Promise<{ files: BankFile[]; nextCursor: bigint }>;
  upload(fileName: string, contents: string): Promise<{ bankFileId: string; duplicate: boolean }>;
}

/** The bank said no to a file we sent it (its answer says why): sending it again will not help. */
export class BankRefusedFile extends Error {
  override name = 'BankRefusedFile';
}

const request_timeout_ms = 30_000;

/** The development bank's HTTP API (README, "The bank"), with its bearer token. */
export class BankHttpLink implements BankLink {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async filesAfter(cursor: bigint, limit: number): Promise<{ files: BankFile[]; nextCursor: bigint }> {
    const answer = (await this.call('GET', `/outgoing-files?after=${cursor}&limit=${limit}`)) as {
      files: { cursor: string; file_name: string; contents: string }[];
      next_cursor: string;
    };
    return {
      files: answer.files.map((file) => ({
        cursor: BigInt(file.cursor),
        fileName: file.file_name,
        contents: file.contents,
      })),
      nextCursor: BigInt(answer.next_cursor),
    };
  }

  async upload(fileName: string, contents: string): Promise<{ bankFileId: string; duplicate: boolean }> {
    const answer = (await this.call('POST', `/files?name=${encodeURIComponent(fileName)}`, contents)) as {
      file_id: string | number;
      duplicate: boolean;
    };
    return { bankFileId: String(answer.file_id), duplicate: answer.duplicate };
  }

  private async call(method: string, path: string, body?: string): Promise<unknown> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      body,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'text/plain' },
      signal: AbortSignal.timeout(request_timeout_ms),
    });
    const text = await response.text();
    // 5xx (an outage, a crash) and 429 are the bank's trouble: the caller retries. Any other
    // refusal is about what we sent (401 a wrong token, 422 a file it will not take).
    if (response.status >= 500 || response.status === 429)
      throw new Error(`the bank answered ${method} ${path.split('?')[0]} with ${response.status}`);
    if (!response.ok)
      throw new BankRefusedFile(
        `the bank refused ${method} ${path.split('?')[0]} (${response.status}): ${text.slice(0, 500)}`,
      );
    return JSON.parse(text) as unknown;
  }
}
