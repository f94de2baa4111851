import {
  CommandError,
  CommandRunner,
  isFlaky,
  toolError,
} from '../../../services/builder/tools/command-runner';
import { registryRetries, toolRuns } from '../../../shared/metrics';

const policy = { attempts: 3, delayMs: 1, jitterMs: 1, multiplier: 2 };

describe('the command runner', () => {
  it('when a command succeeds, then its output is returned and the run is logged with exit 0', async () => {
    const lines: string[] = [];
    const r = new CommandRunner(policy, 5000, (l) => lines.push(l));
    const out = await r.run('node', ['-e', 'process.stdout.write("hi")']);
    expect(out.stdout).toBe('hi');
    expect(lines[0]).toMatch(/^\$ node -e .* -> exit 0 in \d+ ms$/);
  });

  it('when a command fails, then the error is the tool error line and secrets are masked', async () => {
    const lines: string[] = [];
    const r = new CommandRunner(policy, 5000, (l) => lines.push(l)).withSecrets(['s3cr3t-token']);
    const err = (await r
      .run('node', [
        '-e',
        'console.error("Error: reading manifest: manifest unknown"); process.exit(3)',
        's3cr3t-token',
      ])
      .catch((e: unknown) => e)) as CommandError;
    expect(err).toBeInstanceOf(CommandError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe('node failed: Error: reading manifest: manifest unknown');
    expect(lines.join('\n')).not.toContain('s3cr3t-token');
    expect(lines.join('\n')).toContain('***');
  });

  it('when a registry flakes, then the command is retried up to the attempts', async () => {
    const lines: string[] = [];
    const r = new CommandRunner(policy, 5000, (l) => lines.push(l));
    const err = await r
      .run(
        'node',
        ['-e', 'console.error("received unexpected HTTP status: 503 Service Unavailable"); process.exit(1)'],
        {
          attempts: 3,
        },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect(lines.filter((l) => l.startsWith('retrying node'))).toHaveLength(2);
  });

  it('when a command outlives its timeout, then it is killed and reported as timed out', async () => {
    const r = new CommandRunner(policy, 200, () => undefined);
    await expect(r.run('node', ['-e', 'setTimeout(() => {}, 10000)'])).rejects.toThrow(
      /node timed out after 200 ms/,
    );
  });

  it('when reading stderr, then the last error line is chosen and flakes are recognised', () => {
    expect(toolError('noise\nError: copying: unauthorized\nmore\n')).toBe('Error: copying: unauthorized');
    expect(isFlaky('Error: received unexpected HTTP status: 502 Bad Gateway')).toBe(true);
    expect(isFlaky('Error: manifest unknown')).toBe(false);
  });

  it('when runs exit, flake and time out, then the metrics count them by tool and exit code', async () => {
    toolRuns.reset();
    registryRetries.reset();
    const r = new CommandRunner(policy, 5000, () => undefined);
    await r.run('node', ['-e', '0']);
    await r
      .run('node', ['-e', 'console.error("received unexpected HTTP status: 503"); process.exit(1)'], {
        attempts: 3,
      })
      .catch(() => undefined);
    await new CommandRunner(policy, 200, () => undefined)
      .run('node', ['-e', 'setTimeout(() => {}, 10000)'])
      .catch(() => undefined);
    const runs = Object.fromEntries(
      (await toolRuns.get()).values.map((v) => [`${v.labels.tool} ${v.labels.exit_code}`, v.value]),
    );
    expect(runs).toEqual({ 'node 0': 1, 'node 1': 3, 'node timeout': 1 });
    expect((await registryRetries.get()).values).toEqual([{ labels: { tool: 'node' }, value: 2 }]);
  });
});
