import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { isVirtualAccountNumber } from '../domain/virtual-accounts';
import { reference_shard } from '../domain/shard-routing';
import { claimCredit, creditPayin } from '../ledger/payins';
import pino from 'pino';
import { recordNextReturnFile } from '../activities/payin-returns';
import { AchFiles } from '../rails/ach/ach-files';
import { AchRail } from '../rails/ach/ach-rail';
import { transaction_codes, type NachaFile } from '../rails/ach/nacha-file';
import { HttpBankTransport } from '../rails/bank-transport';
import { ensurePayinSchedule } from '../workers/payin-schedule';
import { payinPollWorkflow } from '../workflows/payins';
import { startTestAchServer } from './support/ach-server';
import { eventually, startTestBank, test_bank_routing, test_bank_token } from './support/bank-process';
import { userOnShard } from './support/ledger';
import { startTestStack, type TestStack } from './support/stack';
import { uniqueName } from './support/temporal';

/**
 * Money in on the real stack: the bank process (its own database, moov-io/ach's server), Temporal
 * and the wallet's shards. The bank sends credits to the wallet's virtual accounts in files; the
 * pay-in poller (workflows/payins.ts) turns them into deposits or returns them. A banking day is
 * one second; each test runs a poll by hand (the schedule has its own test) and waits for what
 * it checks.
 */

const wait_ms = 20_000;

describe('pay-ins (bank process, Temporal, PostgreSQL, moov-io/ach)', () => {
  let achServer: Awaited<ReturnType<typeof startTestAchServer>>;
  let bank: Awaited<ReturnType<typeof startTestBank>>;
  let bankDb: pg.Pool;
  let stack: TestStack;
  let files: AchFiles;
  let stopWorker: () => Promise<void>;
  let rail: AchRail;
  let link: HttpBankTransport;

  before(async () => {
    achServer = await startTestAchServer();
    bank = await startTestBank({ achServerUrl: achServer.url, bankDay: '1s' });
    bankDb = new pg.Pool({ connectionString: bank.databaseUrl, max: 2 });
    files = new AchFiles(achServer.url);
    rail = new AchRail(files, {
      odfiRouting: test_bank_routing,
      odfiName: 'Test Bank',
      companyName: 'Wallet Inc',
      companyIdentification: '1234567890',
      entryDescription: 'PAYOUT',
    });
    link = new HttpBankTransport(bank.url, test_bank_token);
    stack = await startTestStack({
      withWorker: false,
      payins: { rail, bank: link },
    });
    stopWorker = await stack.startWorker();
  });
  after(async () => {
    await stack?.stop();
    await bankDb?.end();
    await bank?.stop();
    achServer?.stop();
  });

  const ops = () => stack.api.ops;
  const reference = () => stack.shards.pool(reference_shard);

  async function newWallet(prefix: string, shard = 1): Promise<{ userId: string; accountNumber: string }> {
    const userId = userOnShard(stack.shards, shard, prefix);
    assert.equal((await stack.api.createUser(userId)).status, 201);
    const instructions = await stack.api.call('GET', `/v1/wallet/${userId}/funding-instructions`, { as: userId });
    assert.equal(instructions.status, 200, JSON.stringify(instructions.body));
    return { userId, accountNumber: instructions.body.account_number };
  }

  /** A credit from outside to an account number at our bank; resolves once the bank put it in a file for us. */
  async function sendCredit(accountNumber: string, amountMinor: number, originatorName = 'ACME PAYROLL') {
    const sent = await bank.request(
      'POST',
      '/simulate/incoming-credit',
      JSON.stringify({ account_number: accountNumber, amount_minor: amountMinor, originator_name: originatorName }),
    );
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    const traceNumber = sent.body.trace_number as string;
    await eventually(
      async () => (await creditAtBank(traceNumber)).status !== 'PENDING' || undefined,
      wait_ms,
      'a credits file',
    );
    return traceNumber;
  }

  async function creditAtBank(traceNumber: string) {
    const answer = await bank.request('GET', `/incoming-credits/${traceNumber}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body as { status: string; return_code: string | null; file_cursor: string | null };
  }

  /** One run of the poller, as the schedule starts it. */
  function poll() {
    return stack.client.workflow.execute(payinPollWorkflow, {
      taskQueue: stack.taskQueue,
      workflowId: uniqueName('payin-poll'),
      args: [],
    });
  }

  async function postingsOf(traceNumber: string) {
    const rows = await Promise.all(
      stack.shards.pools.map((pool) =>
        pool.query<{ leg: string; outcome: string }>('select leg, outcome from postings where transfer_id = $1', [
          `pi_${traceNumber}`,
        ]),
      ),
    );
    return rows.flatMap((result) => result.rows);
  }

  async function payinOf(traceNumber: string) {
    const found = await reference().query<{ status: string; return_code: string | null }>(
      'select status, return_code from payin_credits where trace_number = $1',
      [traceNumber],
    );
    return found.rows[0];
  }

  /** Puts a file in the bank's feed as a hostile or broken bank would: after every file it made. */
  async function deliverRaw(fileName: string, contents: string): Promise<string> {
    const stored = await bankDb.query<{ cursor: string }>(
      "insert into outgoing_files (kind, file_name, contents) values ('credits', $1, $2) returning cursor",
      [`${fileName}-${uniqueName('raw')}`, contents],
    );
    return stored.rows[0]!.cursor;
  }

  async function fileOfCredit(traceNumber: string): Promise<string> {
    const { file_cursor } = await creditAtBank(traceNumber);
    const found = await bankDb.query<{ contents: string }>('select contents from outgoing_files where cursor = $1', [
      file_cursor,
    ]);
    return found.rows[0]!.contents;
  }

  /** A credits file built with moov-io/ach, as the bank's would be, with the entries given. */
  function creditFile(entries: { traceNumber: string; accountNumber: string; amountMinor: bigint }[]): Promise<string> {
    const file: NachaFile = {
      destinationRouting: test_bank_routing,
      originRouting: test_bank_routing,
      destinationName: 'Wallet',
      originName: 'Test Bank',
      creationDate: '261206',
      creationTime: '0900',
      idModifier: 'Z',
      batches: [
        {
          companyName: 'HOSTILE CORP',
          companyIdentification: '1091000019',
          entryDescription: 'CREDIT',
          effectiveDate: '261206',
          odfiPrefix: '09100001',
          entries: entries.map((entry) => ({
            transactionCode: transaction_codes.checkingCredit,
            routingNumber: test_bank_routing,
            accountNumber: entry.accountNumber,
            amountMinor: entry.amountMinor,
            individualName: 'WALLET CUSTOMER',
            identificationNumber: '',
            traceNumber: entry.traceNumber,
          })),
        },
      ],
    };
    return files.build(file);
  }

  it('gives each wallet one virtual account at our bank, shown to its owner and ops only', async () => {
    const { userId, accountNumber } = await newWallet('va');
    assert.ok(isVirtualAccountNumber(accountNumber), accountNumber);
    const byOps = await stack.api.call('GET', `/v1/wallet/${userId}/funding-instructions`, ops());
    assert.deepEqual(byOps.body, {
      user_id: userId,
      rail: 'ach',
      currency: 'USD',
      bank_name: 'Wallet Dev Bank',
      routing_number: test_bank_routing,
      account_number: accountNumber,
      account_type: 'checking',
    });
    const other = await newWallet('va-other', 2);
    assert.notEqual(other.accountNumber, accountNumber);
    const stranger = await stack.api.call('GET', `/v1/wallet/${userId}/funding-instructions`, { as: other.userId });
    assert.deepEqual([stranger.status, stranger.body.error.code], [403, 'forbidden']);
    const nobody = await stack.api.call('GET', '/v1/wallet/nobody-here/funding-instructions', ops());
    assert.deepEqual([nobody.status, nobody.body.error.code], [404, 'user_not_found']);
  });

  it('credits an incoming credit to a known wallet once, as a deposit from the settlement account', async () => {
    const { userId, accountNumber } = await newWallet('known', 3);
    const traceNumber = await sendCredit(accountNumber, 12_345, 'ACME PAYROLL');
    await poll();
    assert.equal(await stack.api.balance(userId), 12_345);
    assert.deepEqual(await payinOf(traceNumber), { status: 'credited', return_code: null });
    const byOwner = await stack.api.call('GET', `/v1/wallet/payins/${traceNumber}`, { as: userId });
    assert.deepEqual([byOwner.status, byOwner.body.status, byOwner.body.amount], [200, 'credited', 12_345]);
    const byStranger = await stack.api.call('GET', `/v1/wallet/payins/${traceNumber}`, { as: 'someone-else' });
    assert.deepEqual([byStranger.status, byStranger.body.error.code], [404, 'payin_not_found']);
    const history = await stack.api.call('GET', `/v1/wallet/${userId}/transactions`, { as: userId });
    const entry = history.body.entries.find(
      (line: { transfer_id: string }) => line.transfer_id === `pi_${traceNumber}`,
    );
    assert.equal(entry.kind, 'deposit');
    assert.equal(entry.amount, 12_345);
    assert.deepEqual(entry.pay_in, { trace_number: traceNumber, originator_name: 'ACME PAYROLL' });
    // The money came from the shard's settlement account: the posting balances on its own.
    const legs = await stack.shards
      .pool(stack.shards.shardOf(userId))
      .query<{ kind: string; amount: string }>(
        'select kind, amount from entries where transfer_id = $1 order by amount',
        [`pi_${traceNumber}`],
      );
    assert.deepEqual(
      legs.rows.map((row) => [row.kind, row.amount]),
      [
        ['settlement', '-12345'],
        ['deposit', '12345'],
      ],
    );
    // Polling again finds nothing new; the bank keeps the credit as delivered, not returned.
    await poll();
    assert.equal(await stack.api.balance(userId), 12_345);
    assert.equal((await creditAtBank(traceNumber)).status, 'DELIVERED');
  });

  it('returns a credit to an unknown account (R03) in a file the bank accepts, and credits nothing', async () => {
    const traceNumber = await sendCredit('99887766', 5_000, 'WRONG NUMBER INC');
    await poll();
    assert.deepEqual(await payinOf(traceNumber), { status: 'returned', return_code: 'R03' });
    const atBank = await creditAtBank(traceNumber);
    assert.deepEqual([atBank.status, atBank.return_code], ['RETURNED', 'R03']);
    assert.deepEqual(await postingsOf(traceNumber), []);
  });

  it('returns a credit to a closed wallet (R02) and credits nothing', async () => {
    const { userId, accountNumber } = await newWallet('closed', 0);
    const closed = await stack.api.call('POST', `/v1/ops/users/${userId}/close`, {
      ...ops(),
      body: { reason: 'customer left' },
    });
    assert.equal(closed.status, 200, JSON.stringify(closed.body));
    const instructions = await stack.api.call('GET', `/v1/wallet/${userId}/funding-instructions`, { as: userId });
    assert.deepEqual([instructions.status, instructions.body.error.code], [409, 'wallet_closed']);
    const traceNumber = await sendCredit(accountNumber, 7_000);
    await poll();
    assert.deepEqual(await payinOf(traceNumber), { status: 'returned', return_code: 'R02' });
    const atBank = await creditAtBank(traceNumber);
    assert.deepEqual([atBank.status, atBank.return_code], ['RETURNED', 'R02']);
    assert.deepEqual(await postingsOf(traceNumber), [{ leg: 'credit', outcome: 'refused' }]);
    assert.equal(await stack.api.balance(userId), 0);
  });

  it('credits a frozen wallet: a freeze stops money leaving, not arriving', async () => {
    const { userId, accountNumber } = await newWallet('frozen', 2);
    const frozen = await stack.api.call('POST', `/v1/ops/users/${userId}/freeze`, {
      ...ops(),
      body: { reason: 'fraud review' },
    });
    assert.equal(frozen.status, 200, JSON.stringify(frozen.body));
    await sendCredit(accountNumber, 900);
    await poll();
    assert.equal(await stack.api.balance(userId), 900);
  });

  it('credits once when the same file comes twice or the same entry comes in another file', async () => {
    const { userId, accountNumber } = await newWallet('twice', 1);
    const traceNumber = await sendCredit(accountNumber, 4_000);
    await poll();
    assert.equal(await stack.api.balance(userId), 4_000);
    // The bank's resend fault: the file at the cursor comes again.
    assert.equal((await bank.request('POST', '/admin/faults', '{"duplicate_delivery":true}')).status, 200);
    await poll();
    assert.equal((await bank.request('POST', '/admin/faults', '{"duplicate_delivery":false}')).status, 200);
    // The same bytes again at a new cursor, past the one the poller stands on.
    await deliverRaw('again', await fileOfCredit(traceNumber));
    // The same entry beside a new one, in a file of its own.
    const newTrace = '091000019999001';
    await deliverRaw(
      'mixed',
      await creditFile([
        { traceNumber, accountNumber, amountMinor: 4_000n },
        { traceNumber: newTrace, accountNumber, amountMinor: 1_000n },
      ]),
    );
    await poll();
    assert.equal(await stack.api.balance(userId), 5_000);
    assert.deepEqual(await postingsOf(traceNumber), [{ leg: 'credit', outcome: 'posted' }]);
    const recorded = await stack.api.call('GET', '/v1/ops/payins/files?limit=2', ops());
    assert.deepEqual(
      recorded.body.files.map((file: { credits: number; duplicates: number }) => [file.credits, file.duplicates]),
      [
        [1, 1],
        [0, 1],
      ],
    );
  });

  it('moves nothing for a trace number seen before with another amount, and says so', async () => {
    const { userId, accountNumber } = await newWallet('conflict', 3);
    const traceNumber = await sendCredit(accountNumber, 3_000);
    await poll();
    await deliverRaw('conflict', await creditFile([{ traceNumber, accountNumber, amountMinor: 300_000n }]));
    await poll();
    assert.equal(await stack.api.balance(userId), 3_000);
    const recorded = await stack.api.call('GET', '/v1/ops/payins/files?limit=1', ops());
    assert.equal(recorded.body.files[0].conflicts, 1);
  });

  it('refuses a hostile file (wrong total, bad entry hash) with nothing moved, and reads on past it', async () => {
    const { userId, accountNumber } = await newWallet('hostile', 0);
    const good = await creditFile([{ traceNumber: '091000019999101', accountNumber, amountMinor: 2_500n }]);
    const lines = good.split('\n');
    const control = lines.findIndex((line) => line.startsWith('9'));
    // File control: total credit is columns 44-55, the entry hash 22-31 (NACHA).
    const withTotal = (line: string) => `${line.slice(0, 43)}${'000000999999'}${line.slice(55)}`;
    const withHash = (line: string) => `${line.slice(0, 21)}${'0000000001'}${line.slice(31)}`;
    const tamper = (change: (line: string) => string) =>
      lines.map((line, index) => (index === control ? change(line) : line)).join('\n');
    await deliverRaw('wrong-total', tamper(withTotal));
    await deliverRaw('bad-hash', tamper(withHash));
    await deliverRaw('not-nacha', 'hello, wallet');
    await poll();
    assert.equal(await stack.api.balance(userId), 0);
    const refused = await stack.api.call('GET', '/v1/ops/payins/files?outcome=refused&limit=3', ops());
    assert.equal(refused.status, 200);
    assert.equal(refused.body.files.length, 3);
    for (const file of refused.body.files) {
      assert.equal(file.outcome, 'refused');
      assert.ok(file.reason.length > 0);
    }
    // The cursor moved past them: the next good file is read.
    await sendCredit(accountNumber, 2_500);
    await poll();
    assert.equal(await stack.api.balance(userId), 2_500);
  });

  it('after a crash between the deposit and its record, reads the file again and credits once', async () => {
    const { userId, accountNumber } = await newWallet('crash', 2);
    const traceNumber = await sendCredit(accountNumber, 6_000);
    const { file_cursor } = await creditAtBank(traceNumber);
    // What a poller killed right after the deposit leaves: the claim and the posting, no decision, no file record.
    const credit = { traceNumber, accountNumber, amountMinor: 6_000n, currency: 'USD', originatorName: 'ACME PAYROLL' };
    const claimed = await claimCredit(reference(), credit, BigInt(file_cursor!));
    assert.equal(claimed.claim, 'new');
    await creditPayin(
      stack.shards.pool(stack.shards.shardOf(userId)),
      { ...credit, userId },
      {
        workflowId: 'killed-poll',
        runId: 'killed-run',
      },
    );
    assert.equal(await stack.api.balance(userId), 6_000);
    await poll();
    assert.equal(await stack.api.balance(userId), 6_000);
    assert.deepEqual(await payinOf(traceNumber), { status: 'credited', return_code: null });
  });

  it('resumes from its cursor when the worker dies and comes back', async () => {
    const { userId, accountNumber } = await newWallet('restart', 1);
    await sendCredit(accountNumber, 1_100);
    await poll();
    // The worker goes away; a poll started meanwhile waits for one, and a new credit arrives.
    await stopWorker();
    const waiting = poll();
    await sendCredit(accountNumber, 2_200);
    stopWorker = await stack.startWorker();
    await waiting;
    assert.equal(await stack.api.balance(userId), 3_300);
  });

  it('leaves the returns of payouts in the same feed alone', async () => {
    const payout = await rail.buildPayoutFile({
      fileSequence: 1,
      firstEntrySequence: 1,
      createdAt: new Date(),
      effectiveDate: new Date().toISOString().slice(0, 10),
      instructions: [
        {
          payoutId: 'po_payins_test',
          amountMinor: 1_000n,
          currency: 'USD',
          destination: {
            routingNumber: '021000021',
            accountNumber: '55550003',
            holderName: 'Pat',
            accountType: 'checking',
          },
        },
      ],
    });
    assert.equal((await bank.request('POST', '/files?name=payouts.ach', payout.contents)).status, 201);
    const returnsFile = await eventually(
      async () =>
        (await bankDb.query<{ cursor: string }>("select cursor from outgoing_files where kind = 'returns'")).rows[0],
      wait_ms,
      "the bank's return of a payout",
    );
    await poll();
    const recorded = await reference().query<{ outcome: string; credits: number; returned: number }>(
      'select outcome, credits, returned from payin_files where cursor = $1',
      [returnsFile.cursor],
    );
    assert.deepEqual(recorded.rows, [{ outcome: 'processed', credits: 0, returned: 0 }]);
  });

  it('waits out a bank outage and sends each return once, also after a crash between upload and record', async () => {
    // A return file recorded and uploaded, but the poller died before marking it sent.
    const lost = await sendCredit('11223344', 1_500);
    const { file_cursor } = await creditAtBank(lost);
    const claimed = await claimCredit(
      reference(),
      {
        traceNumber: lost,
        accountNumber: '11223344',
        amountMinor: 1_500n,
        currency: 'USD',
        originatorName: 'ACME PAYROLL',
      },
      BigInt(file_cursor!),
    );
    assert.equal(claimed.claim, 'new');
    const built = (await recordNextReturnFile({
      reference: reference(),
      rail,
      bank: link,
      logger: pino({ level: 'silent' }),
    }))!;
    assert.equal((await bank.request('POST', `/files?name=${built.fileName}`, built.contents)).status, 201);
    // And a new credit to return, while the bank is down for a moment.
    const unknown = await sendCredit('44332211', 2_000);
    assert.equal((await bank.request('POST', '/admin/faults', '{"outage_ms":1500}')).status, 200);
    await poll();
    for (const traceNumber of [lost, unknown]) {
      assert.deepEqual(await payinOf(traceNumber), { status: 'returned', return_code: 'R03' });
      assert.equal((await creditAtBank(traceNumber)).status, 'RETURNED');
    }
    const stored = await bankDb.query('select 1 from received_files where file_name = $1', [built.fileName]);
    assert.equal(stored.rowCount, 1);
  });

  it('is refused by the bank when it returns an entry the bank never sent, or one already returned', async () => {
    const returnOf = async (originalTraceNumber: string, amountMinor: bigint) =>
      rail.buildReturnFile({
        fileSequence: 900,
        createdAt: new Date(),
        returns: [
          { originalTraceNumber, accountNumber: '99887766', amountMinor, returnCode: 'R03', entrySequence: 9_000_001 },
        ],
      });
    const never = await returnOf('091000019999999', 5_000n);
    const refused = await bank.request('POST', '/files?name=never.ach', never.contents);
    assert.deepEqual([refused.status, refused.body.error], [422, 'file_refused']);
    // The R03 of the unknown-account test, returned again in another file.
    const returned = await reference().query<{ trace_number: string; amount: string }>(
      "select trace_number, amount from payin_credits where status = 'returned' and account_number = '99887766'",
    );
    const again = await returnOf(returned.rows[0]!.trace_number, BigInt(returned.rows[0]!.amount));
    const twice = await bank.request('POST', '/files?name=again.ach', again.contents);
    assert.deepEqual([twice.status, twice.body.error], [422, 'file_refused']);
  });

  it('sets aside a return file the bank refuses, and the returns after it go on', async () => {
    // A credit the bank never sent, to an account number no wallet could have: returned R03,
    // and the bank refuses a return of an entry it does not know.
    const odd = '091000019999301';
    await deliverRaw(
      'odd-account',
      await creditFile([{ traceNumber: odd, accountNumber: 'AB#$% 1', amountMinor: 700n }]),
    );
    await poll();
    assert.deepEqual(await payinOf(odd), { status: 'return_pending', return_code: 'R03' });
    const setAside = await reference().query<{ refusal: string }>(
      'select refusal from payin_return_files where refused_at is not null',
    );
    assert.equal(setAside.rowCount, 1);
    assert.match(setAside.rows[0]!.refusal, /422/);
    const genuine = await sendCredit('55667788', 800);
    await poll();
    assert.deepEqual(await payinOf(genuine), { status: 'returned', return_code: 'R03' });
    assert.equal((await creditAtBank(genuine)).status, 'RETURNED');
  });

  it('polls by itself on the wallet-payins schedule', async () => {
    const { userId, accountNumber } = await newWallet('schedule', 3);
    const scheduleId = uniqueName('payins-schedule');
    await ensurePayinSchedule({ client: stack.client, taskQueue: stack.taskQueue, everyMs: 1_000, scheduleId });
    try {
      await sendCredit(accountNumber, 800);
      await eventually(
        async () => ((await stack.api.balance(userId)) === 800 ? true : undefined),
        wait_ms,
        'a scheduled poll',
      );
    } finally {
      await stack.client.schedule.getHandle(scheduleId).delete();
    }
  });
});
