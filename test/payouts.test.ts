import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { reference_shard } from '../domain/shard-routing';
import { AchFiles } from '../rails/ach/ach-files';
import { AchRail, type AchOriginator } from '../rails/ach/ach-rail';
import { HttpBankTransport, type BankTransport } from '../rails/bank-transport';
import { ensurePayoutSchedules } from '../workers/payout-schedules';
import { payoutCutoffWorkflow, payoutInboundWorkflow } from '../workflows/payout-files';
import { startTestAchServer } from './support/ach-server';
import { eventually, startTestBank, test_bank_routing } from './support/bank-process';
import { driftedAccounts, ledgerTotals, postingsOf } from './support/ledger';
import { startTestStack, test_timings, type TestStack } from './support/stack';
import { uniqueName } from './support/temporal';

/**
 * Payouts out and back on the real stack: the bank process (its own database, a banking day of
 * one second), moov-io/ach's server, Temporal and the shards. Cutoffs and the bank's feed are run
 * here as the Schedules run them (payoutCutoffWorkflow, payoutInboundWorkflow), one at a time, so
 * each test decides when a file is made; the last test lets the Schedules themselves run.
 */

const originator: AchOriginator = {
  odfiRouting: test_bank_routing,
  odfiName: 'Test Bank',
  companyName: 'Wallet Inc',
  companyIdentification: '1234567890',
  entryDescription: 'PAYOUT',
};
const return_window_ms = 8_000;
const wait_ms = 30_000;

/** The bank, as the worker reaches it; `crashAfterNextUpload` fails the upload's activity after the bank stored the file. */
class TestBankTransport implements BankTransport {
  crashAfterNextUpload = false;
  /** The next upload reaches the bank with its file control's credit total off by one: the bank refuses the file whole. */
  corruptNextUpload = false;
  /** The next status read of this file answers every entry still ACCEPTED: a settlement poll that learned nothing. */
  staleStatusesOnce: string | undefined;
  readonly uploads: { fileName: string; duplicate: boolean }[] = [];
  constructor(private readonly real: HttpBankTransport) {}
  async upload(fileName: string, contents: string) {
    const sent = this.corruptNextUpload ? withWrongTotal(contents) : contents;
    this.corruptNextUpload = false;
    const answer = await this.real.upload(fileName, sent);
    this.uploads.push({ fileName, duplicate: answer.duplicate });
    if (this.crashAfterNextUpload) {
      this.crashAfterNextUpload = false;
      throw new Error('crash between the upload and its recording (test)');
    }
    return answer;
  }
  async entryStatuses(bankFileId: string) {
    const statuses = await this.real.entryStatuses(bankFileId);
    if (this.staleStatusesOnce !== bankFileId) return statuses;
    this.staleStatusesOnce = undefined;
    return statuses.map((entry) => ({ ...entry, status: 'ACCEPTED' as const, settledAt: null }));
  }
  pollFiles(after: string, limit: number) {
    return this.real.pollFiles(after, limit);
  }
  statement(date: string) {
    return this.real.statement(date);
  }
}

/** The file control record (type 9, the last) with its total credit amount's last digit changed. */
function withWrongTotal(contents: string): string {
  const lines = contents.split('\n');
  const control = lines.findIndex((line) => line.startsWith('9') && !/^9+$/.test(line.trim()));
  const line = lines[control]!;
  // NACHA's file control: positions 44-55 hold the total credit amount (characters 43-54 here).
  lines[control] = `${line.slice(0, 54)}${(Number(line[54]) + 1) % 10}${line.slice(55)}`;
  return lines.join('\n');
}

describe('payouts (bank process, moov-io/ach, Temporal, PostgreSQL)', () => {
  let achServer: Awaited<ReturnType<typeof startTestAchServer>>;
  let bank: Awaited<ReturnType<typeof startTestBank>>;
  let transport: TestBankTransport;
  let rail: AchRail;
  let stack: TestStack;
  /** The wallet's error log lines (the suite reads what a refused file or a late return logs). */
  const logLines: string[] = [];

  before(async () => {
    achServer = await startTestAchServer();
    bank = await startTestBank({ achServerUrl: achServer.url, bankDay: '1s' });
    rail = new AchRail(new AchFiles(achServer.url), originator);
    transport = new TestBankTransport(new HttpBankTransport(bank.url, 'test-bank-token-for-the-suite-0123456789'));
    stack = await startTestStack({
      payouts: {
        worker: { rail, bank: transport },
        timings: { ...test_timings, returnWindowMs: return_window_ms },
        stuckAfterMs: 1_000,
      },
      logStream: new Writable({
        write(chunk: Buffer, _encoding, done) {
          logLines.push(
            ...chunk
              .toString()
              .split('\n')
              .filter((line) => line.length > 0),
          );
          done();
        },
      }),
    });
  });
  after(async () => {
    if (stack) assert.deepEqual(await driftedAccounts(stack.shards), []);
    await stack?.stop();
    await bank?.stop();
    achServer?.stop();
  });

  const ops = () => stack.api.ops;

  async function funded(amount: number): Promise<string> {
    const userId = uniqueName('po');
    assert.equal((await stack.api.createUser(userId)).status, 201);
    if (amount > 0) assert.equal((await stack.api.deposit(userId, amount)).body.status, 'COMPLETED');
    return userId;
  }

  async function bankAccount(userId: string, accountNumber: string): Promise<string> {
    const answer = await stack.api.call('POST', `/v1/wallet/${userId}/bank-accounts`, {
      as: userId,
      body: {
        routing_number: '021000021',
        account_number: accountNumber,
        holder_name: 'Pat Payee',
        account_type: 'checking',
      },
    });
    assert.equal(answer.status, 201);
    return answer.body.bank_account_id as string;
  }

  function payout(userId: string, bankAccountId: string, amount: number, key = uniqueName('k'), currency = 'USD') {
    return stack.api.call('POST', `/v1/wallet/${userId}/payouts`, {
      as: userId,
      body: { bank_account_id: bankAccountId, amount, currency, idempotency_key: key },
    });
  }

  const read = async (payoutId: string) => (await stack.api.call('GET', `/v1/wallet/payouts/${payoutId}`, ops())).body;

  /** Waits until the payout has `status`, running the bank's feed meanwhile when `withInbound`. */
  function until(payoutId: string, status: string, withInbound = false) {
    return eventually(
      async () => {
        if (withInbound) await inbound();
        const current = await read(payoutId);
        return current.status === status ? current : undefined;
      },
      wait_ms,
      `payout ${payoutId} ${status}`,
    );
  }

  const cutoff = () =>
    stack.client.workflow.execute(payoutCutoffWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: uniqueName('cutoff'),
    });
  const inbound = () =>
    stack.client.workflow.execute(payoutInboundWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: uniqueName('inbound'),
    });

  async function balance(userId: string) {
    const answer = await stack.api.call('GET', `/v1/wallet/${userId}/balance`, ops());
    return answer.body.balances.find((line: { currency: string }) => line.currency === 'USD');
  }

  it('settles one payout, and returns one before settlement (9003) and one after (0002), all in one file', async () => {
    const userId = await funded(10_000);
    const [settles, before9003, after0002] = await Promise.all([
      bankAccount(userId, '11110001'),
      bankAccount(userId, '22229003'),
      bankAccount(userId, '33330002'),
    ]);
    const answers = await Promise.all([
      payout(userId, settles, 1_000),
      payout(userId, before9003, 2_000),
      payout(userId, after0002, 3_000),
    ]);
    for (const answer of answers) assert.equal(answer.status, 202);
    const [settled, early, late] = answers.map((answer) => answer.body.payout_id as string);
    for (const id of [settled!, early!, late!]) await until(id, 'HELD');
    assert.deepEqual(await balance(userId), {
      currency: 'USD',
      amount: 4_000,
      available: 4_000,
      pending_out: 6_000,
      pending_in: 0,
    });

    const { fileSequence } = await cutoff();
    assert.ok(fileSequence !== null);
    const traces = [];
    for (const id of [settled!, early!, late!]) {
      const submitted = await until(id, 'SUBMITTED');
      assert.match(submitted.trace_number, /^23138010\d{7}$/);
      traces.push(submitted.trace_number);
    }
    assert.equal(new Set(traces).size, 3, 'one file, three trace numbers');

    const done = await until(settled!, 'SETTLED', true);
    assert.ok(Date.parse(done.return_window_ends_at) > Date.parse(done.settled_at));
    const returnedEarly = await until(early!, 'RETURNED', true);
    assert.equal(returnedEarly.return_code, 'R03');
    assert.equal(returnedEarly.settled_at, null, 'returned instead of settling');
    const returnedLate = await until(late!, 'RETURNED', true);
    assert.equal(returnedLate.return_code, 'R02');
    assert.notEqual(returnedLate.settled_at, null, 'returned after it settled');

    // The settled payout's money left; the two returned ones came back, one as a released hold, one as a return.
    assert.deepEqual(await balance(userId), {
      currency: 'USD',
      amount: 9_000,
      available: 9_000,
      pending_out: 0,
      pending_in: 0,
    });
    assert.deepEqual(
      (await postingsOf(stack.shards, early!)).map(({ leg }) => leg),
      ['hold', 'release'],
    );
    assert.deepEqual(
      (await postingsOf(stack.shards, late!)).map(({ leg }) => leg),
      ['hold', 'return', 'settle'],
    );
    const totals = await ledgerTotals(stack.shards, 'USD');
    assert.equal(totals.customer + totals.clearing + totals.settlement + totals.fx + totals.payouts_in_flight, 0n);
  });

  it('cancels a payout before the cutoff (hold given back, audited), and refuses a cancel after it with 409', async () => {
    const userId = await funded(5_000);
    const account = await bankAccount(userId, '44440001');
    const first = (await payout(userId, account, 1_500)).body.payout_id as string;
    await until(first, 'HELD');
    const canceled = await stack.api.call('POST', `/v1/ops/payouts/${first}/cancel`, {
      ...ops(),
      body: { reason: 'customer asked' },
    });
    assert.equal(canceled.status, 200);
    assert.equal(canceled.body.status, 'CANCELED');
    assert.deepEqual(await balance(userId), {
      currency: 'USD',
      amount: 5_000,
      available: 5_000,
      pending_out: 0,
      pending_in: 0,
    });
    const audit = await stack.api.call('GET', `/v1/ops/audit?target=${first}`, ops());
    assert.deepEqual(
      audit.body.entries.map((entry: { action: string; operator: string }) => [entry.action, entry.operator]),
      [['payout_cancel', 'ops_console']],
    );

    const second = (await payout(userId, account, 1_000)).body.payout_id as string;
    await until(second, 'HELD');
    await cutoff();
    const refused = await stack.api.call('POST', `/v1/ops/payouts/${second}/cancel`, {
      ...ops(),
      body: { reason: 'too late' },
    });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'payout_not_cancelable');
    // Refused, as a transfer's refused ops action is: audited with what was asked and why it was refused.
    const refusedAudit = await stack.api.call('GET', `/v1/ops/audit?target=${second}`, ops());
    assert.deepEqual(
      refusedAudit.body.entries.map(
        (entry: { action: string; target_type: string; operator: string; reason: string; details: object }) => [
          entry.action,
          entry.target_type,
          entry.operator,
          entry.reason,
          entry.details,
        ],
      ),
      [
        [
          'refused',
          'payout',
          'ops_console',
          'too late',
          { action: 'cancel', refusal: 'payout_not_cancelable', message: refused.body.error.message },
        ],
      ],
    );
    assert.equal((await until(second, 'SETTLED', true)).status, 'SETTLED');
    assert.equal((await read(first)).status, 'CANCELED', 'the canceled payout was in no file');
  });

  it('answers every cancel of a payout CANCELED when cancels race (a retry whose first answer was lost)', async () => {
    const userId = await funded(5_000);
    const account = await bankAccount(userId, '44450001');
    const payoutId = (await payout(userId, account, 1_200)).body.payout_id as string;
    await until(payoutId, 'HELD');
    // Sent at once, each finds the record HELD and asks the workflow; only one moves it, the
    // others find it CANCELED afterwards (chaos invariant 16 met a retried cancel answered 409).
    const answers = await Promise.all(
      Array.from({ length: 4 }, (_, index) =>
        stack.api.call('POST', `/v1/ops/payouts/${payoutId}/cancel`, {
          ...ops(),
          body: { reason: `customer asked, try ${index}` },
        }),
      ),
    );
    assert.deepEqual(
      answers.map((answer) => [answer.status, answer.body.status ?? answer.body.error?.code]),
      answers.map(() => [200, 'CANCELED']),
    );
    assert.deepEqual(
      (await postingsOf(stack.shards, payoutId)).map(({ leg }) => leg),
      ['hold', 'release'],
    );
  });

  it('refuses bad input with a documented 4xx and holds nothing', async () => {
    const userId = await funded(5_000);
    const other = await funded(0);
    const account = await bankAccount(userId, '55550001');
    const othersAccount = await bankAccount(other, '66660001');
    const removed = await bankAccount(userId, '77770001');
    assert.equal(
      (await stack.api.call('DELETE', `/v1/wallet/${userId}/bank-accounts/${removed}`, { as: userId })).status,
      200,
    );
    const unknown = `ba_${'0'.repeat(32)}`;
    for (const [accountId, code] of [
      [unknown, 'bank_account_not_found'],
      [othersAccount, 'bank_account_not_found'],
      [removed, 'bank_account_not_found'],
    ] as const) {
      const answer = await payout(userId, accountId, 100);
      assert.equal(answer.status, 404);
      assert.equal(answer.body.error.code, code);
    }
    const euro = await payout(userId, account, 100, uniqueName('k'), 'EUR');
    assert.equal(euro.status, 422);
    assert.equal(euro.body.error.code, 'unsupported_currency');
    const key = uniqueName('k');
    assert.equal((await payout(userId, account, 100, key)).status, 202);
    const again = await payout(userId, account, 100, key);
    assert.equal(again.status, 202, 'the same key and body: the same payout');
    const reused = await payout(userId, account, 200, key);
    assert.equal(reused.status, 422);
    assert.equal(reused.body.error.code, 'idempotency_key_reused');
    const tooMuch = (await payout(userId, account, 9_000)).body.payout_id as string;
    const failed = await until(tooMuch, 'FAILED');
    assert.equal(failed.failure_reason, 'insufficient_funds');
    assert.equal((await balance(userId)).pending_out, 100, 'only the one accepted payout is held');
    const stranger = await stack.api.call('GET', `/v1/wallet/payouts/${tooMuch}`, { as: other });
    assert.equal(stranger.status, 404);
  });

  it('holds a payout at the review threshold for review: approved it is held, rejected it fails with nothing held', async () => {
    const userId = await funded(3_000_000);
    const account = await bankAccount(userId, '17170001');
    const approved = (await payout(userId, account, 1_000_000)).body.payout_id as string;
    const rejected = (await payout(userId, account, 1_500_000)).body.payout_id as string;
    // At the four-eyes threshold: nothing is held before review, so no funds are needed.
    const fourEyes = (await payout(userId, account, 10_000_000)).body.payout_id as string;
    await until(approved, 'PENDING_REVIEW');
    await until(rejected, 'PENDING_REVIEW');
    await until(fourEyes, 'PENDING_REVIEW');
    // The rule is fixed on the record when it is accepted, as a transfer's is.
    const rules = await Promise.all(
      [approved, fourEyes].map(async (id) => {
        const found = await Promise.all(
          stack.shards.pools.map((pool) =>
            pool.query<{ approvals_required: number }>('select approvals_required from payouts where payout_id = $1', [
              id,
            ]),
          ),
        );
        return found.flatMap((result) => result.rows.map((row) => row.approvals_required));
      }),
    );
    assert.deepEqual(rules, [[1], [2]]);
    assert.equal((await balance(userId)).pending_out, 0, 'nothing is held while in review');
    const decide = (id: string, action: string) =>
      stack.api.call('POST', `/v1/ops/payouts/${id}/${action}`, { ...ops(), body: { reason: 'checked' } });
    assert.equal((await decide(approved, 'approve')).status, 200);
    await until(approved, 'HELD');
    const again = await decide(approved, 'approve');
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'payout_not_in_review');
    const approvedAudit = await stack.api.call('GET', `/v1/ops/audit?target=${approved}`, ops());
    assert.deepEqual(
      approvedAudit.body.entries.map((entry: { action: string; details: { refusal?: string } }) => [
        entry.action,
        entry.details.refusal ?? null,
      ]),
      [
        ['refused', 'payout_not_in_review'],
        ['approve', null],
      ],
      'newest first: the refused second approve, then the approve',
    );
    assert.equal((await decide(rejected, 'reject')).status, 200);
    assert.equal((await decide(fourEyes, 'reject')).status, 200);
    assert.equal((await until(rejected, 'FAILED')).failure_reason, 'review_rejected');
    assert.deepEqual(await postingsOf(stack.shards, rejected), []);
    assert.equal((await balance(userId)).pending_out, 1_000_000);
    const audit = await stack.api.call('GET', `/v1/ops/audit?target=${rejected}`, ops());
    assert.deepEqual(
      audit.body.entries.map((entry: { action: string }) => entry.action),
      ['reject'],
    );
  });

  it('holds exactly the affordable payouts of 32 racing against one balance', async () => {
    const userId = await funded(10_000);
    const account = await bankAccount(userId, '88880001');
    const answers = await Promise.all(Array.from({ length: 32 }, () => payout(userId, account, 1_000)));
    const ids = answers.map((answer) => answer.body.payout_id as string);
    const final = await Promise.all(
      ids.map((id) =>
        eventually(
          async () => {
            const current = await read(id);
            return current.status === 'HELD' || current.status === 'FAILED' ? current : undefined;
          },
          wait_ms,
          id,
        ),
      ),
    );
    assert.equal(final.filter((current) => current.status === 'HELD').length, 10);
    assert.ok(
      final
        .filter((current) => current.status === 'FAILED')
        .every((current) => current.failure_reason === 'insufficient_funds'),
    );
    assert.deepEqual(await balance(userId), {
      currency: 'USD',
      amount: 0,
      available: 0,
      pending_out: 10_000,
      pending_in: 0,
    });
    await cutoff();
    for (const current of final.filter((payoutNow) => payoutNow.status === 'HELD'))
      await until(current.payout_id, 'SUBMITTED');
  });

  it('uploads a file again after a crash between the upload and its recording: the bank keeps one', async () => {
    const userId = await funded(3_000);
    const id = (await payout(userId, await bankAccount(userId, '99990001'), 700)).body.payout_id as string;
    await until(id, 'HELD');
    const before = transport.uploads.length;
    transport.crashAfterNextUpload = true;
    const { fileSequence } = await cutoff();
    const uploads = transport.uploads.slice(before);
    assert.deepEqual(
      uploads.map(({ duplicate }) => duplicate),
      [false, true],
      'uploaded, crashed, uploaded again: the bank recognized its file',
    );
    assert.equal(uploads[0]!.fileName, uploads[1]!.fileName);
    const recorded = await stack.shards
      .pool(reference_shard)
      .query<{ bank_file_id: string }>('select bank_file_id from payout_files where file_sequence = $1', [
        fileSequence,
      ]);
    const file = await bank.request('GET', `/files/${recorded.rows[0]!.bank_file_id}`);
    const mine = (await read(id)).trace_number as string;
    const entries = file.body.entries as { trace_number: string }[];
    assert.equal(entries.filter((entry) => entry.trace_number === mine).length, 1, 'the entry is at the bank once');
    await until(id, 'SETTLED', true);
    assert.deepEqual(
      (await postingsOf(stack.shards, id)).map(({ leg }) => leg),
      ['hold', 'settle'],
    );
  });

  it('waits out the bank being down during an upload', async () => {
    const userId = await funded(3_000);
    const id = (await payout(userId, await bankAccount(userId, '12120001'), 800)).body.payout_id as string;
    await until(id, 'HELD');
    assert.equal((await bank.request('POST', '/admin/faults', JSON.stringify({ outage_ms: 3_000 }))).status, 200);
    await cutoff();
    await until(id, 'SUBMITTED');
    await until(id, 'SETTLED', true);
  });

  it('applies a return delivered twice once, and keeps a return for an unknown trace number without stopping', async () => {
    const userId = await funded(3_000);
    const id = (await payout(userId, await bankAccount(userId, '13130004'), 900)).body.payout_id as string;
    await until(id, 'HELD');
    // A file the wallet never made: its entry's trace number is no payout's, and the bank returns it (R02).
    const stranger = await rail.buildPayoutFile({
      fileSequence: 9_999,
      // Far from this wallet's own entries, inside the payouts' range of trace numbers.
      firstEntrySequence: 8_999_000,
      createdAt: new Date(),
      effectiveDate: '2026-12-31',
      instructions: [
        {
          payoutId: 'po_not_ours',
          amountMinor: 4_200n,
          currency: 'USD',
          destination: {
            routingNumber: '021000021',
            accountNumber: '14140002',
            holderName: 'Nobody',
            accountType: 'checking',
          },
        },
      ],
    });
    assert.equal((await bank.request('POST', '/files?name=stranger.ach', stranger.contents)).status, 201);
    await bank.request('POST', '/admin/faults', JSON.stringify({ duplicate_delivery: true }));
    try {
      await cutoff();
      const returned = await until(id, 'RETURNED', true);
      assert.equal(returned.return_code, 'R04');
      // More polls while every poll also delivers the file at the cursor again.
      for (let poll = 0; poll < 3; poll++) await inbound();
    } finally {
      await bank.request('POST', '/admin/faults', JSON.stringify({ duplicate_delivery: false }));
    }
    assert.deepEqual(
      (await postingsOf(stack.shards, id)).map(({ leg }) => leg),
      ['hold', 'return', 'settle'],
    );
    assert.equal((await balance(userId)).amount, 3_000, 'returned once');
    const reference = stack.shards.pool(reference_shard);
    const unknown = await eventually(
      async () => {
        await inbound();
        const rows = await reference.query<{ outcome: string; original_trace_number: string }>(
          `select outcome, original_trace_number from payout_returns where original_trace_number = $1`,
          [stranger.entries[0]!.traceNumber],
        );
        return rows.rows[0];
      },
      wait_ms,
      'the unknown return kept',
    );
    assert.equal(unknown.outcome, 'unknown_trace');
    const mine = await reference.query<{ count: string }>(
      `select count(*)::text as count from payout_returns where payout_id = $1`,
      [id],
    );
    assert.equal(mine.rows[0]!.count, '1');
  });

  it('settles, then returns, a payout whose return is read before the wallet heard it settled', async () => {
    const userId = await funded(5_000);
    const started = await payout(userId, await bankAccount(userId, '66660002'), 1_200);
    assert.equal(started.status, 202);
    const payoutId = started.body.payout_id as string;
    await until(payoutId, 'HELD');
    const { fileSequence } = await cutoff();
    const submitted = await until(payoutId, 'SUBMITTED');
    // The bank settles the entry and returns it (R02) a banking day later, all before the wallet asks.
    const file = await stack.shards
      .pool(reference_shard)
      .query<{ bank_file_id: string }>('select bank_file_id from payout_files where file_sequence = $1', [
        fileSequence,
      ]);
    await eventually(
      async () => {
        const [entry] = (await transport.entryStatuses(file.rows[0]!.bank_file_id)).filter(
          (status) => status.traceNumber === submitted.trace_number,
        );
        return entry?.status === 'RETURNED' || undefined;
      },
      wait_ms,
      'the bank settled and returned the entry',
    );
    // This run's settlement poll learns nothing; its feed holds the return.
    transport.staleStatusesOnce = file.rows[0]!.bank_file_id;
    await inbound();
    assert.equal(transport.staleStatusesOnce, undefined, 'the settlement poll read the stale statuses');
    const done = await until(payoutId, 'RETURNED', true);
    assert.equal(done.return_code, 'R02');
    assert.notEqual(done.settled_at, null, 'it settled before it returned, as the money did');
    // postingsOf lists legs by name.
    assert.deepEqual(
      (await postingsOf(stack.shards, payoutId)).map(({ leg }) => leg),
      ['hold', 'return', 'settle'],
    );
  });

  it('fails every payout of a file the bank refuses whole (file_refused), their holds given back', async () => {
    const userId = await funded(4_000);
    const [first, second] = await Promise.all([bankAccount(userId, '18180001'), bankAccount(userId, '19190001')]);
    const ids = await Promise.all(
      [payout(userId, first, 1_100), payout(userId, second, 1_300)].map(
        async (answer) => (await answer).body.payout_id as string,
      ),
    );
    for (const id of ids) await until(id, 'HELD');
    assert.equal((await balance(userId)).pending_out, 2_400);
    transport.corruptNextUpload = true;
    const { fileSequence } = await cutoff();
    const file = await stack.shards
      .pool(reference_shard)
      .query<{ status: string; refusal: string }>('select status, refusal from payout_files where file_sequence = $1', [
        fileSequence,
      ]);
    assert.equal(file.rows[0]!.status, 'REFUSED');
    assert.match(file.rows[0]!.refusal, /NACHA|total/i);
    for (const id of ids) {
      const failed = await until(id, 'FAILED');
      assert.equal(failed.failure_reason, 'file_refused');
      assert.deepEqual(
        (await postingsOf(stack.shards, id)).map(({ leg }) => leg),
        ['hold', 'release'],
      );
    }
    assert.deepEqual(await balance(userId), {
      currency: 'USD',
      amount: 4_000,
      available: 4_000,
      pending_out: 0,
      pending_in: 0,
    });
    const totals = await ledgerTotals(stack.shards, 'USD');
    assert.equal(totals.customer + totals.clearing + totals.settlement + totals.fx + totals.payouts_in_flight, 0n);
    assert.ok(logLines.some((line) => line.includes('the bank refused a payout file')));
  });

  it('records a return that comes after the return window closed as closed, and credits nothing', async () => {
    const userId = await funded(3_000);
    // R02 one banking day after settlement (the test matrix).
    const id = (await payout(userId, await bankAccount(userId, '20200002'), 1_400)).body.payout_id as string;
    await until(id, 'HELD');
    await cutoff();
    const submitted = await until(id, 'SUBMITTED');
    // The bank's return file reaches the feed only later, so this settles the payout without reading it.
    await bank.request('POST', '/admin/faults', JSON.stringify({ late_delivery_ms: 4_000 }));
    try {
      await until(id, 'SETTLED', true);
      // The workflow ends when the return window does; a return read after that reaches no workflow.
      await stack.client.workflow.getHandle(id).result();
      const reference = stack.shards.pool(reference_shard);
      const kept = await eventually(
        async () => {
          await inbound();
          const rows = await reference.query<{ outcome: string; payout_id: string }>(
            'select outcome, payout_id from payout_returns where original_trace_number = $1',
            [submitted.trace_number],
          );
          return rows.rows[0];
        },
        wait_ms,
        'the late return read',
      );
      assert.deepEqual(kept, { outcome: 'closed', payout_id: id });
    } finally {
      await bank.request('POST', '/admin/faults', JSON.stringify({ late_delivery_ms: 0 }));
    }
    const after = await read(id);
    assert.equal(after.status, 'SETTLED');
    assert.equal(after.return_code, null);
    assert.deepEqual(
      (await postingsOf(stack.shards, id)).map(({ leg }) => leg),
      ['hold', 'settle'],
      'nothing credited back',
    );
    assert.equal((await balance(userId)).amount, 1_600);
    assert.ok(logLines.some((line) => line.includes('a return came after its payout closed') && line.includes(id)));
  });

  it('lists payouts stuck past PAYOUT_STUCK_AFTER for ops only', async () => {
    const userId = await funded(1_000);
    const id = (await payout(userId, await bankAccount(userId, '15150001'), 100)).body.payout_id as string;
    await until(id, 'HELD');
    const listed = await eventually(
      async () => {
        const answer = await stack.api.call('GET', '/v1/ops/payouts?stuck=true', ops());
        return answer.body.payouts.some((stuck: { payout_id: string }) => stuck.payout_id === id) ? answer : undefined;
      },
      wait_ms,
      'the stuck payout listed',
    );
    assert.equal(listed.status, 200);
    assert.equal((await stack.api.call('GET', '/v1/ops/payouts?stuck=true', { as: userId })).status, 403);
  });

  it('pays out on its own once the Schedules run: cutoff, upload, settlement', async () => {
    const userId = await funded(2_000);
    const id = (await payout(userId, await bankAccount(userId, '16160001'), 600)).body.payout_id as string;
    const scheduleIds = await ensurePayoutSchedules({
      client: stack.client,
      taskQueue: stack.taskQueue,
      cutoffEveryMs: 1_000,
      inboundEveryMs: 1_000,
      scheduleIdPrefix: uniqueName('payout-test'),
    });
    try {
      const settled = await stack.api.call('GET', `/v1/wallet/payouts/${id}?wait=25`, { as: userId });
      assert.equal(settled.body.status, 'SETTLED');
    } finally {
      for (const scheduleId of scheduleIds) await stack.client.schedule.getHandle(scheduleId).delete();
    }
  });
});
