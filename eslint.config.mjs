import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Structure (issue 20): no file of services/ or packages/ over 400 lines, no function
// over 80 lines. Lines are counted as `wc -l` counts them, blank lines and comments
// included: what a reader has to get through. Import cycles are checked by dpdm
// (`npm run lint:cycles`, dpdm.config.ts), which also sees type-only imports.
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;

// No exceptions: every function of services/, shared/ and packages/ is within the limit.

export default defineConfig(
  {
    ignores: [
      'dist/**',
      '**/dist/**',
      '**/build-bench/**',
      'node_modules/**',
      'coverage/**',
      '**/*.js',
      '**/*.mjs',
      'dpdm.config.ts',
      '.stack/**',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  {
    // Workspace packages are used through their public API (`@iib-ts/<dir>`), never a path inside them.
    files: ['**/*.ts'],
    ignores: ['packages/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)packages/',
              message: 'Import a workspace package by its name (@iib-ts/<dir>), not a path inside it.',
            },
            {
              regex: '^@iib-ts/[^/]+/.',
              message: 'Import only the package itself (@iib-ts/<dir>): the rest is not its public API.',
            },
          ],
        },
      ],
    },
  },
  {
    // The catalog engine stands alone: nothing of the services or shared/ goes into it.
    files: ['packages/catalog/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(services|shared)(/|$)',
              message:
                '@iib-ts/catalog is self-contained: it imports nothing of the services, shared/ or the root.',
            },
            {
              regex: '^(\\.\\./){2,}',
              message:
                '@iib-ts/catalog is self-contained: imports stay inside packages/catalog (its files sit one folder deep).',
            },
          ],
        },
      ],
    },
  },
  {
    // The rhea instrumentation is an OpenTelemetry package like any other: it
    // knows nothing of the services or shared/ (they configure it).
    files: ['packages/instrumentation-rhea/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(services|shared)(/|$)',
              message: '@iib-ts/instrumentation-rhea imports nothing of the services or shared/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['services/**/*.ts', 'packages/**/*.ts'],
    ignores: ['packages/*/test/**'],
    rules: {
      'max-lines': ['error', { max: MAX_FILE_LINES, skipBlankLines: false, skipComments: false }],
    },
  },
  {
    files: ['services/**/*.ts', 'packages/**/*.ts', 'shared/**/*.ts'],
    ignores: ['packages/*/test/**'],
    rules: {
      'max-lines-per-function': [
        'error',
        { max: MAX_FUNCTION_LINES, skipBlankLines: false, skipComments: false, IIFEs: true },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'packages/*/test/**/*.ts', 'packages/*/bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
