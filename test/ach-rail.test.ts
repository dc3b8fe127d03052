import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AchFiles } from '../rails/ach/ach-files';
import { AchRail, type AchOriginator } from '../rails/ach/ach-rail';
import { transaction_codes } from '../rails/ach/nacha-file';
import { RailFileRefused, type PayoutBatch } from '../rails/rail';
import { startTestAchServer } from './support/ach-server';

/** The ACH rail against moov-io/ach's real server: what it builds, and what it reads or refuses. */

const originator: AchOriginator = {
  odfiRouting: '231380104',
  odfiName: 'Wallet Test Bank',
  companyName: 'Wallet Inc',
  companyIdentification: '1234567890',
  entryDescription: 'PAYOUT',
};

const batch: PayoutBatch = {
  fileSequence: 3,
  firstEntrySequence: 41,
  createdAt: new Date('2026-12-07T10:15:00Z'),
  effectiveDate: '2026-12-08',
  instructions: [
    {
      payoutId: 'po_alice_1',
      amountMinor: 12_345n,
      currency: 'USD',
      destination: {
        routingNumber: '021000021',
        accountNumber: '12340002',
        holderName: 'Alice Ångström',
        accountType: 'checking',
      },
    },
    {
      payoutId: 'po_bob_1',
      amountMinor: 9_999_999_999n,
      currency: 'USD',
      destination: { routingNumber: '011000015', accountNumber: '99990003', holderName: 'Bob', accountType: 'savings' },
    },
  ],
};

describe('ACH rail (moov-io/ach server)', () => {
  let server: Awaited<ReturnType<typeof startTestAchServer>>;
  let files: AchFiles;
  let rail: AchRail;

  before(async () => {
    server = await startTestAchServer();
    files = new AchFiles(server.url);
    rail = new AchRail(files, originator);
  });
  after(() => server?.stop());

  it('builds a PPD credit file whose entries, totals and trace numbers read back', async () => {
    const built = await rail.buildPayoutFile(batch);
    assert.deepEqual(
      built.entries.map(({ traceNumber }) => traceNumber),
      ['231380100000041', '231380100000042'],
    );
    assert.equal(built.totalMinor, 10_000_012_344n);
    const lines = built.contents.split('\n').filter((line) => line !== '');
    assert.ok(
      lines.every((line) => line.length === 94),
      'every record is 94 characters',
    );
    assert.equal(lines.length % 10, 0, 'blocked to a multiple of ten records');
    const parsed = await files.parse(built.contents);
    const entries = parsed.batches.flatMap(({ entries }) => entries);
    assert.deepEqual(
      entries.map(({ transactionCode, routingNumber, accountNumber, amountMinor, individualName }) => ({
        transactionCode,
        routingNumber,
        accountNumber,
        amountMinor,
        individualName,
      })),
      [
        {
          transactionCode: 22,
          routingNumber: '021000021',
          accountNumber: '12340002',
          amountMinor: 12_345n,
          individualName: 'Alice Angstrom',
        },
        {
          transactionCode: 32,
          routingNumber: '011000015',
          accountNumber: '99990003',
          amountMinor: 9_999_999_999n,
          individualName: 'Bob',
        },
      ],
    );
    // moov renumbers entries whose trace numbers do not start with the batch's ODFI: ours must survive as built.
    assert.deepEqual(
      entries.map(({ traceNumber }) => traceNumber),
      built.entries.map(({ traceNumber }) => traceNumber),
    );
    assert.equal(parsed.idModifier, 'D');
    assert.equal(parsed.batches[0]!.effectiveDate, '261208');
  });

  it('builds the same bytes from the same batch (a rebuilt file is the file the bank may already have)', async () => {
    const [first, second] = [await rail.buildPayoutFile(batch), await rail.buildPayoutFile(batch)];
    assert.equal(first.contents, second.contents);
    assert.equal(first.fileName, second.fileName);
  });

  it('reads returns (code, original trace) and credits to our accounts from a bank file', async () => {
    const fromBank = await files.build({
      destinationRouting: originator.odfiRouting,
      originRouting: '021000021',
      destinationName: 'Wallet Inc',
      originName: 'Some Bank',
      creationDate: '261209',
      creationTime: '0800',
      idModifier: 'A',
      batches: [
        {
          companyName: 'Some Bank',
          companyIdentification: '1021000021',
          entryDescription: 'RETURN',
          effectiveDate: '261209',
          odfiPrefix: '02100002',
          entries: [
            {
              transactionCode: transaction_codes.checkingCreditReturn,
              routingNumber: originator.odfiRouting,
              accountNumber: '12340002',
              amountMinor: 12_345n,
              individualName: 'Alice Angstrom',
              identificationNumber: '',
              traceNumber: '021000020000001',
              return: { code: 'R02', originalTraceNumber: '231380100000041', originalRoutingPrefix: '02100002' },
            },
          ],
        },
        {
          companyName: 'Payroll Co',
          companyIdentification: '1999999999',
          entryDescription: 'SALARY',
          effectiveDate: '261209',
          odfiPrefix: '02100002',
          entries: [
            {
              transactionCode: transaction_codes.checkingCredit,
              routingNumber: originator.odfiRouting,
              accountNumber: '800000000017',
              amountMinor: 250_000n,
              individualName: 'Carol',
              identificationNumber: '',
              traceNumber: '021000020000002',
            },
          ],
        },
      ],
    });
    const incoming = await rail.parseIncomingFile(fromBank);
    assert.deepEqual(incoming.returns, [
      {
        traceNumber: '021000020000001',
        originalTraceNumber: '231380100000041',
        returnCode: 'R02',
        amountMinor: 12_345n,
      },
    ]);
    assert.deepEqual(incoming.credits, [
      {
        traceNumber: '021000020000002',
        accountNumber: '800000000017',
        amountMinor: 250_000n,
        originatorName: 'Payroll Co',
      },
    ]);
  });

  it("reads another program's return file (moov's own fixture, R01 and R03)", async () => {
    const parsed = await files.parse(readFileSync('test/fixtures/ach/moov-return-WEB.ach', 'utf8'));
    const returns = parsed.batches.flatMap(({ entries }) => entries).map((entry) => entry.return);
    assert.deepEqual(returns, [
      { code: 'R01', originalTraceNumber: '091400600000001', originalRoutingPrefix: '09100001' },
      { code: 'R03', originalTraceNumber: '091400600000003', originalRoutingPrefix: '02100002' },
    ]);
  });

  it('refuses wrong totals, a wrong entry hash, a wrong count, garbage and truncation with the reason', async () => {
    const good = (await rail.buildPayoutFile(batch)).contents;
    const control = good.split('\n').find((line) => line.startsWith('9'))!;
    const cases: [string, string, RegExp][] = [
      // File control: 9, batch count(6), block count(6), entry count(8), entry hash(10), debits(12), credits(12).
      [
        'credit total',
        good.replace(control, `${control.slice(0, 43)}${'1'.padStart(12, '0')}${control.slice(55)}`),
        /TotalCredit|out-of-balance/i,
      ],
      ['entry hash', good.replace(control, `${control.slice(0, 21)}0000000001${control.slice(31)}`), /EntryHash/i],
      [
        'entry count',
        good.replace(control, `${control.slice(0, 13)}00000009${control.slice(21)}`),
        /EntryAddendaCount|count/i,
      ],
      ['garbage', 'hello, bank\n', /./],
      ['truncation', good.slice(0, 300), /./],
      ['an empty file', '', /./],
    ];
    for (const [what, contents, reason] of cases) {
      await assert.rejects(
        rail.parseIncomingFile(contents),
        (error: unknown) => error instanceof RailFileRefused && reason.test(error.message),
        what,
      );
    }
  });

  it('refuses a forward entry for another bank in a file sent to us', async () => {
    const payouts = (await rail.buildPayoutFile(batch)).contents;
    await assert.rejects(rail.parseIncomingFile(payouts), RailFileRefused);
  });
});
