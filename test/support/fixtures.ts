import * as path from 'node:path';

/** The repository root (two levels above test/support). */
export const repoRoot = path.resolve(__dirname, '..', '..');

/**
 * The shared OLM fixtures: IIB_FIXTURES_DIR, else `../shared/fixtures/olm`
 * beside the repository.
 */
export const fixturesDir =
  process.env.IIB_FIXTURES_DIR ?? path.resolve(repoRoot, '..', 'shared', 'fixtures', 'olm');

export const goldenDir = path.join(fixturesDir, 'golden', 'opm-v1.26.4');
export const bundlesDir = path.join(fixturesDir, 'bundles');
