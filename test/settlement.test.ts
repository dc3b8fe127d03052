import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { AchFiles } from '../rails/ach/ach-files';
import { AchRail } from '../rails/ach/ach-rail';
import { HttpBankTransport } from '../rails/bank-transport';
import { payoutCutoffWorkflow, payoutInboundWorkflow } from '../workflows/payout-files';
import { payinPollWorkflow } from '../workflows/payins';
import { startTestAchServer } from './support/ach-server';
import { eventually, startTestBank, test_bank_routing, test_bank_token } from './support/bank-process';
import { startTestStack, test_timings, type TestStack } from './support/stack';
import { uniqueName } from './support/temporal';

/**
 * Settlement reconciliation on the real stack: payouts and pay-ins go through the bank process
 * (a banking day of one second), then POST /v1/ops/settlement/{date} matches the bank's statement
 * of the day against the ledger, line by line. The bank's own database is then tampered with, as
 * a bank's error or a lost posting would look, and the run must name each break.
 */

const wait_ms = 30_000;

describe('settlement reconciliation (bank process, moov-io/ach, Temporal, PostgreSQL)', () => {
  let achServer: Awaited<ReturnType<typeof startTestAchServer>>;
  let bank: Awaited<ReturnType<typeof startTestBank>>;
  let bankDb: pg.Pool;
  let stack: TestStack;
  const today = new Date().toISOString().slice(0, 10);

  before(async () => {
    achServer = await startTestAchServer();
    bank = await startTestBank({ achServerUrl: achServer.url, bankDay: '1s' });
    bankDb = new pg.Pool({ connectionString: bank.databaseUrl, max: 2 });
    const rail = new AchRail(new AchFiles(achServer.url), {
      odfiRouting: test_bank_routing,
      odfiName: 'Test Bank',
      companyName: 'Wallet Inc',
      companyIdentification: '1234567890',
      entryDescription: 'PAYOUT',
    });
    const transport = new HttpBankTransport(bank.url, test_bank_token);
    stack = await startTestStack({
      payins: { rail, bank: transport },
      payouts: {
        worker: { rail, bank: transport },
        timings: { ...test_timings, returnWindowMs: 4_000 },
        stuckAfterMs: 60_000,
      },
    });
  });
  after(async () => {
    await stack?.stop();
    await bankDb?.end();
    await bank?.stop();
    achServer?.stop();
  });

  const ops = () => stack.api.ops;
  const options = () => ({ taskQueue: stack.taskQueue, workflowId: uniqueName('settle-run') });
  const cutoff = () => stack.client.workflow.execute(payoutCutoffWorkflow, options());
  const inbound = () => stack.client.workflow.execute(payoutInboundWorkflow, options());
  const payinPoll = () => stack.client.workflow.execute(payinPollWorkflow, options());

  async function payoutTo(userId: string, accountNumber: string, amount: number): Promise<string> {
    const account = await stack.api.call('POST', `/v1/wallet/${userId}/bank-accounts`, {
      as: userId,
      body: {
        routing_number: '021000021',
        account_number: accountNumber,
        holder_name: 'Pat',
        account_type: 'checking',
      },
    });
    assert.equal(account.status, 201, JSON.stringify(account.body));
    const started = await stack.api.call('POST', `/v1/wallet/${userId}/payouts`, {
      as: userId,
      body: {
        bank_account_id: account.body.bank_account_id,
        amount,
        currency: 'USD',
        idempotency_key: uniqueName('k'),
      },
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    return started.body.payout_id as string;
  }

  async function untilPayout(payoutId: string, status: string) {
    return eventually(
      async () => {
        await inbound();
        const current = (await stack.api.call('GET', `/v1/wallet/payouts/${payoutId}`, ops())).body;
        return current.status === status ? current : undefined;
      },
      wait_ms,
      `payout ${payoutId} ${status}`,
    );
  }

  async function creditFromOutside(accountNumber: string, amountMinor: number): Promise<string> {
    const sent = await bank.request(
      'POST',
      '/simulate/incoming-credit',
      JSON.stringify({ account_number: accountNumber, amount_minor: amountMinor, originator_name: 'ACME PAYROLL' }),
    );
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    return sent.body.trace_number as string;
  }

  async function reconcile(date = today) {
    const answer = await stack.api.call('POST', `/v1/ops/settlement/${date}`, ops());
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body;
  }

  it('matches settled and returned payouts and incoming credits, taken or sent back, line by line', async () => {
    const userId = uniqueName('settle');
    assert.equal((await stack.api.createUser(userId)).status, 201);
    assert.equal((await stack.api.deposit(userId, 10_000)).body.status, 'COMPLETED');
    const settles = await payoutTo(userId, '44440001', 1_500);
    const returnsLate = await payoutTo(userId, '55550002', 700);
    await eventually(async () => ((await cutoff()).fileSequence === null ? undefined : true), wait_ms, 'a payout file');
    const instructions = await stack.api.call('GET', `/v1/wallet/${userId}/funding-instructions`, { as: userId });
    assert.equal(instructions.status, 200, JSON.stringify(instructions.body));
    const taken = await creditFromOutside(instructions.body.account_number, 2_500);
    const unknown = await creditFromOutside('799999999990', 300);

    const settled = await untilPayout(settles, 'SETTLED');
    const returned = await untilPayout(returnsLate, 'RETURNED');
    assert.equal(returned.return_code, 'R02');
    // The pay-in poller takes the known credit and sends the unknown one back (R03) to the bank.
    await eventually(
      async () => {
        await payinPoll();
        const rows = await bankDb.query<{ trace_number: string; returned_at: Date | null }>(
          'select trace_number, returned_at from incoming_credits where trace_number = any($1::text[])',
          [[taken, unknown]],
        );
        const back = rows.rows.find((row) => row.trace_number === unknown);
        const credit = await stack.api.call('GET', `/v1/wallet/${userId}/balance`, ops());
        const usd = credit.body.balances.find((line: { currency: string }) => line.currency === 'USD');
        return back?.returned_at && usd.amount === 10_000 - 1_500 + 2_500 ? true : undefined;
      },
      wait_ms,
      'the credit taken and the unknown one returned',
    );

    const report = await reconcile();
    assert.equal(report.ok, true, JSON.stringify(report.report));
    assert.equal(report.break_count, 0);
    const statementTraces = (await bankStatement()).map((line) => `${line.kind}:${line.trace_number}`);
    for (const key of [
      `payout_settled:${settled.trace_number}`,
      `payout_settled:${returned.trace_number}`,
      `payout_returned:${returned.trace_number}`,
      `incoming_credit:${taken}`,
      `incoming_credit:${unknown}`,
      `incoming_credit_returned:${unknown}`,
    ])
      assert.ok(statementTraces.includes(key), `${key} is on the bank's statement`);
    assert.equal(report.report.matched.count, statementTraces.length, 'every line of the statement matched');
    assert.equal(report.report.matched.net_minor, report.report.bank.net_minor);

    const read = await stack.api.call('GET', `/v1/ops/settlement/${today}`, ops());
    assert.equal(read.status, 200);
    assert.equal(read.body.run_id, report.run_id);
  });

  it('names a bank line the ledger lacks, a ledger line the bank lacks, and an amount that differs', async () => {
    const lines = await bankStatement();
    const credit = lines.find((line) => line.kind === 'incoming_credit')!;
    const settledPayout = lines.find((line) => line.kind === 'payout_settled')!;
    // The bank's errors, as they would look on its statement: a credit posted for a cent less, a
    // line the wallet never heard of (an hour old: not in transit), and a settlement it lost.
    await bankDb.query(
      'update settlement_lines set amount_minor = amount_minor - 1 where kind = $1 and trace_number = $2',
      ['incoming_credit', credit.trace_number],
    );
    await bankDb.query(
      `insert into settlement_lines (kind, trace_number, amount_minor, posted_at)
       values ('payout_settled', '231380109999999', -4200, now() - interval '1 hour')`,
    );
    await bankDb.query('delete from settlement_lines where kind = $1 and trace_number = $2', [
      'payout_settled',
      settledPayout.trace_number,
    ]);

    const report = await reconcile();
    assert.equal(report.ok, false);
    assert.equal(report.break_count, 3);
    assert.deepEqual(
      report.report.amount_mismatches.map((found: { trace_number: string }) => found.trace_number),
      [credit.trace_number],
    );
    assert.equal(report.report.amount_mismatches[0].bank_amount_minor, credit.amount_minor - 1);
    assert.deepEqual(
      report.report.missing_in_ledger.map((found: { trace_number: string }) => found.trace_number),
      ['231380109999999'],
    );
    assert.deepEqual(
      report.report.missing_at_bank.map((found: { trace_number: string }) => found.trace_number),
      [settledPayout.trace_number],
    );
    const metrics = await fetch(`${stack.baseUrl}/metrics`);
    assert.match(await metrics.text(), /^wallet_settlement_breaks 3$/m);
  });

  it('answers a day never reconciled and a date that is not one with documented 4xx codes', async () => {
    const never = await stack.api.call('GET', '/v1/ops/settlement/2001-01-01', ops());
    assert.equal(never.status, 404);
    assert.equal(never.body.error.code, 'settlement_not_reconciled');
    for (const bad of ['2026-13-01', 'yesterday', '2026-1-1']) {
      const answer = await stack.api.call('POST', `/v1/ops/settlement/${bad}`, ops());
      assert.equal(answer.status, 400, bad);
      assert.equal(answer.body.error.code, 'invalid_request');
    }
    const customer = uniqueName('nosy');
    const refused = await stack.api.call('GET', `/v1/ops/settlement/${today}`, { as: customer });
    assert.equal(refused.status, 403);
  });

  async function bankStatement() {
    const answer = await bank.request('GET', `/statements/${today}`);
    assert.equal(answer.status, 200);
    return answer.body.lines as { kind: string; trace_number: string; amount_minor: number }[];
  }
});
