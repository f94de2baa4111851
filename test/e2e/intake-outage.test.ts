import { Connection, create_container } from 'rhea';
import { amqpUrl, brokerAddress, testImages } from '../support/env';
import { queueStats } from '../support/broker-admin';
import { RunningSystem, startSystem } from '../support/system';
import { startBrokerProxy, TcpProxy } from '../support/tcp-proxy';

jest.setTimeout(300_000);

const COUNT = 1000;

/** Messages on a queue; 0 while it does not exist yet. */
async function queueDepth(name: string): Promise<number> {
  return queueStats(name).then(
    (q) => q.messages,
    () => 0,
  );
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
  const receiver = conn.open_receiver({
    source: { address: brokerAddress(`queue://${queue}`) },
    credit_window: 200,
  });
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
    const behind = await startBrokerProxy();
    proxy = behind.proxy;
    // No builder: the requests stay on their lane, where they are counted.
    system = await startSystem({
      services: ['gateway', 'scheduler'],
      env: {
        IIB_AMQP_URLS: behind.url,
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
