import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../support/env';

/** A service started as in production (preload first), with one bad key. */
function run(script: string, env: Record<string, string>): { status: number | null; stderr: string } {
  const main = path.join(repoRoot, 'dist', script);
  if (!existsSync(main)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const r = spawnSync(
    process.execPath,
    ['--require', path.join(repoRoot, 'dist/shared/tracing/preload.js'), main],
    {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', IIB_REGISTRY: 'localhost:5000', ...env },
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  return { status: r.status, stderr: r.stderr };
}

describe('a service started with a bad setting', () => {
  it('when IIB_LOG_LEVEL=loud, then the scheduler exits 2 naming the key and the accepted levels, without a stack trace', () => {
    const r = run('services/scheduler/main.js', { IIB_LOG_LEVEL: 'loud' });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'Configuration IIB_LOG_LEVEL is invalid: expected one of trace, debug, info, warn, error, fatal, silent, got "loud" (pino log level)\n',
    );
  });

  it('when a tracing key is bad, then the preload stops the builder the same way', () => {
    const r = run('services/builder/main.js', { OTEL_TRACES_EXPORTER: 'kafka' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^Configuration OTEL_TRACES_EXPORTER is invalid: unknown kafka; accepted: otlp/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('when the builder lanes are malformed, then it exits 2 naming IIB_BUILDER_LANES', () => {
    const r = run('services/builder/main.js', { IIB_BUILDER_LANES: 'fast:iib' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^Configuration IIB_BUILDER_LANES is invalid: lane "fast:iib" must be serial:<name> or parallel:<name>/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('when the migration job gets a bad database URL, then it exits 2 naming IIB_DATABASE_URL', () => {
    const r = run('services/gateway/migrate.js', { IIB_DATABASE_URL: 'mysql://db/iib' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^Configuration IIB_DATABASE_URL is invalid: expected a postgres:\/\/ or postgresql:\/\/ URL/,
    );
  });
});
