import { testImages } from '../support/env';
import { RunningSystem, startSystem, waitForFinal } from '../support/system';
import { startBrokerProxy, TcpProxy } from '../support/tcp-proxy';

jest.setTimeout(300_000);

describe('a broker outage while requests are submitted', () => {
  let proxy: TcpProxy;
  let system: RunningSystem;

  beforeAll(async () => {
    const behind = await startBrokerProxy();
    proxy = behind.proxy;
    system = await startSystem({
      env: { IIB_AMQP_URLS: behind.url },
    });
  });

  afterAll(async () => {
    await system?.stop();
    await proxy?.close();
  });

  it('when the broker is away for 20 s during submissions, then every accepted request still completes', async () => {
    await proxy.down();
    const ids: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await fetch(`${system.api}/builds/create-empty-index`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from_index: testImages.index, binary_image: testImages.binary }),
      });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: number }).id);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await new Promise((r) => setTimeout(r, 17_000));
    const waiting = (await (await fetch(`${system.api}/builds/${ids[0]!}`)).json()) as Record<
      string,
      unknown
    >;
    expect(waiting.state).toBe('in_progress');
    expect(waiting.state_reason).toBe('The request was initiated');
    await proxy.up();
    for (const id of ids) {
      const done = await waitForFinal(system.api, id);
      expect(done.state).toBe('complete');
    }
    expect(system.logs('gateway')).toMatch(/outbox relay publishing again/);
  });
});
