import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      '**/dist/**',
      '**/build-bench/**',
      'node_modules/**',
      'coverage/**',
      '**/*.js',
      '**/*.mjs',
      '.stack/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
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
    files: ['test/**/*.ts', 'bench/**/*.ts', 'packages/*/test/**/*.ts', 'packages/*/bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
