import { isInteger, parse } from 'lossless-json';
import { z } from 'zod';
import { settlement_line_kinds, type SettlementLine } from '../domain/settlement-match';

/**
 * How files reach our bank and come back: upload a payout file, read what became of its entries,
 * and poll the files the bank has for us. The bank process (bank/, README "The bank") speaks this
 * over HTTP with a bearer token; a real bank's SFTP drop or API would be another implementation
 * of `BankTransport`, chosen by configuration. The rail (rails/rail.ts) makes and reads the
 * files' bytes; this only moves them.
 */
export interface BankTransport {
  /** Stores the file at the bank; the same bytes again answer the same file id (duplicate: true). */
  upload(fileName: string, contents: string): Promise<{ bankFileId: string; duplicate: boolean }>;
  /** Each entry of an uploaded file and where it stands at the bank. */
  entryStatuses(bankFileId: string): Promise<BankEntryStatus[]>;
  /** The bank's next files for us after `after` (at least once: a file may come again). */
  pollFiles(after: string, limit: number): Promise<{ files: BankFeedFile[]; nextCursor: string }>;
  /**
   * The statement of our settlement account for a UTC day (YYYY-MM-DD). A real bank's BAI2 or
   * camt.053 statement would be read into the same shape, leaving settlement reconciliation as it is.
   */
  statement(date: string): Promise<BankStatement>;
}

export interface BankStatement {
  date: string;
  currency: string;
  openingBalanceMinor: bigint;
  closingBalanceMinor: bigint;
  /** Amounts signed: money out of our settlement account is negative. */
  lines: SettlementLine[];
}

export interface BankEntryStatus {
  traceNumber: string;
  status: 'ACCEPTED' | 'SETTLED' | 'RETURNED';
  settledAt: string | null;
}

export interface BankFeedFile {
  cursor: string;
  /** returns: returns of our payouts; credits: incoming credits (pay-ins read those). */
  kind: 'returns' | 'credits';
  fileName: string;
  contents: string;
}

/** The bank refused the file itself (not valid, not for it, a trace number reused): no retry helps. */
export class BankRefusedFile extends Error {
  override name = 'BankRefusedFile';
}

/** A page of at most this many files per poll (the bank's own maximum is 100). */
const poll_page_max = 100;
const request_timeout_ms = 30_000;

const uploadAnswer = z.object({ file_id: z.string().regex(/^\d{1,18}$/), duplicate: z.boolean() });
const statusAnswer = z.object({
  entries: z.array(
    z.object({
      trace_number: z.string(),
      status: z.enum(['ACCEPTED', 'SETTLED', 'RETURNED']),
      settled_at: z.string().nullable(),
    }),
  ),
});
const pollAnswer = z.object({
  files: z.array(
    z.object({
      cursor: z.string().regex(/^\d{1,18}$/),
      kind: z.enum(['returns', 'credits']),
      file_name: z.string(),
      contents: z.string(),
    }),
  ),
  next_cursor: z.string().regex(/^\d{1,18}$/),
});

const statementAnswer = z.object({
  date: z.iso.date(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  opening_balance_minor: z.string().regex(/^-?\d{1,19}$/),
  closing_balance_minor: z.string().regex(/^-?\d{1,19}$/),
  lines: z.array(
    z.object({
      kind: z.enum(settlement_line_kinds),
      trace_number: z.string().regex(/^\d{15}$/),
      amount_minor: z.string().regex(/^-?\d{1,19}$/),
      posted_at: z.iso.datetime(),
    }),
  ),
});

export class HttpBankTransport implements BankTransport {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async upload(fileName: string, contents: string) {
    const answer = uploadAnswer.parse(
      await this.call('POST', `/files?name=${encodeURIComponent(fileName)}`, contents, true),
    );
    return { bankFileId: answer.file_id, duplicate: answer.duplicate };
  }

  async entryStatuses(bankFileId: string): Promise<BankEntryStatus[]> {
    const answer = statusAnswer.parse(await this.call('GET', `/files/${encodeURIComponent(bankFileId)}`));
    return answer.entries.map((entry) => ({
      traceNumber: entry.trace_number,
      status: entry.status,
      settledAt: entry.settled_at,
    }));
  }

  async pollFiles(after: string, limit: number) {
    const page = Math.min(limit, poll_page_max);
    const answer = pollAnswer.parse(await this.call('GET', `/outgoing-files?after=${after}&limit=${page}`));
    return {
      files: answer.files.map((file) => ({
        cursor: file.cursor,
        kind: file.kind,
        fileName: file.file_name,
        contents: file.contents,
      })),
      nextCursor: answer.next_cursor,
    };
  }

  async statement(date: string): Promise<BankStatement> {
    const answer = statementAnswer.parse(await this.call('GET', `/statements/${encodeURIComponent(date)}`));
    return {
      date: answer.date,
      currency: answer.currency,
      openingBalanceMinor: BigInt(answer.opening_balance_minor),
      closingBalanceMinor: BigInt(answer.closing_balance_minor),
      lines: answer.lines.map((line) => ({
        kind: line.kind,
        traceNumber: line.trace_number,
        amountMinor: BigInt(line.amount_minor),
        postedAt: line.posted_at,
      })),
    };
  }

  /** A 4xx about an uploaded file refuses it; any other failure (5xx, 503 outage, no answer) is the caller's to retry. */
  private async call(method: string, path: string, body?: string, isUpload = false): Promise<unknown> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      body,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'text/plain' },
      signal: AbortSignal.timeout(request_timeout_ms),
    });
    const text = await response.text();
    if (isUpload && (response.status === 409 || response.status === 422))
      throw new BankRefusedFile(`the bank refused the file (${response.status}): ${text.slice(0, 500)}`);
    if (!response.ok) throw new Error(`the bank answered ${method} ${path.split('?')[0]} with ${response.status}`);
    // Amounts arrive as JSON integers and are kept as their digits (never a double): the callers read them as bigint.
    return parse(text, null, (value) => (isInteger(value) ? value : Number(value)));
  }
}
