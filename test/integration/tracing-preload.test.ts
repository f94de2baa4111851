import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import { byName, deleteTestQueues, requireBroker, requireBuild, startFixture, tempDir, tracingEnv, uniqueQueue } from './tracing-support';

describe('tracing preload (child processes)', () => {
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    requireBuild();
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await deleteTestQueues();
    await receiver.stop();
  });
  beforeEach(() => receiver.clear());

  it('when a plain rhea program runs with the preload, then its sends and async handlers form one trace', async () => {
    await requireBroker();
    const queueA = uniqueQueue('pipeline-a');
    const queueB = uniqueQueue('pipeline-b');
    const run = startFixture('amqp-pipeline.js', [queueA, queueB], tracingEnv(receiver, { IIB_OTEL_BUFFER_DIR: tempDir('buf') }));
    await run.waitForLine((l) => l === 'done');
    expect(await run.exited).toEqual({ code: 0, signal: null });

    const spans = await receiver.waitFor((s) => s.length >= 5);
    const root = byName(spans, 'fixture.request');
    const sendA = byName(spans, `send ${queueA}`);
    const processA = byName(spans, `process ${queueA}`);
    const sendB = byName(spans, `send ${queueB}`);
    const processB = byName(spans, `process ${queueB}`);
    for (const s of [sendA, processA, sendB, processB]) expect(s.traceId).toBe(root.traceId);
    expect(sendA.parentSpanId).toBe(root.spanId);
    expect(processA.parentSpanId).toBe(sendA.spanId);
    expect(sendB.parentSpanId).toBe(processA.spanId);
    expect(processB.parentSpanId).toBe(sendB.spanId);
    expect(sendA).toMatchObject({ kind: 'PRODUCER', serviceName: 'tracing-fixture', status: { code: 'OK' } });
    expect(processA).toMatchObject({ kind: 'CONSUMER', status: { code: 'OK' } });
    expect(processA.links.map((l) => l.spanId)).toEqual([sendA.spanId]);
    expect(sendA.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.destination.name': queueA,
      'messaging.message.id': 'fixture-a',
      'messaging.message.conversation_id': 'corr-1',
      'messaging.message.body.size': 5,
      'server.address': '127.0.0.1',
      'server.port': 5672,
    });
    expect(JSON.stringify(spans)).not.toContain('guest');
  });
});
