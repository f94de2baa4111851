import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { loadTracingConfig } from '../../../shared/config/tracing-config';
import { RheaInstrumentation, type RheaInstrumentationConfig } from '@iib-ts/instrumentation-rhea';
import { flushTracing } from '../../../shared/tracing/lifecycle';
import { startTracing } from '../../../shared/tracing/sdk';

/**
 * The real SDK start path (context manager, W3C propagators, provider) with
 * an in-memory exporter. jest loads modules through its own registry, which
 * require hooks never see, so rhea's link module is patched explicitly.
 */
export function startMemoryTracing(rheaConfig: RheaInstrumentationConfig = {}): {
  exporter: InMemorySpanExporter;
  rhea: RheaInstrumentation;
} {
  const exporter = new InMemorySpanExporter();
  startTracing(loadTracingConfig({ IIB_OTEL_TRACING: 'true', OTEL_SERVICE_NAME: 'unit-test' }), {
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
    instrumentations: [],
  });
  const rhea = new RheaInstrumentation({ messagingSystem: 'rabbitmq', ...rheaConfig, enabled: false });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the very module instance rhea uses in this registry
  rhea.patchLinkModule(require('rhea/lib/link.js'));
  return { exporter, rhea };
}

/**
 * Resource detection finishes asynchronously, and until it has, spans are
 * exported late: end one span and flush so later spans export synchronously.
 */
export async function warmUp(exporter: InMemorySpanExporter): Promise<void> {
  trace.getTracer('warm-up').startSpan('warm-up').end();
  await flushTracing();
  exporter.reset();
}

export function finished(exporter: InMemorySpanExporter, name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.name === name);
}

/** Poll a condition (for things that happen on a timer or the network); fails with `what` on timeout. */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
