import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CommandError, CommandRunner } from '../../services/builder/tools/command-runner';
import { registryBaseUrl, testImages } from '../support/env';

/**
 * The real skopeo against the real registry behind a proxy that fails the
 * first requests the way registries flake (503, 403, a dropped connection):
 * the command runner must recognise skopeo's own error text and retry.
 */
describe('registry flakes with the real skopeo', () => {
  let server: http.Server;
  let port: number;
  let failures: { status: number | 'drop' }[] = [];
  let seen = 0;

  beforeAll(async () => {
    const upstream = new URL(registryBaseUrl());
    server = http.createServer((req, res) => {
      seen += 1;
      const next = failures.shift();
      if (next?.status === 'drop') {
        req.socket.destroy();
        return;
      }
      if (next) {
        res.writeHead(next.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'flake' }] }));
        return;
      }
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    const probe = await fetch(`${registryBaseUrl()}/v2/`).catch(() => undefined);
    if (!probe?.ok)
      throw new Error('the registry localhost:5000 does not answer: run `bash scripts/stack.sh up`');
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const inspect = (runner: CommandRunner, attempts: number) =>
    runner.run(
      'skopeo',
      [
        '--command-timeout',
        '30s',
        'inspect',
        '--raw',
        '--tls-verify=false',
        `docker://127.0.0.1:${port}/${testImages.binary.split('/').slice(1).join('/')}`,
      ],
      { attempts },
    );

  it.each([
    ['a 503', [{ status: 503 }, { status: 503 }]],
    ['a 502 then a 504', [{ status: 502 }, { status: 504 }]],
    ['a dropped connection', [{ status: 'drop' as const }]],
  ])(
    'when the registry answers %s before serving, then skopeo is retried with backoff and succeeds',
    async (_what, fail) => {
      failures = [...fail];
      seen = 0;
      const lines: string[] = [];
      const runner = new CommandRunner(
        { attempts: 4, delayMs: 50, jitterMs: 50, multiplier: 2 },
        60_000,
        (l) => lines.push(l),
      );
      const out = await inspect(runner, 4);
      expect(JSON.parse(out.stdout)).toHaveProperty('manifests');
      const retries = lines.filter((l) => l.startsWith('retrying skopeo'));
      // One skopeo run may meet several of the failures (its ping and its manifest request).
      expect(retries.length).toBeGreaterThanOrEqual(1);
      expect(retries.length).toBeLessThanOrEqual(fail.length);
      expect(lines.filter((l) => / -> exit [1-9]\d* in \d+ ms$/.test(l))).toHaveLength(retries.length);
      expect(lines[lines.length - 1]).toMatch(/ -> exit 0 in \d+ ms$/);
      expect(seen).toBeGreaterThan(fail.length);
    },
  );

  it('when the registry keeps failing, then the attempts run out and the error is skopeo’s own line', async () => {
    failures = Array.from({ length: 50 }, () => ({ status: 503 }));
    const lines: string[] = [];
    const runner = new CommandRunner({ attempts: 3, delayMs: 10, jitterMs: 10, multiplier: 2 }, 60_000, (l) =>
      lines.push(l),
    );
    const err = (await inspect(runner, 3).catch((e: unknown) => e)) as CommandError;
    expect(err).toBeInstanceOf(CommandError);
    expect(err.flaky).toBe(true);
    expect(err.message).toMatch(/^skopeo failed: .*503/);
    expect(lines.filter((l) => l.startsWith('retrying skopeo'))).toHaveLength(2);
    failures = [];
  });

  it('when the image does not exist, then skopeo is not retried', async () => {
    failures = [];
    const lines: string[] = [];
    const runner = new CommandRunner({ attempts: 3, delayMs: 10, jitterMs: 10, multiplier: 2 }, 60_000, (l) =>
      lines.push(l),
    );
    const err = (await runner
      .run(
        'skopeo',
        ['inspect', '--raw', '--tls-verify=false', `docker://127.0.0.1:${port}/iib-test/nothing-here:v1`],
        { attempts: 3 },
      )
      .catch((e: unknown) => e)) as CommandError;
    expect(err).toBeInstanceOf(CommandError);
    expect(err.flaky).toBe(false);
    expect(err.message).toMatch(/^skopeo failed: .*(manifest unknown|name unknown|not found)/i);
    expect(lines.filter((l) => l.startsWith('retrying'))).toHaveLength(0);
  });
});
