import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AchFiles } from '../rails/ach/ach-files';
import { AchRail } from '../rails/ach/ach-rail';
import type { PayoutBatch, PayoutInstruction } from '../rails/rail';
import { startTestAchServer } from './support/ach-server';
import { eventually, startTestBank, test_bank_routing } from './support/bank-process';

/**
 * The bank process on the real stack: its own PostgreSQL database, moov-io/ach's server, and the
 * wallet's side of the conversation played by the ACH rail (files built and read by it). A
 * banking day is one second here.
 */

const settle_timeout_ms = 15_000;

let nextEntry = 1;
let nextFile = 1;

function payoutBatch(accounts: string[], amountMinor = 10_000n): PayoutBatch {
  const instructions: PayoutInstruction[] = accounts.map((accountNumber, index) => ({
    payoutId: `po_${nextFile}_${index}`,
    amountMinor: amountMinor + BigInt(index),
    currency: 'USD',
    destination: { routingNumber: '021000021', accountNumber, holderName: `Holder ${index}`, accountType: 'checking' },
  }));
  const batch = {
    fileSequence: nextFile++,
    firstEntrySequence: nextEntry,
    createdAt: new Date('2026-12-07T10:00:00Z'),
    effectiveDate: '2026-12-08',
    instructions,
  };
  nextEntry += accounts.length;
  return batch;
}

describe('the bank (real process, real PostgreSQL, moov-io/ach)', () => {
  let achServer: Awaited<ReturnType<typeof startTestAchServer>>;
  let bank: Awaited<ReturnType<typeof startTestBank>>;
  let rail: AchRail;
  let cursor = '0';

  before(async () => {
    achServer = await startTestAchServer();
    bank = await startTestBank({ achServerUrl: achServer.url, bankDay: '1s' });
    rail = new AchRail(new AchFiles(achServer.url), {
      odfiRouting: test_bank_routing,
      odfiName: 'Test Bank',
      companyName: 'Wallet Inc',
      companyIdentification: '1234567890',
      entryDescription: 'PAYOUT',
    });
  });
  after(async () => {
    await bank?.stop();
    achServer?.stop();
  });

  function simulateCredit(accountNumber: string, amountMinor: number, originatorName: string) {
    const body = { account_number: accountNumber, amount_minor: amountMinor, originator_name: originatorName };
    return bank.request('POST', '/simulate/incoming-credit', JSON.stringify(body));
  }

  /** Reads the bank's files from the cursor on, as the wallet will, and what they carry. */
  async function pollFiles() {
    const page = await bank.request('GET', `/outgoing-files?after=${cursor}&limit=100`);
    assert.equal(page.status, 200);
    cursor = page.body.next_cursor as string;
    const files = page.body.files as { cursor: string; kind: string; contents: string }[];
    return Promise.all(files.map(async (file) => ({ ...file, ...(await rail.parseIncomingFile(file.contents)) })));
  }

  it('settles entries after a banking day and returns the matrix accounts (R02/R03/R04 after settlement, R03 before)', async () => {
    const outgoing = await rail.buildPayoutFile(
      payoutBatch(['11110001', '55550002', '55550003', '55550004', '55559003']),
    );
    const uploaded = await bank.request('POST', '/files?name=payouts.ach', outgoing.contents);
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
    assert.equal(uploaded.body.entry_count, 5);
    const traceOf = (suffix: string) =>
      outgoing.entries[['0001', '0002', '0003', '0004', '9003'].indexOf(suffix)]!.traceNumber;

    const returns = new Map<string, string>();
    await eventually(
      async () => {
        for (const file of await pollFiles())
          for (const entry of file.returns) {
            // Originated by the bank that received the payout (021000021), as NACHA has a return.
            assert.match(entry.traceNumber, /^02100002\d{7}$/);
            returns.set(entry.originalTraceNumber, entry.returnCode);
          }
        return returns.size === 4 ? true : undefined;
      },
      settle_timeout_ms,
      'four returns',
    );
    assert.deepEqual(Object.fromEntries(returns), {
      [traceOf('0002')]: 'R02',
      [traceOf('0003')]: 'R03',
      [traceOf('0004')]: 'R04',
      [traceOf('9003')]: 'R03',
    });

    const status = await bank.request('GET', `/files/${uploaded.body.file_id as string}`);
    const entries = status.body.entries as {
      trace_number: string;
      status: string;
      settled_at: string | null;
      account_last4: string;
    }[];
    const byTrace = new Map(entries.map((entry) => [entry.trace_number, entry]));
    assert.equal(byTrace.get(traceOf('0001'))!.status, 'SETTLED');
    assert.equal(byTrace.get(traceOf('0002'))!.status, 'RETURNED');
    assert.notEqual(byTrace.get(traceOf('0002'))!.settled_at, null, 'returned after settlement');
    assert.equal(byTrace.get(traceOf('9003'))!.settled_at, null, 'returned instead of settling');
    assert.ok(
      entries.every((entry) => entry.account_last4.length === 4),
      'account numbers masked',
    );

    // The statement: four payouts left our settlement account, three came back; the 9003 one never left.
    const statement = await bank.request('GET', `/statements/${new Date().toISOString().slice(0, 10)}`);
    const lines = statement.body.lines as { kind: string; trace_number: string; amount_minor: number }[];
    const mine = lines.filter((line) => outgoing.entries.some((entry) => entry.traceNumber === line.trace_number));
    assert.deepEqual(mine.map((line) => line.kind).sort(), [
      'payout_returned',
      'payout_returned',
      'payout_returned',
      'payout_settled',
      'payout_settled',
      'payout_settled',
      'payout_settled',
    ]);
    assert.equal(
      mine.reduce((total, line) => total + line.amount_minor, 0),
      -Number(outgoing.entries[0]!.amountMinor),
      'only the settled, unreturned payout is out of the account',
    );
  });

  it('recognizes a file uploaded twice and processes it once; refuses a new file reusing a trace number', async () => {
    const batch = payoutBatch(['22220001']);
    const outgoing = await rail.buildPayoutFile(batch);
    const first = await bank.request('POST', '/files', outgoing.contents);
    const second = await bank.request('POST', '/files', outgoing.contents);
    assert.equal(first.status, 201);
    assert.equal(second.status, 200);
    assert.equal(second.body.duplicate, true);
    assert.equal(second.body.file_id, first.body.file_id);
    // The same trace number in other bytes (another amount) is not the same file: refused whole.
    const reused = await rail.buildPayoutFile({
      ...batch,
      instructions: [{ ...batch.instructions[0]!, amountMinor: 1n }],
    });
    const refused = await bank.request('POST', '/files', reused.contents);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, 'trace_number_reused');
    const status = await bank.request('GET', `/files/${first.body.file_id as string}`);
    assert.equal((status.body.entries as unknown[]).length, 1);
  });

  it('refuses malformed and hostile files with a reason, and callers without the token', async () => {
    const good = (await rail.buildPayoutFile(payoutBatch(['33330001']))).contents;
    const control = good.split('\n').find((line) => line.startsWith('9'))!;
    const wrongTotal = good.replace(control, `${control.slice(0, 43)}${'7'.padStart(12, '0')}${control.slice(55)}`);
    const wrongHash = good.replace(control, `${control.slice(0, 21)}0000000001${control.slice(31)}`);
    const otherBank = good.replace(/^101 231380104/, '101 021000021');
    for (const [what, contents] of [
      ['wrong total', wrongTotal],
      ['wrong hash', wrongHash],
      ['truncated', good.slice(0, 250)],
      ['garbage', '\u0000\u0001 not a file'],
      ['addressed to another bank', otherBank],
    ] as const) {
      const answer = await bank.request('POST', '/files', contents);
      assert.equal(answer.status, 422, `${what}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error, 'file_refused', what);
    }
    assert.match(String((await bank.request('POST', '/files', wrongTotal)).body.message), /out-of-balance/);
    assert.equal((await bank.request('POST', '/files', good, 'not-the-token')).status, 401);
    assert.equal((await bank.request('GET', '/outgoing-files', undefined, '')).status, 401);
    assert.equal((await bank.request('GET', '/outgoing-files?after=-1')).status, 400);
    // Still healthy, and the good file is taken after all the bad ones.
    assert.equal((await bank.request('POST', '/files', good)).status, 201);
  });

  it('keeps everything across a kill: files, duplicates, and entries due while it was down', async () => {
    const outgoing = await rail.buildPayoutFile(payoutBatch(['44440001', '44440002']));
    const uploaded = await bank.request('POST', '/files', outgoing.contents);
    assert.equal(uploaded.status, 201);
    await bank.restart();
    const again = await bank.request('POST', '/files', outgoing.contents);
    assert.equal(again.status, 200);
    assert.equal(again.body.file_id, uploaded.body.file_id);
    const returned = await eventually(
      async () => {
        const status = await bank.request('GET', `/files/${uploaded.body.file_id as string}`);
        const entries = status.body.entries as { status: string; return_code: string | null }[];
        return entries.every((entry) => entry.status !== 'ACCEPTED') &&
          entries.some((entry) => entry.status === 'RETURNED')
          ? entries
          : undefined;
      },
      settle_timeout_ms,
      'settlement and return after the restart',
    );
    assert.deepEqual(returned.map((entry) => [entry.status, entry.return_code]).sort(), [
      ['RETURNED', 'R02'],
      ['SETTLED', null],
    ]);
  });

  it('sends incoming credits to the wallet, and plays an outage and duplicate delivery on request', async () => {
    const credit = await bank.request(
      'POST',
      '/simulate/incoming-credit',
      JSON.stringify({ account_number: '800000000017', amount_minor: 250_000, originator_name: 'Payroll Co' }),
    );
    assert.equal(credit.status, 201, JSON.stringify(credit.body));
    const credits = await eventually(
      async () => {
        const found = (await pollFiles()).flatMap((file) => file.credits);
        return found.length > 0 ? found : undefined;
      },
      settle_timeout_ms,
      'the credits file',
    );
    assert.deepEqual(credits, [
      {
        traceNumber: credit.body.trace_number,
        accountNumber: '800000000017',
        amountMinor: 250_000n,
        originatorName: 'Payroll Co',
      },
    ]);
    assert.equal(
      (
        await bank.request(
          'POST',
          '/simulate/incoming-credit',
          '{"account_number":"8000","amount_minor":1.5,"originator_name":"x"}',
        )
      ).status,
      400,
    );

    const down = await bank.request('POST', '/admin/faults', JSON.stringify({ outage_ms: 60_000 }));
    assert.equal(down.status, 200);
    const during = await bank.request('GET', `/outgoing-files?after=${cursor}`);
    assert.equal(during.status, 503);
    assert.equal(during.body.error, 'bank_unavailable');
    await bank.request('POST', '/admin/faults', JSON.stringify({ outage_ms: 0, duplicate_delivery: true }));
    const again = await bank.request('GET', `/outgoing-files?after=${cursor}`);
    assert.equal(again.status, 200);
    assert.equal((again.body.files as { cursor: string }[])[0]?.cursor, cursor, 'the last file is delivered again');
    await bank.request('POST', '/admin/faults', JSON.stringify({ duplicate_delivery: false }));
  });

  it('under duplicate delivery sends a credits file again under a new file id, with the same entries', async () => {
    await pollFiles();
    await bank.request('POST', '/admin/faults', JSON.stringify({ duplicate_delivery: true }));
    const credit = await simulateCredit('800000000041', 700, 'Sent Twice');
    assert.equal(credit.status, 201);
    const files = await eventually(
      async () => {
        const page = await bank.request('GET', `/outgoing-files?after=${cursor}&limit=100`);
        const found = (page.body.files as { cursor: string; file_name: string; contents: string }[]).filter(
          (file) => file.cursor !== cursor,
        );
        return found.length >= 2 ? found : undefined;
      },
      settle_timeout_ms,
      'the credits file and its resend',
    );
    await bank.request('POST', '/admin/faults', JSON.stringify({ duplicate_delivery: false }));
    const [first, again] = await Promise.all(files.slice(0, 2).map((file) => rail.parseIncomingFile(file.contents)));
    assert.notEqual(files[0]!.file_name, files[1]!.file_name);
    assert.notEqual(files[0]!.cursor, files[1]!.cursor);
    assert.deepEqual(again!.credits, first!.credits);
    assert.deepEqual(
      first!.credits.map((entry) => entry.traceNumber),
      [credit.body.trace_number],
    );
    await pollFiles();
  });

  it('holds files back under late delivery, and the cursor skips none of them', async () => {
    await pollFiles();
    await bank.request('POST', '/admin/faults', JSON.stringify({ late_delivery_ms: 3_000 }));
    const first = await simulateCredit('800000000025', 100, 'Late One');
    assert.equal(first.status, 201);
    // Made but held back: the file exists at the bank a while before a poll shows it.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.deepEqual(await pollFiles(), []);
    await bank.request('POST', '/admin/faults', JSON.stringify({ late_delivery_ms: 0 }));
    const second = await simulateCredit('800000000033', 200, 'On Time');
    assert.equal(second.status, 201);
    const traces: string[] = [];
    await eventually(
      async () => {
        for (const file of await pollFiles()) traces.push(...file.credits.map((credit) => credit.traceNumber));
        return traces.length >= 2 ? true : undefined;
      },
      settle_timeout_ms,
      'both credits',
    );
    // The on-time file waited behind the late one rather than overtaking it past the cursor.
    assert.deepEqual(traces, [first.body.trace_number, second.body.trace_number]);
  });
});
