import { isTracingStarted } from '../../../shared/tracing';
import { sendBatch } from '../../../shared/messaging/batch-span';

// No SDK in this file: a gateway replica that does not trace.
describe('sendBatch without tracing', () => {
  it('when no SDK runs, then every message carries the stored creation context unchanged', async () => {
    expect(isTracingStarted()).toBe(false);
    const stored = {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'v=1',
    };
    const seen: Record<string, string>[] = [];
    const results = await sendBatch(
      stored,
      undefined,
      ['/amq/queue/a', '/amq/queue/b'].map((address) => ({
        address,
        send: (headers: Readonly<Record<string, string>>) => {
          seen.push({ ...headers });
          return Promise.resolve(address);
        },
      })),
    );
    expect(results).toEqual([
      { status: 'fulfilled', value: '/amq/queue/a' },
      { status: 'fulfilled', value: '/amq/queue/b' },
    ]);
    expect(seen).toEqual([stored, stored]);
  });
});
