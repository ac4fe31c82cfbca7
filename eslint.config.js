// ESLint: typescript-eslint's recommended + type-checked rules, which catch floating promises and
// unsafe `any`. Formatting is prettier's job, so no stylistic rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test-output/', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The web UI (Preact, DOM types) has its own tsconfig; the bundle in dist/ is ignored above.
    files: ['src/ui/**/*.ts', 'src/ui/**/*.tsx'],
    languageOptions: {
      parserOptions: { project: './tsconfig.ui.json', tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // The path every task instance of a run takes (ready -> inputs -> key -> lookup -> hit write).
    // An object literal with properties (or a second spread) after a spread gets a hidden class of
    // its own: about 1 KB where the same object spelled out takes ~100 bytes, and every read of
    // it afterwards misses V8's inline caches. Writing these out cut a warm 10,000-task run's
    // main-thread CPU by 12 % (docs/performance-history.md, fifteenth session). Left out on purpose:
    // merges of user dicts (a mapped instance's op_kwargs) and the template engine's AST nodes,
    // data of many shapes anyway, and code that runs once per command or scheduler.
    files: [
      'src/scheduler/attempt*.ts',
      'src/scheduler/execute.ts',
      'src/scheduler/inputs.ts',
      'src/scheduler/readiness.ts',
      'src/scheduler/run-tracker.ts',
      'src/cache/backend-results.ts',
      'src/cache/backends/metadata-db*.ts',
      'src/cache/backends/redis*.ts',
      'src/cache/decision.ts',
      'src/cache/entry*.ts',
      'src/cache/fail-open.ts',
      'src/cache/guarded-backend.ts',
      'src/cache/key.ts',
      'src/cache/record.ts',
      'src/models/cache-hit-*.ts',
      'src/models/task-instance.ts',
      'src/models/task-instance-json.ts',
      'src/models/task-instance-refs.ts',
      'src/models/xcom.ts',
      'src/templating/instance-inputs.ts',
      'src/templating/resolve.ts',
      'src/templating/task-inputs.ts',
    ],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...['ObjectExpression > SpreadElement ~ Property', 'ObjectExpression > SpreadElement ~ SpreadElement'].map(
          (selector) => ({
            selector,
            message: 'On the per-task-instance path, spell the fields out: no property or spread after a spread.',
          }),
        ),
      ],
    },
  },
  {
    // Tests read the CLI's JSON output, which is `any` by nature; the promise rules still apply.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
