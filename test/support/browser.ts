import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, startDevServer, waitForPort } from '../../supervisor/dev-server';
import { waitForTemporal } from '../../supervisor/wait-for-temporal';

/**
 * Debian's Chromium (scripts/ensure-chromium.sh installs it), driven by playwright-core:
 * `npx playwright install` needs a download site these machines cannot reach.
 */
const chromium_path = '/usr/bin/chromium';
const chromium_args = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The Web UI is a Svelte app; its first load on a busy 2-core machine takes seconds. */
const ui_load_timeout_ms = 60_000;
export const ui_step_timeout_ms = 30_000;
const dev_server_start_timeout_ms = 60_000;
const dev_server_stop_timeout_ms = 10_000;

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromium_path, args: chromium_args });
}

export async function newUiPage(browser: Browser): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(ui_step_timeout_ms);
  return page;
}

export interface UiTemporal {
  /** gRPC address for the wallet's worker and client. */
  address: string;
  /** Base URL of the Web UI, e.g. http://127.0.0.1:41234. */
  uiUrl: string;
  /** Stops the dev server and waits for it to exit; safe to call more than once. */
  stop: () => Promise<void>;
}

/**
 * An in-memory dev server with the Web UI, on free ports. The suite's shared server is
 * headless, so the browser tests start their own (the CLI path comes from TEMPORAL_CLI, which
 * `npm test` sets). The CLI's dev server leaves the UI's write actions (signals) enabled.
 */
export async function startUiTemporal(cliPath: string): Promise<UiTemporal> {
  const [port, uiPort] = [await freePort(), await freePort()];
  const server = startDevServer({ cliPath, port, uiPort, namespace: 'default' });
  const address = `127.0.0.1:${port}`;
  const stop = () => stopChild(server);
  try {
    await waitForPort(port, dev_server_start_timeout_ms);
    await waitForTemporal(address, 'default', dev_server_start_timeout_ms);
    await waitForPort(uiPort, dev_server_start_timeout_ms);
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, uiUrl: `http://127.0.0.1:${uiPort}`, stop };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), dev_server_stop_timeout_ms);
  await exited;
  clearTimeout(timer);
}

/** Where screenshots go: WALLET_SCREENSHOTS_DIR, or the ignored .data/screenshots. */
function screenshotsDir(): string {
  return path.resolve(process.env.WALLET_SCREENSHOTS_DIR ?? '.data/screenshots');
}

export async function saveScreenshot(page: Page, name: string): Promise<string> {
  const directory = screenshotsDir();
  await mkdir(directory, { recursive: true });
  const file = path.join(directory, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * Types a visibility query into the workflow list's query editor (the `</>` toggle), as an
 * operator would, and waits for the workflow to be listed.
 */
export async function searchWorkflows(
  page: Page,
  uiUrl: string,
  query: string,
  expectedWorkflowId: string,
): Promise<void> {
  await page.goto(`${uiUrl}/namespaces/default/workflows`);
  await page.getByTestId('toggle-manual-query').click({ timeout: ui_load_timeout_ms });
  const input = page.getByPlaceholder('Enter a query');
  await input.fill(query);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('link', { name: expectedWorkflowId, exact: true }).first().waitFor();
}

/** The workflow's page (its newest run), loaded far enough to act on it. */
export async function openWorkflow(page: Page, uiUrl: string, workflowId: string): Promise<void> {
  await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);
  await page.getByRole('heading', { name: workflowId }).first().waitFor({ timeout: ui_load_timeout_ms });
}

/**
 * "More Actions" > "Send a Signal" on an open workflow page, filled in; returns the dialog,
 * left open so the caller can take a picture before submitting.
 */
export async function fillSignalDialog(page: Page, signalName: string, input: unknown) {
  await page.getByRole('button', { name: 'More Actions' }).click();
  await page.getByRole('menuitem', { name: 'Send a Signal' }).click();
  const dialog = page.getByRole('dialog', { name: 'Send a Signal' });
  await dialog.waitFor();
  // The UI asks the workflow (through its worker) which signals it defines and offers them in
  // a list; choosing from it also shows that the workflow publishes the signal.
  await dialog.getByRole('button', { name: 'Select a signal' }).click();
  await dialog.getByRole('option', { name: signalName, exact: true }).click();
  // The data field has no accessible name: it is the dialog's JSON editor (CodeMirror, which
  // would auto-close typed brackets, hence insertText).
  await dialog.locator('[contenteditable="true"]').click();
  await page.keyboard.insertText(JSON.stringify(input));
  return {
    dialog,
    submit: async () => {
      // The editor reformats its JSON when it loses focus; with a long input (an action token)
      // that moves the button under the first click, which then only blurs the editor.
      const button = dialog.getByRole('button', { name: 'Submit' });
      await button.click();
      const closed = await dialog.waitFor({ state: 'hidden', timeout: 5_000 }).then(
        () => true,
        () => false,
      );
      if (!closed) await button.click();
      await dialog.waitFor({ state: 'hidden' });
    },
  };
}

/**
 * A page of an operator who signed in to the wallet's codec endpoint (GET /codec/login, an ops
 * token pasted into its form) and set the UI's codec settings as the README says: the endpoint,
 * "include cross-origin credentials", and the browser's setting over the cluster's. The UI keeps
 * those settings in localStorage, set here before its scripts run.
 */
export async function operatorUiPage(browser: Browser, codecEndpoint: string, opsToken: string): Promise<Page> {
  const page = await newUiPage(browser);
  await page.addInitScript({
    content: [
      `localStorage.setItem('endpoint', ${JSON.stringify(JSON.stringify(codecEndpoint))});`,
      `localStorage.setItem('includeCredentials', 'true');`,
      `localStorage.setItem('overrideRemoteCodecConfiguration', 'true');`,
    ].join('\n'),
  });
  await page.goto(`${codecEndpoint}/login`);
  await page.getByRole('textbox', { name: 'ops token' }).fill(opsToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: /^Signed in as / }).waitFor();
  return page;
}
