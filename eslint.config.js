import tseslint from 'typescript-eslint';

const process_env = { object: 'process', property: 'env', message: 'settings come from config/ (config()), handed in' };

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      'no-restricted-syntax': ['error', { selector: 'BinaryExpression[operator="=="]', message: 'use ===' }],
    },
  },
  {
    // config/ is the one reader of the environment: product code is handed its settings (by the
    // composition root, app/), so a setting is validated once and documented in one place.
    // Workflow code has the same rule in its own block below.
    files: [
      'app/**/*.ts',
      'api/**/*.ts',
      'workers/**/*.ts',
      'activities/**/*.ts',
      'ledger/**/*.ts',
      'db/**/*.ts',
      'domain/**/*.ts',
      'metrics/**/*.ts',
      'temporal-client/**/*.ts',
      'rails/**/*.ts',
      'bank/**/*.ts',
    ],
    rules: { 'no-restricted-properties': ['error', process_env] },
  },
  {
    // Functions short enough to see at once (TigerBeetle's limit). Test files are exempt: a
    // describe callback holds many its by design, and a table of cases is easier to read whole.
    files: ['**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 70, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no clocks, no randomness
    // of its own, and activities are imported as types only.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'path', 'crypto', 'os', 'child_process', 'net', 'http', 'https'],
              message: 'Node built-ins are not allowed in workflow code',
            },
            {
              group: [
                'pg',
                'pino',
                'express',
                'jose',
                'prom-client',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
              ],
              message: 'non-deterministic modules are not allowed in workflow code',
            },
            {
              group: [
                '../db/*',
                '../ledger/*',
                '../api/*',
                '../config',
                '../config/*',
                '../app/*',
                '../metrics/*',
                '../supervisor/*',
                '../temporal-client/*',
                '../domain/transfer-ids',
                '../domain/action-tokens',
              ],
              message: 'workflow code may import only pure domain modules',
            },
            {
              group: ['../activities', '../activities/*'],
              allowTypeImports: true,
              message: 'import activities as types only',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'use sleep() from @temporalio/workflow' },
        { name: 'setInterval', message: 'use sleep() from @temporalio/workflow' },
      ],
      // Date.now() is allowed: the workflow sandbox replaces it with the workflow task's time,
      // which replays identically (review deadlines and the reversal window are read from it).
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'use uuid4() from @temporalio/workflow' },
        process_env,
      ],
    },
  },
);
