import { createLogger } from '../../../shared/logging';
import { checkReadiness, startHealthListener } from '../../../shared/health';
import { lanesRouted, startBuild } from '../../../shared/metrics';

const log = createLogger('test', 'silent');

describe('readiness checks', () => {
  it('when every check answers, then the service is ready', async () => {
    const report = await checkReadiness({ broker: () => true, database: () => Promise.resolve(1) });
    expect(report).toEqual({ ready: true, checks: { broker: 'ok', database: 'ok' } });
  });

  it('when a check returns false, rejects or hangs, then it is not ready and each says why', async () => {
    const report = await checkReadiness(
      {
        broker: () => false,
        database: () => Promise.reject(new Error('connection refused')),
        slow: () => new Promise(() => undefined),
      },
      50,
    );
    expect(report.ready).toBe(false);
    expect(report.checks).toEqual({
      broker: 'down',
      database: 'connection refused',
      slow: 'no answer within 50 ms',
    });
  });
});

describe('health listener', () => {
  it('when probed and scraped, then /healthz, /readyz and /metrics answer and other paths 404', async () => {
    let up = true;
    const listener = await startHealthListener({
      host: '127.0.0.1',
      port: 0,
      checks: { broker: () => up },
      log,
    });
    const base = `http://127.0.0.1:${listener.port}`;
    try {
      lanesRouted.inc({ lane: 'unit', mode: 'serial' });
      startBuild('create-empty-index')('complete');
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      up = false;
      const down = await fetch(`${base}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ ready: false, checks: { broker: 'down' } });
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await metrics.text();
      expect(text).toMatch(/^iib_lane_routed_total\{lane="unit",mode="serial"\} 1$/m);
      expect(text).toMatch(
        /^iib_build_duration_seconds_count\{request_type="create-empty-index",outcome="complete"\} 1$/m,
      );
      expect(text).toMatch(/^iib_builds_running\{request_type="create-empty-index"\} 0$/m);
      // collectDefaultMetrics: the process metrics come with the listener.
      expect(text).toMatch(/^process_cpu_user_seconds_total /m);
      expect((await fetch(`${base}/nope`)).status).toBe(404);
    } finally {
      await listener.close();
    }
  });
});
