// ESLint flat config: typescript-eslint recommended everywhere, plus the workflow sandbox fence:
// code in workflows/ is bundled into Temporal's deterministic sandbox and may not import Node
// built-ins or Node-only packages (type-only imports are erased and allowed).
import { builtinModules } from 'node:module';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...new Set(builtinModules.filter((m) => !m.startsWith('_')))];
const nodeOnlyPackages = [
  'ioredis',
  '@temporalio/worker',
  '@temporalio/client',
  '@temporalio/activity',
  '@temporalio/testing',
  '@temporalio/core-bridge',
  'commander',
  'tsx',
];

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflow code runs in the Temporal sandbox: no Node built-ins. Do the I/O in an activity.',
              allowTypeImports: true,
            })),
            ...nodeOnlyPackages.map((name) => ({
              name,
              message: 'Node-only package: not allowed in workflow code (use it from activities/ or src/ Node code).',
              allowTypeImports: true,
            })),
          ],
          patterns: [
            {
              group: ['node:*'],
              message: 'Workflow code runs in the Temporal sandbox: no Node built-ins. Do the I/O in an activity.',
              allowTypeImports: true,
            },
            {
              group: nodeOnlyPackages.map((name) => `${name}/*`),
              message: 'Node-only package: not allowed in workflow code.',
              allowTypeImports: true,
            },
            {
              group: ['**/activities', '**/activities/*', '**/activities/**'],
              message: 'Workflows import only the types of activities: `import type { ... } from "../activities/..."`.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
