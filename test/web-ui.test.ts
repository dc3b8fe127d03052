import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import {
  fillSignalDialog,
  launchBrowser,
  newUiPage,
  openWorkflow,
  operatorUiPage,
  saveScreenshot,
  searchWorkflows,
  startUiTemporal,
  ui_step_timeout_ms,
  type UiTemporal,
} from './support/browser';
import { actionTokenFor, startTestStack, test_timings, tokenFor, type TestStack } from './support/stack';
import { uniqueName } from './support/temporal';
import type { TransferTimings } from '../workflows/activity-options';

/**
 * The Temporal Web UI as the operators' console, in a real headless Chromium: find a transfer
 * by its search attributes, read it, and reverse it with "Send a Signal". Each test saves
 * screenshots (WALLET_SCREENSHOTS_DIR, default .data/screenshots); the README shows a set.
 */
const cli_path = process.env.TEMPORAL_CLI;
/** Long enough for a browser to open the page and send the signal on a busy 2-core machine. */
const reversal_window_ms = 120_000;
const visibility_timeout_ms = 30_000;
const test_timeout_ms = 90_000;

// The reversal is being built beside this test; it runs once the workflow defines the signal.
const messages: Record<string, unknown> = await import('../workflows/messages');
const reversal_missing =
  'reverseSignal' in messages ? false : 'workflows/messages.ts does not define reverseSignal yet';

describe(
  'the Temporal Web UI as the ops console',
  // Never a silent skip: npm test gets a CLI for this file even when TEMPORAL_ADDRESS is set, and without one it fails.
  { skip: false },
  () => {
    let temporal: UiTemporal | undefined;
    let stack: TestStack | undefined;
    let browser: Browser | undefined;
    before(async () => {
      if (!cli_path) throw new Error('TEMPORAL_CLI is not set: run this file with npm test, which gets a CLI');
      temporal = await startUiTemporal(cli_path);
      const timings: TransferTimings = { ...test_timings, reversalWindowMs: reversal_window_ms };
      // The UI's origin may call the wallet's codec endpoint (payloads are encrypted).
      stack = await startTestStack({ temporalAddress: temporal.address, timings, codecCorsOrigins: [temporal.uiUrl] });
      browser = await launchBrowser();
    });
    after(async () => {
      // Each step on its own, so a failure in one still stops the others.
      await browser?.close().catch((error) => console.error(`closing the browser: ${error}`));
      await stack?.stop().catch((error) => console.error(`stopping the wallet: ${error}`));
      await temporal?.stop();
    });

    /** An operator's page: signed in to the codec endpoint, so the UI shows decoded payloads. */
    async function operatorPage(): Promise<Page> {
      return operatorUiPage(browser!, `${stack!.baseUrl}/codec`, await tokenFor('ops_alice', 'ops'));
    }

    async function transferBetweenNewUsers(
      amount: number,
      note?: string,
    ): Promise<{ sender: string; recipient: string; transferId: string }> {
      const api = stack!.api;
      const [sender, recipient] = [uniqueName('alice'), uniqueName('bob')];
      for (const user of [sender, recipient]) assert.equal((await api.createUser(user)).status, 201);
      assert.equal((await api.deposit(sender, 10_000)).body.status, 'COMPLETED');
      const sent = await api.transfer(sender, recipient, amount, uniqueName('k'), 30, note ? { note } : {});
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
      assert.equal(sent.body.status, 'COMPLETED');
      return { sender, recipient, transferId: sent.body.transfer_id };
    }

    /** Visibility is updated a moment after the workflow upserts its attributes; the UI shows what it has. */
    async function awaitVisible(query: string, workflowId: string): Promise<void> {
      const deadline = Date.now() + visibility_timeout_ms;
      while (Date.now() < deadline) {
        for await (const workflow of stack!.client.workflow.list({ query }))
          if (workflow.workflowId === workflowId) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.fail(`${workflowId} did not match ${query} within ${visibility_timeout_ms} ms`);
    }

    it(
      'finds a transfer by its search attributes and shows its status and summary',
      { timeout: test_timeout_ms },
      async () => {
        const { sender, recipient, transferId } = await transferBetweenNewUsers(2_500);
        const query = `TransferStatus="COMPLETED" and FromUser="${sender}"`;
        await awaitVisible(query, transferId);
        const page = await operatorPage();

        await searchWorkflows(page, temporal!.uiUrl, query, transferId);
        assert.equal(await page.getByRole('link', { name: transferId, exact: true }).count(), 1);
        await saveScreenshot(page, 'web-ui-transfer-list');

        await page.getByRole('link', { name: transferId, exact: true }).click();
        await page.getByRole('heading', { name: transferId }).first().waitFor();
        // The summary the API gave the workflow, in its start event and in the User Metadata tab
        // (rendered as markdown in frames, the first of which is the summary).
        const summary = `${sender} -> ${recipient} 25.00 USD`;
        await page.getByText(summary).first().waitFor();
        await page.getByRole('tab', { name: 'User Metadata' }).click();
        await page.locator('iframe').first().contentFrame().getByText(summary).waitFor();
        for (const frame of await page.locator('iframe').all()) await frame.contentFrame().locator('body').waitFor();
        await saveScreenshot(page, 'web-ui-transfer-workflow');

        await page.getByRole('tab', { name: 'Search Attributes' }).click();
        await page.getByText('"TransferStatus": "COMPLETED"').waitFor();
        await page.getByText(`"ToUser": "${recipient}"`).waitFor();
        await page.close();
      },
    );

    it(
      'reverses a transfer with the reverse signal sent from the UI',
      { timeout: test_timeout_ms, skip: reversal_missing },
      async () => {
        const api = stack!.api;
        const { sender, recipient, transferId } = await transferBetweenNewUsers(4_000);
        assert.equal(await api.balance(sender), 6_000);
        assert.equal(await api.balance(recipient), 4_000);
        const page = await operatorPage();

        await openWorkflow(page, temporal!.uiUrl, transferId);
        // The operator's proof: an action token (npm run token -- --ops ops-alice --reverse ID, or the ops endpoint).
        const token = await actionTokenFor({ operator: 'ops-alice', action: 'reverse', transferId });
        const signal = await fillSignalDialog(page, 'reverse', { token, reason: 'customer dispute' });
        await saveScreenshot(page, 'web-ui-reverse-signal');
        await signal.submit();

        const reversed = await awaitTransferStatus(transferId, 'REVERSED');
        assert.equal(reversed.status, 'REVERSED', JSON.stringify(reversed));
        assert.equal(await api.balance(sender), 10_000);
        assert.equal(await api.balance(recipient), 0);

        await reloadUntilVisible(page, page.getByText('Workflow Execution Signaled').first());
        await saveScreenshot(page, 'web-ui-reversed-transfer');
        await page.getByRole('tab', { name: 'Search Attributes' }).click();
        await page.getByText('"TransferStatus": "REVERSED"').waitFor();
        await page.close();
      },
    );

    it(
      'shows encrypted bytes without the codec, and the decoded input to a signed-in operator',
      { timeout: test_timeout_ms },
      async () => {
        const note = uniqueName('rent-flat');
        const { sender, transferId } = await transferBetweenNewUsers(1_500, note);
        // The history's payloads are in the page's markup (some of it in collapsed panels).
        const markupShows = async (page: Page, pattern: RegExp) => {
          const deadline = Date.now() + ui_step_timeout_ms;
          while (Date.now() < deadline) {
            if (pattern.test(await page.content())) return;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
          assert.fail(`the page never showed ${pattern}`);
        };

        const outsider = await newUiPage(browser!);
        await openWorkflow(outsider, temporal!.uiUrl, transferId);
        // The payload as Temporal stores it: its encrypted encoding, and no note or user id anywhere on the page.
        await markupShows(outsider, /YmluYXJ5L2VuY3J5cHRlZA|binary\/encrypted/);
        const seen = await outsider.content();
        assert.ok(!seen.includes(note), 'the note is readable without the codec');
        assert.ok(!seen.includes(`"fromUserId":"${sender}"`), "the sender's id is readable in the input");
        await saveScreenshot(outsider, 'web-ui-encrypted-input');
        await outsider.close();

        const operator = await operatorPage();
        await openWorkflow(operator, temporal!.uiUrl, transferId);
        await markupShows(operator, new RegExp(note));
        await saveScreenshot(operator, 'web-ui-decoded-input');
        await operator.close();
      },
    );

    it('follows a batch: its workflow, and its items by their payer', { timeout: test_timeout_ms }, async () => {
      const api = stack!.api;
      const payer = uniqueName('employer');
      const recipients = [uniqueName('carol'), uniqueName('dave'), uniqueName('erin')];
      for (const user of [payer, ...recipients]) assert.equal((await api.createUser(user)).status, 201);
      assert.equal((await api.deposit(payer, 10_000)).body.status, 'COMPLETED');
      const accepted = await api.call('POST', '/v1/wallet/transfer-batches', {
        as: payer,
        body: {
          from_user_id: payer,
          idempotency_key: uniqueName('payroll'),
          items: recipients.map((to, index) => ({
            to_user_id: to,
            amount: 1_000 + index,
            currency: 'USD',
            idempotency_key: uniqueName(`salary-${index}`),
          })),
        },
      });
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      const batchId = accepted.body.batch_id as string;
      const done = await api.call('GET', `/v1/wallet/transfer-batches/${batchId}?wait=30`, { as: payer });
      assert.equal(done.body.status, 'COMPLETED', JSON.stringify(done.body));
      await stack!.client.workflow.getHandle(batchId).result();

      const page = await operatorPage();
      await openWorkflow(page, temporal!.uiUrl, batchId);
      await page.getByText(`batch of 3 from ${payer}`).first().waitFor();
      await page.getByRole('tab', { name: 'User Metadata' }).click();
      for (const frame of await page.locator('iframe').all()) await frame.contentFrame().locator('body').waitFor();
      await saveScreenshot(page, 'web-ui-batch-workflow');

      const firstItem = done.body.items[0].transfer_id as string;
      const query = `FromUser="${payer}" and TransferStatus="COMPLETED"`;
      await awaitVisible(query, firstItem);
      await searchWorkflows(page, temporal!.uiUrl, query, firstItem);
      for (const item of done.body.items as { transfer_id: string }[])
        await page.getByRole('link', { name: item.transfer_id, exact: true }).waitFor();
      await saveScreenshot(page, 'web-ui-batch-items');
      await page.close();
    });

    /** The signal is asynchronous: the reversal's legs post a moment after the UI sent it. */
    async function awaitTransferStatus(transferId: string, status: string): Promise<{ status: string }> {
      const deadline = Date.now() + visibility_timeout_ms;
      let last: { status: string } = { status: 'unknown' };
      while (Date.now() < deadline) {
        const read = await stack!.api.call('GET', `/v1/wallet/transfers/${transferId}`, stack!.api.ops);
        last = read.body;
        if (last.status === status) return last;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      return last;
    }
  },
);

/** The workflow page does not always refresh by itself; an operator would press reload. */
async function reloadUntilVisible(page: Page, target: Locator): Promise<void> {
  const deadline = Date.now() + ui_step_timeout_ms;
  for (;;) {
    await page.reload();
    try {
      await target.waitFor({ timeout: 5_000 });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}
