import { Connection, create_container } from 'rhea';
import { amqpUrl, rabbitmqManagementUrl, testImages } from '../support/env';
import { RunningSystem, startSystem } from '../support/system';
import { startTcpProxy, TcpProxy } from '../support/tcp-proxy';

jest.setTimeout(300_000);

const COUNT = 1000;

async function queueDepth(name: string): Promise<number> {
  const base = new URL(rabbitmqManagementUrl);
  const auth = Buffer.from(`${base.username}:${base.password}`).toString('base64');
  const res = await fetch(`${base.protocol}//${base.host}/api/queues/%2F/${encodeURIComponent(name)}`, {
    headers: { authorization: `Basic ${auth}` },
  });
  if (res.status === 404) return 0;
  return ((await res.json()) as { messages?: number }).messages ?? 0;
}

/** Takes every message off a queue and returns the request ids they carry. */
async function drain(queue: string): Promise<number[]> {
  const u = new URL(amqpUrl);
  const conn: Connection = create_container().connect({
    host: u.hostname,
    port: Number(u.port || 5672),
    username: u.username,
    password: u.password,
    reconnect: false,
  });
  const ids: number[] = [];
  const receiver = conn.open_receiver({ source: { address: `/amq/queue/${queue}` }, credit_window: 200 });
  receiver.on('message', (ctx) => {
    const body = JSON.parse(ctx.message?.body as string) as { id: number };
    ids.push(body.id);
  });
  let last = -1;
  while (ids.length !== last) {
    last = ids.length;
    await new Promise((r) => setTimeout(r, 1500));
  }
  conn.close();
  return ids;
}

describe('intake while the broker is down', () => {
  let proxy: TcpProxy;
  let system: RunningSystem;

  beforeAll(async () => {
    const broker = new URL(amqpUrl);
    proxy = await startTcpProxy(broker.hostname, Number(broker.port || 5672));
    // No builder: the requests stay on their lane, where they are counted.
    system = await startSystem({
      services: ['gateway', 'scheduler'],
      env: {
        IIB_AMQP_URLS: proxy.url('amqp', `${broker.username}:${broker.password}`),
        IIB_LOG_LEVEL: 'info',
      },
    });
  });

  afterAll(async () => {
    await system?.stop();
    await proxy?.close();
  });

  it('when 1,000 requests are submitted with the broker down, then all reach the scheduler once it is back, none twice', async () => {
    await proxy.down();
    const body = JSON.stringify({ from_index: testImages.index, binary_image: testImages.binary });
    const ids: number[] = [];
    for (let i = 0; i < COUNT; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, () =>
          fetch(`${system.api}/builds/create-empty-index`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          }),
        ),
      );
      for (const res of batch) {
        expect(res.status).toBe(201);
        ids.push(((await res.json()) as { id: number }).id);
      }
    }
    expect(new Set(ids).size).toBe(COUNT);
    const lane = `${system.namespace}.iib.build.parallel.iib`;
    expect(await queueDepth(lane)).toBe(0);

    await proxy.up();
    const deadline = Date.now() + 120_000;
    while ((await queueDepth(lane)) < COUNT && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 500));
    const routed = await drain(lane);
    expect(routed.length).toBe(COUNT);
    expect(new Set(routed)).toEqual(new Set(ids));
    const logs = system.logs('scheduler');
    expect((logs.match(/"msg":"request routed"/g) ?? []).length).toBe(COUNT);
  });
});
