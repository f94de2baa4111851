import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  TracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { RheaInstrumentation, type RheaInstrumentationConfig } from '../../src';

let provider: TracerProvider | undefined;

/**
 * A tracer provider with an in-memory exporter, the async-hooks context
 * manager and the W3C propagator, registered globally as an SDK would.
 * jest loads modules through its own registry, which require hooks never
 * see, so rhea's link module is patched explicitly.
 */
export function startMemoryTracing(rheaConfig: RheaInstrumentationConfig = {}): {
  exporter: InMemorySpanExporter;
  rhea: RheaInstrumentation;
} {
  const exporter = new InMemorySpanExporter();
  provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const rhea = new RheaInstrumentation({ messagingSystem: 'rabbitmq', ...rheaConfig, enabled: false });
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the very module instance rhea uses in this registry
  rhea.patchLinkModule(require('rhea/lib/link.js'));
  return { exporter, rhea };
}

/** One span ended and flushed before the tests, so later spans export synchronously. */
export async function warmUp(exporter: InMemorySpanExporter): Promise<void> {
  trace.getTracer('warm-up').startSpan('warm-up').end();
  await provider?.forceFlush();
  exporter.reset();
}

export function finished(exporter: InMemorySpanExporter, name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.name === name);
}

/** Poll a condition (for things that happen on a timer); fails with `what` on timeout. */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
