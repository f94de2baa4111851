/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/packages'],
  // Workspace packages are tested from their sources, as code outside imports them.
  moduleNameMapper: { '^@iib-ts/(.*)$': '<rootDir>/packages/$1/src/index.ts' },
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }],
    // jose is ESM only. Node 24 requires it from our CommonJS as it is (require(esm));
    // jest does that only under --experimental-vm-modules, so it compiles jose to
    // CommonJS for the tests instead.
    '/node_modules/jose/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022' }, diagnostics: false },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  // Integration and e2e tests share one broker, one registry and one database
  // server; two workers match this machine's two cores.
  maxWorkers: 2,
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
