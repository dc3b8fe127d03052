import { sleep } from './client';
import { withCheckConnection } from './ledger';
import type { InjectedFault } from './faults';
import type { PlannedRailsFault } from './rails-plan';
import type { ChaosBank } from './stack';

/**
 * The bank as a fault target, beside the run's other faults: killed (SIGKILL) and restarted on its port and
 * database, or switched by its own fault API (POST /admin/faults, bank/faults.ts) into an outage,
 * duplicate delivery or late delivery for a while. Each fault is confirmed, not only asked for.
 */

const request_timeout_ms = 10_000;
const retry_pause_ms = 200;
const retry_for_ms = 60_000;
/**
 * A duplicate or late delivery needs a file to act on: when none came during the planned window
 * (no credit or return was due, or the workload paused for a fault healing), the run sends a
 * credit of its own (`nudge`) and the switch stays on up to this much longer until its file comes.
 */
const confirm_extra_ms = 10_000;
const confirm_poll_ms = 250;

/** Polls `check` until it finds the fault happened, or the extra time ran out. */
async function confirmWithin<T>(check: () => Promise<T | null>): Promise<T | null> {
  const deadline = Date.now() + confirm_extra_ms;
  for (;;) {
    const found = await check();
    if (found !== null || Date.now() > deadline) return found;
    await sleep(confirm_poll_ms);
  }
}

/** One request to the bank with its token; a lost exchange is status 0. */
async function bankRequest(
  bank: ChaosBank,
  method: string,
  path: string,
  body?: object,
): Promise<{ status: number; body: any }> {
  try {
    const response = await fetch(`${bank.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${bank.token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(request_timeout_ms),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text) };
  } catch {
    return { status: 0, body: null };
  }
}

/** Retries while the bank is down or out (a 503 or a lost exchange changed nothing at the bank). */
export async function bankRequestRetrying(
  bank: ChaosBank,
  method: string,
  path: string,
  body?: object,
): Promise<{ status: number; body: any }> {
  const deadline = Date.now() + retry_for_ms;
  for (;;) {
    const answer = await bankRequest(bank, method, path, body);
    if ((answer.status !== 0 && answer.status !== 503) || Date.now() > deadline) return answer;
    await sleep(retry_pause_ms);
  }
}

/**
 * Requests the run sends to the bank as the outside world (incoming credits) pass through this
 * gate; a kill waits for those in flight and holds new ones back, so no credit's answer is lost
 * to the kill (a credit the run never heard of would be one it cannot check).
 */
export class BankGate {
  private inFlight = 0;
  private closed = false;

  async through<T>(send: () => Promise<T>): Promise<T> {
    while (this.closed) await sleep(50);
    this.inFlight++;
    try {
      return await send();
    } finally {
      this.inFlight--;
    }
  }

  async closedWhile<T>(run: () => Promise<T>): Promise<T> {
    this.closed = true;
    try {
      while (this.inFlight > 0) await sleep(20);
      return await run();
    } finally {
      this.closed = false;
    }
  }
}

type Outcome = Pick<InjectedFault, 'happened' | 'detail'>;

/** Sends one more credit from outside (through the gate), so the bank makes a file while a switch is on. */
export type Nudge = () => Promise<void>;

export async function injectRailsFault(
  bank: ChaosBank,
  fault: PlannedRailsFault,
  gate: BankGate,
  nudge: Nudge,
): Promise<InjectedFault> {
  const started_at_ms = Date.now();
  const { happened, detail } = await inject(bank, fault, gate, nudge);
  return { index: fault.index, kind: fault.kind, started_at_ms, healed_at_ms: Date.now(), happened, detail };
}

async function setFaults(bank: ChaosBank, switches: object): Promise<void> {
  const answer = await bankRequestRetrying(bank, 'POST', '/admin/faults', switches);
  if (answer.status !== 200) throw new Error(`the bank's faults ${JSON.stringify(switches)} answered ${answer.status}`);
}

async function inject(bank: ChaosBank, fault: PlannedRailsFault, gate: BankGate, nudge: Nudge): Promise<Outcome> {
  switch (fault.kind) {
    case 'bank_kill':
      return gate.closedWhile(async () => {
        await bank.process.kill();
        await sleep(fault.down_ms);
        await bank.process.start();
        return { happened: true, detail: `bank killed, back after ${fault.down_ms} ms` };
      });
    case 'bank_outage': {
      await setFaults(bank, { outage_ms: fault.down_ms });
      // Confirmed by the bank's own answer to a wallet's kind of call.
      const probe = await bankRequest(bank, 'GET', '/outgoing-files?after=0&limit=1');
      await sleep(fault.down_ms);
      await setFaults(bank, { outage_ms: 0 });
      return {
        happened: probe.status === 503,
        detail: `bank out ${fault.down_ms} ms; a poll meanwhile answered ${probe.status}`,
      };
    }
    case 'bank_duplicate_delivery': {
      await setFaults(bank, { duplicate_delivery: true });
      const since = new Date();
      await sleep(fault.down_ms);
      if ((await creditsFileResent(bank, since)) === null) await nudge();
      const [resent, copy] = await Promise.all([
        confirmWithin(() => lastFileSentAgain(bank)),
        confirmWithin(() => creditsFileResent(bank, since)),
      ]);
      await setFaults(bank, { duplicate_delivery: false });
      return {
        happened: resent !== null && copy !== null,
        detail: `duplicate delivery for ${fault.down_ms} ms; ${resent === null ? 'no file to send again' : `a poll after cursor ${resent} got file ${resent} again`}; ${copy === null ? 'no credits file resent' : `credits file ${copy.resends} resent as file ${copy.cursor}`}`,
      };
    }
    case 'bank_late_delivery': {
      await setFaults(bank, { late_delivery_ms: fault.down_ms });
      const since = new Date();
      await sleep(fault.down_ms);
      if ((await filesHeldBack(bank, since)) === 0) await nudge();
      const late = (await confirmWithin(async () => ((await filesHeldBack(bank, since)) > 0 ? true : null))) !== null;
      await setFaults(bank, { late_delivery_ms: 0 });
      const count = await filesHeldBack(bank, since);
      return {
        happened: late,
        detail: `late delivery for ${fault.down_ms} ms: ${count} files made while it was on were held back ${fault.down_ms} ms`,
      };
    }
  }
}

/** With duplicate delivery on, a poll after the newest file's cursor gets that file again; its cursor, or null when there is none. */
async function lastFileSentAgain(bank: ChaosBank): Promise<string | null> {
  const newest = await withCheckConnection(bank.database_url, async (client) => {
    const found = await client.query<{ cursor: string | null }>(
      'select max(cursor)::text as cursor from outgoing_files where deliver_after <= now()',
    );
    return found.rows[0]!.cursor;
  });
  if (newest === null) return null;
  const page = await bankRequestRetrying(bank, 'GET', `/outgoing-files?after=${newest}&limit=1`);
  const files = (page.body?.files ?? []) as { cursor: string }[];
  return files.some((file) => file.cursor === newest) ? newest : null;
}

/** A credits file the bank sent again under a new file id (duplicate delivery) since `since`: the copy's cursor and the first's. */
async function creditsFileResent(bank: ChaosBank, since: Date): Promise<{ cursor: string; resends: string } | null> {
  return withCheckConnection(bank.database_url, async (client) => {
    const found = await client.query<{ cursor: string; resends: string }>(
      `select cursor::text as cursor, resends::text as resends from outgoing_files
        where resends is not null and created_at >= $1 order by cursor desc limit 1`,
      [since],
    );
    return found.rows[0] ?? null;
  });
}

async function filesHeldBack(bank: ChaosBank, since: Date): Promise<number> {
  return withCheckConnection(bank.database_url, async (client) => {
    const found = await client.query<{ count: number }>(
      'select count(*)::int as count from outgoing_files where created_at >= $1 and deliver_after > created_at',
      [since],
    );
    return found.rows[0]!.count;
  });
}
