import * as path from 'node:path';

/** This package's directory (one level above test/). */
export const packageRoot = path.resolve(__dirname, '..');

/** The repository root, whose bin/iib-catalog.js runs this package's CLI. */
export const repoRoot = path.resolve(packageRoot, '..', '..');

/**
 * The shared OLM fixtures with opm v1.26.4's outputs: IIB_FIXTURES_DIR, else
 * `../shared/fixtures/olm` beside the repository.
 */
export const fixturesDir =
  process.env.IIB_FIXTURES_DIR ?? path.resolve(repoRoot, '..', 'shared', 'fixtures', 'olm');

export const goldenDir = path.join(fixturesDir, 'golden', 'opm-v1.26.4');
export const bundlesDir = path.join(fixturesDir, 'bundles');
