import * as fs from 'node:fs';
import * as path from 'node:path';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver';
import {
  AMQP,
  byName,
  deleteTestQueues,
  FIXTURES,
  MESSAGING_SYSTEM,
  requireBroker,
  requireBuild,
  startFixture,
  tempDir,
  tracingEnv,
  uniqueQueue,
} from './tracing-support';

interface LogLine {
  msg?: string;
  phase?: string;
  trace_id?: string;
  span_id?: string;
  ids?: { traceId: string; spanId: string };
}

const jsonLines = (out: string): LogLine[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);

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
    const run = startFixture(
      'amqp-pipeline.js',
      [queueA, queueB],
      tracingEnv(receiver, { IIB_OTEL_BUFFER_DIR: tempDir('buf'), IIB_OTEL_AMQP_RECORD_BODY_SIZE: 'true' }),
    );
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
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.destination.name': queueA,
      'messaging.message.id': 'fixture-a',
      'messaging.message.conversation_id': 'corr-1',
      'messaging.message.body.size': 5,
      'server.address': AMQP.host,
      'server.port': AMQP.port,
    });
    expect(JSON.stringify(spans)).not.toContain('guest');
  });

  it('when a pino logger is created after the preload, then lines written inside a span carry its trace_id and span_id, and others none', async () => {
    const run = startFixture(
      'one-span.js',
      [],
      tracingEnv(receiver, { IIB_OTEL_BUFFER_DIR: tempDir('buf') }),
    );
    expect(await run.exited).toEqual({ code: 0, signal: null });
    const lines = jsonLines(run.stdout());
    const ids = lines.find((l) => l.ids)!.ids!;
    const byPhase = (phase: string): LogLine => lines.find((l) => l.phase === phase)!;
    expect(byPhase('inside')).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId });
    expect(byPhase('before').trace_id).toBeUndefined();
    expect(byPhase('after').trace_id).toBeUndefined();
    const spans = await receiver.waitFor((s) => s.some((x) => x.name === 'fixture.work'));
    expect(byName(spans, 'fixture.work')).toMatchObject({ traceId: ids.traceId, spanId: ids.spanId });
  });

  it('when IIB_OTEL_TRACING is not true, then the preload loads no SDK and the helpers are no-ops', async () => {
    const env = tracingEnv(receiver);
    delete env.IIB_OTEL_TRACING;
    const run = startFixture('off-mode.js', [], env);
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(jsonLines(run.stdout())[0]).toEqual({
      sdkLoaded: false,
      instrumentationLoaded: false,
      started: false,
      insideTraceId: null,
    });
  });

  it('when a program without its own SIGTERM handler is terminated, then its spans are flushed and it still dies by SIGTERM', async () => {
    const run = startFixture('idle.js', [], tracingEnv(receiver, { IIB_OTEL_BUFFER_DIR: tempDir('buf') }));
    await run.waitForLine((l) => l === 'ready');
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(receiver.spans().map((s) => s.name)).toContain('fixture.idle');
  });

  it('when IIB_OTEL_EXTRA_INSTRUMENTATIONS names a package, then its Instrumentation class is loaded without code changes', async () => {
    const cwd = tempDir('extra');
    const pkgDir = path.join(cwd, 'node_modules', 'fake-instrumentation');
    fs.mkdirSync(pkgDir, { recursive: true });
    fs.copyFileSync(path.join(FIXTURES, 'fake-instrumentation-package.js'), path.join(pkgDir, 'index.js'));
    const env = tracingEnv(receiver, {
      IIB_OTEL_BUFFER_DIR: tempDir('buf'),
      IIB_OTEL_EXTRA_INSTRUMENTATIONS: 'fake-instrumentation,not-installed-instrumentation',
    });
    const run = startFixture('one-span.js', [], env, cwd);
    expect(await run.exited).toEqual({ code: 0, signal: null });
    const spans = await receiver.waitFor((s) => s.some((x) => x.name === 'fake-instrumentation.loaded'));
    expect(byName(spans, 'fake-instrumentation.loaded').scope.name).toBe('fake-instrumentation');
    expect(run.stderr()).toContain('extra instrumentation package not loaded');
    expect(run.stderr()).toContain('not-installed-instrumentation');
  });
});
