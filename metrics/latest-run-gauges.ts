import { Gauge, type Registry } from 'prom-client';

/** What the gauges show of a run: whether it found nothing wrong, how much it found, and when it finished. */
export interface LatestRun {
  ok: boolean;
  problems: number;
  finishedAt: Date;
}

export interface LatestRunGaugeNames {
  ok: string;
  okHelp: string;
  problems: string;
  problemsHelp: string;
  lastRun: string;
  lastRunHelp: string;
}

export interface LatestRunGauges {
  record(run: LatestRun): void;
  /** Where a scrape reads the latest run from (the table every process's runs are recorded in); the last given wins. */
  readFrom(read: () => Promise<LatestRun | undefined>): void;
}

const gauges_by_registry = new WeakMap<Registry, Map<string, LatestRunGauges>>();

/**
 * Three gauges of a recurring check's latest run (reconciliation, settlement reconciliation),
 * made once per registry and name (the API and the worker of one process share one). Every
 * scrape reads the latest run, so every process shows the same one whichever worker ran it; a
 * worker records its own runs at once too. Before the first run the gauges read 0, and the
 * timestamp 0 says there was none.
 */
export function latestRunGauges(registry: Registry, names: LatestRunGaugeNames): LatestRunGauges {
  let byName = gauges_by_registry.get(registry);
  if (!byName) gauges_by_registry.set(registry, (byName = new Map()));
  let made = byName.get(names.ok);
  if (!made) byName.set(names.ok, (made = makeGauges(registry, names)));
  return made;
}

function makeGauges(registry: Registry, names: LatestRunGaugeNames): LatestRunGauges {
  let read: (() => Promise<LatestRun | undefined>) | undefined;
  // One read per scrape, shared by the three gauges, which prom-client collects together.
  let reading: Promise<void> | undefined;
  const refresh = async () => {
    if (!read) return;
    reading ??= read()
      .then((run) => (run ? gauges.record(run) : undefined))
      // A scrape must not fail because the table's shard is down: the gauges keep their last values.
      .catch(() => undefined)
      .finally(() => (reading = undefined));
    await reading;
  };
  const registers = [registry];
  const ok = new Gauge({ name: names.ok, help: names.okHelp, registers, collect: refresh });
  const problems = new Gauge({ name: names.problems, help: names.problemsHelp, registers, collect: refresh });
  const lastRun = new Gauge({ name: names.lastRun, help: names.lastRunHelp, registers, collect: refresh });
  const gauges: LatestRunGauges = {
    record(run) {
      ok.set(run.ok ? 1 : 0);
      problems.set(run.problems);
      lastRun.set(run.finishedAt.getTime() / 1000);
    },
    readFrom(reader) {
      read = reader;
    },
  };
  return gauges;
}
