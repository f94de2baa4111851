import { testImages } from '../support/env';
import { hasMetric, sampleSum, scrape } from '../support/prometheus-text';
import { freePort, RunningSystem, startSystem, waitForFinal } from '../support/system';
import { startBrokerProxy, TcpProxy } from '../support/tcp-proxy';

jest.setTimeout(240_000);

/**
 * The four services as processes, each with /healthz, /readyz and /metrics:
 * the gateway on its API port, the others on IIB_HEALTH_PORT. The scheduler
 * reaches the broker through a proxy, so the broker can be taken from it alone.
 */
describe('health, readiness and metrics of every service', () => {
  let proxy: TcpProxy;
  let system: RunningSystem;
  const ports: Record<'scheduler' | 'builder' | 'notifier', number> = {
    scheduler: 0,
    builder: 0,
    notifier: 0,
  };
  let gatewayBase: string;

  const opsUrl = (service: keyof typeof ports, path: string): string =>
    `http://127.0.0.1:${ports[service]}${path}`;

  beforeAll(async () => {
    const behind = await startBrokerProxy();
    proxy = behind.proxy;
    for (const s of Object.keys(ports) as (keyof typeof ports)[]) ports[s] = await freePort();
    system = await startSystem({
      serviceEnv: {
        scheduler: { IIB_HEALTH_PORT: String(ports.scheduler), IIB_AMQP_URLS: behind.url },
        builder: { IIB_HEALTH_PORT: String(ports.builder) },
        notifier: { IIB_HEALTH_PORT: String(ports.notifier) },
      },
    });
    gatewayBase = system.api.replace(/\/api\/v1$/, '');
  });

  afterAll(async () => {
    await system?.stop();
    await proxy?.close();
  });

  it('when one create-empty-index went through, then each service counted its part', async () => {
    const res = await fetch(`${system.api}/builds/create-empty-index`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from_index: testImages.index, binary_image: testImages.binary }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: number };
    expect((await waitForFinal(system.api, id)).state).toBe('complete');

    const gateway = await scrape(`${gatewayBase}/metrics`);
    expect(
      sampleSum(gateway, 'iib_requests_accepted_total', {
        request_type: 'create-empty-index',
        user: 'unauthenticated',
      }),
    ).toBe(1);
    expect(
      sampleSum(gateway, 'iib_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/v1/builds/create-empty-index',
        status: '201',
      }),
    ).toBe(1);
    expect(
      sampleSum(gateway, 'iib_http_request_duration_seconds_count', { route: '/api/v1/builds/:id' }),
    ).toBeGreaterThan(0);
    expect(hasMetric(gateway, 'iib_outbox_backlog_rows')).toBe(true);
    expect(hasMetric(gateway, 'iib_outbox_oldest_age_seconds')).toBe(true);
    expect(hasMetric(gateway, 'process_resident_memory_bytes')).toBe(true);

    const scheduler = await scrape(opsUrl('scheduler', '/metrics'));
    expect(sampleSum(scheduler, 'iib_lane_routed_total', { lane: 'iib', mode: 'parallel' })).toBe(1);

    const builder = await scrape(opsUrl('builder', '/metrics'));
    expect(
      sampleSum(builder, 'iib_build_duration_seconds_count', {
        request_type: 'create-empty-index',
        outcome: 'complete',
      }),
    ).toBe(1);
    expect(sampleSum(builder, 'iib_builds_running')).toBe(0);
    expect(sampleSum(builder, 'iib_tool_runs_total', { tool: 'buildah', exit_code: '0' })).toBeGreaterThan(0);
    expect(sampleSum(builder, 'iib_tool_runs_total', { tool: 'skopeo' })).toBeGreaterThan(0);
    expect(sampleSum(builder, 'iib_broker_connections_open', { broker: 'internal' })).toBeGreaterThan(0);

    // in_progress and complete: the notifier may still be sending the last one.
    const deadline = Date.now() + 20_000;
    let published: number;
    for (;;) {
      const notifier = await scrape(opsUrl('notifier', '/metrics'));
      published = sampleSum(notifier, 'iib_state_messages_published_total', { kind: 'build state' });
      if (published >= 2 || Date.now() > deadline) {
        expect(sampleSum(notifier, 'iib_state_messages_pending')).toBe(0);
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(published).toBeGreaterThanOrEqual(2);

    // Outbox drained: the backlog read at scrape time is empty.
    const after = await scrape(`${gatewayBase}/metrics`);
    expect(sampleSum(after, 'iib_outbox_backlog_rows')).toBe(0);
  });

  it('when probed, then every service is live and ready, and answers 404 elsewhere', async () => {
    for (const base of [gatewayBase, ...Object.keys(ports).map((s) => opsUrl(s as keyof typeof ports, ''))]) {
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
    }
    const gatewayReady = (await (await fetch(`${gatewayBase}/readyz`)).json()) as { checks: object };
    expect(gatewayReady.checks).toEqual({ database: 'ok', broker: 'ok' });
    expect((await fetch(opsUrl('builder', '/other'))).status).toBe(404);
    // IIB's own health check is still there.
    expect((await fetch(`${system.api}/healthcheck`)).status).toBe(200);
  });

  it('when the broker is taken from the scheduler, then only its readiness goes false, and comes back after', async () => {
    await proxy.down();
    try {
      await until(async () => (await fetch(opsUrl('scheduler', '/readyz'))).status === 503, 15_000);
      const body = await (await fetch(opsUrl('scheduler', '/readyz'))).json();
      expect(body).toEqual({ ready: false, checks: { broker: 'down' } });
      // Liveness does not follow a dependency: restarting would not bring the broker back.
      expect((await fetch(opsUrl('scheduler', '/healthz'))).status).toBe(200);
      expect((await fetch(opsUrl('builder', '/readyz'))).status).toBe(200);
      expect((await fetch(`${gatewayBase}/readyz`)).status).toBe(200);
    } finally {
      await proxy.up();
    }
    await until(async () => (await fetch(opsUrl('scheduler', '/readyz'))).status === 200, 30_000);
    const scheduler = await scrape(opsUrl('scheduler', '/metrics'));
    expect(
      sampleSum(scheduler, 'iib_broker_reconnects_total', { broker: 'internal' }),
    ).toBeGreaterThanOrEqual(1);
  });
});

async function until(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
