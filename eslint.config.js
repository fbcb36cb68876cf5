// ESLint: the recommended rules of ESLint and typescript-eslint, plus the type-aware rules that catch what
// an asynchronous pipeline gets wrong (a promise nobody awaits, awaiting a non-promise). Formatting is
// prettier's (npm run format), not ESLint's.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // k6 scripts run in k6's JavaScript runtime (its own globals and modules), not Node.
  { ignores: ['node_modules/', '.cache/', '.stack/', '.scratch/', 'bench/results/', 'k6/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      // `_`-prefixed: unused on purpose (Express's four-argument error handler, destructuring to omit).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
          caughtErrors: 'none',
        },
      ],
    },
  },
  // Tests and the benchmark read JSON answers and reports whose shape they assert or print as they are.
  { files: ['test/**', 'bench/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
