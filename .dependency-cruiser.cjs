/**
 * The wallet's layering, checked by `npm run lint:deps` (dependency-cruiser) in npm test's static
 * checks. Type-only imports count: a layer that needs a type from a higher one owns an interface
 * instead. The product folders below form a strict order (no folder imports one that imports it
 * back), so there is no folder cycle; `no-circular` also catches a cycle between two files of
 * one folder. The tooling folders (scripts, test, bench, chaos) may import the product freely; the
 * product never imports them.
 */

/** A folder and the product folders it may import (besides itself and npm packages). */
const layers = {
  domain: [],
  config: ['domain'],
  db: ['domain', 'config'],
  ledger: ['domain', 'db', 'config'],
  // Rails: payout and pay-in activities build and read the bank's files through a Rail and move them through a BankTransport.
  activities: ['domain', 'db', 'ledger', 'config', 'rails'],
  // Workflow code runs in Temporal's sandbox: pure domain code, and activities as types only
  // (below). eslint.config.js forbids Node built-ins and I/O packages there.
  workflows: ['domain'],
  'temporal-client': ['domain', 'ledger', 'workflows'],
  metrics: ['domain', 'db', 'ledger'],
  // Payment rails (rails/rail.ts is the boundary): they build and read the bank's files, nothing else.
  rails: ['domain'],
  // The bank process plays our bank (README, "The bank"): its own database and migrations, and
  // the ACH rail's files. Nothing of the wallet imports it.
  bank: ['domain', 'config', 'db', 'rails'],
  supervisor: ['workflows'],
  api: ['domain', 'db', 'ledger', 'config', 'workflows', 'temporal-client', 'metrics'],
  workers: ['domain', 'db', 'ledger', 'config', 'workflows', 'activities', 'temporal-client', 'metrics'],
  // The composition root: the only folder that knows both the API and the worker.
  app: ['domain', 'db', 'config', 'api', 'workers', 'temporal-client', 'metrics', 'supervisor', 'rails'],
};

/** Interfaces a layer implements for a higher one (types only: nothing of theirs runs here). */
const types_only = {
  workflows: ['activities'],
  // The gauges and the transfer events implement interfaces the activities own; the transfer
  // durations listen on the completion channel they are given.
  metrics: ['activities', 'temporal-client'],
};

const tooling = '^(scripts|test|bench|chaos)/';
const product = `^(${Object.keys(layers).join('|')})/`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one: neither can be read, tested or changed alone.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'product-not-tooling',
      comment: 'Product code never imports scripts, tests, the bench or chaos.',
      severity: 'error',
      from: { path: product },
      to: { path: tooling },
    },
    {
      name: 'api-and-workers-apart',
      comment: 'The API and the worker meet only in the composition root (app/).',
      severity: 'error',
      from: { path: '^(api|workers)/' },
      to: { path: '^(api|workers)/', pathNot: '^$1/' },
    },
  ],
  allowed: [
    { from: { path: tooling }, to: {} },
    { from: {}, to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'core'] } },
    ...Object.entries(layers).map(([folder, below]) => ({
      from: { path: `^${folder}/` },
      to: { path: `^(${[folder, ...below].join('|')})/` },
    })),
    ...Object.entries(types_only).map(([folder, above]) => ({
      from: { path: `^${folder}/` },
      to: { path: `^(${above.join('|')})/`, dependencyTypes: ['type-only'] },
    })),
  ],
  allowedSeverity: 'error',
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.tools|\\.data)/' },
    // node-pg-migrate is ESM with an exports map: resolve it as Node does.
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.json'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
