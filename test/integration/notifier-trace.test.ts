import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startNotifier, type Notifier } from '../../services/notifier/notifier';
import { loadTracingConfig } from '../../shared/config/tracing-config';
import { shutdownTracing } from '../../shared/tracing';
import { RheaInstrumentation } from '@iib-ts/instrumentation-rhea';
import { startTracing } from '../../shared/tracing/sdk';
import { amqpUrl, brokerAddress } from '../support/env';
import { subscribeAmqp10, type Amqp10Subscriber } from '../support/amqp10-subscriber';
import {
  captureLog,
  deleteNamespaceQueues,
  EventPublisher,
  notifierConfig,
  requestJson,
  uniqueId,
} from '../support/notifier-harness';

/**
 * The real SDK start path with an in-memory exporter. jest loads modules
 * through its own registry, which require hooks never see, so rhea's link
 * module is patched explicitly (the preload does it in a service).
 */
function startMemoryTracing(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  startTracing(loadTracingConfig({ IIB_OTEL_TRACING: 'true', OTEL_SERVICE_NAME: 'notifier-test' }), {
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    instrumentations: [],
  });
  const rhea = new RheaInstrumentation({ messagingSystem: 'rabbitmq', enabled: false });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the very module instance rhea uses in this registry
  rhea.patchLinkModule(require('rhea/lib/link.js'));
  return exporter;
}

function parseTraceparent(value: unknown): { traceId: string; parentId: string } {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(String(value));
  if (!m) throw new Error(`not a traceparent: ${String(value)}`);
  return { traceId: m[1]!, parentId: m[2]! };
}

function spanNamed(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name);
  if (found.length !== 1)
    throw new Error(`expected one span "${name}", got: ${spans.map((s) => s.name).join(', ')}`);
  return found[0]!;
}

async function finishedSpans(exporter: InMemorySpanExporter, names: string[]): Promise<ReadableSpan[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const spans = exporter.getFinishedSpans();
    if (names.every((n) => spans.some((s) => s.name === n))) return spans;
    if (Date.now() > deadline)
      throw new Error(`spans not finished: ${names.join(', ')}; have ${spans.map((s) => s.name).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('notifier: the external message continues the request’s trace', () => {
  const id = uniqueId('ntr');
  const namespace = `${id}.`;
  const topic = `VirtualTopic.${id}.iib.build.state`;
  let exporter: InMemorySpanExporter;
  let publisher: EventPublisher;
  let sub: Amqp10Subscriber;
  let notifier: Notifier;

  beforeAll(async () => {
    exporter = startMemoryTracing();
    publisher = new EventPublisher(namespace);
    await publisher.connect();
    sub = await subscribeAmqp10(brokerAddress(`topic://${topic}`));
    notifier = await startNotifier(
      notifierConfig(namespace, {
        IIB_MESSAGING_URLS: amqpUrl,
        IIB_MESSAGING_BUILD_STATE_DESTINATION: `topic://${topic}`,
      }),
      captureLog().log,
    );
  });

  afterAll(async () => {
    await notifier?.stop();
    await sub?.close();
    await publisher?.close();
    await deleteNamespaceQueues(namespace);
    await shutdownTracing();
  });

  it('when a traced request’s event is republished, then the external traceparent is the notifier’s send span in the request’s trace', async () => {
    const tracer = trace.getTracer('notifier-test');
    const root = tracer.startSpan('test.request');
    await context.with(trace.setSpan(context.active(), root), () =>
      publisher.publishBuild(requestJson(77, 7, 'complete', 'done'), 'evt-trace-1'),
    );
    root.end();

    const [m] = await sub.waitForCount(1);

    const carried = parseTraceparent(m!.applicationProperties?.traceparent);
    const rootCtx = root.spanContext();
    expect(carried.traceId).toBe(rootCtx.traceId);
    const internalQueue = brokerAddress(`queue://${publisher.queueName('iib.events.build-state')}`);
    const externalTopic = brokerAddress(`topic://${topic}`);
    // Spans end on settlement, which may come after the subscriber's copy.
    const spans = await finishedSpans(exporter, [`process ${internalQueue}`, `send ${externalTopic}`]);
    const relaySend = spanNamed(spans, `send ${internalQueue}`);
    const process = spanNamed(spans, `process ${internalQueue}`);
    const notifierSend = spanNamed(spans, `send ${externalTopic}`);
    for (const s of [relaySend, process, notifierSend]) expect(s.spanContext().traceId).toBe(rootCtx.traceId);
    expect(process.parentSpanContext?.spanId).toBe(relaySend.spanContext().spanId);
    expect(notifierSend.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
    expect(carried.parentId).toBe(notifierSend.spanContext().spanId);
  });
});
