import * as path from 'node:path';
import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { TracingConfig } from '../config/tracing-config';
import { EncodingSpanProcessor, type EncodedSpanExporter } from './encoding-span-processor';
import { buildInstrumentations } from './instrumentations';
import { isTracingStarted, setTracingHandle, type TracingHandle } from './lifecycle';
import { OtlpProtoTraceExporter } from './otlp-exporter';
import { BufferingSpanExporter } from './span-buffer';
import { warnTracing, type TracingWarn } from './tracing-log';

export interface StartTracingOptions {
  /** Replace the export pipeline (tests: an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
  /** Replace the instrumentation list. */
  instrumentations?: Instrumentation[];
  warn?: TracingWarn;
}

/**
 * Start the OpenTelemetry SDK once per process. Everything not decided here
 * (sampler, propagators, resource attributes, OTLP endpoint, headers,
 * timeout, compression, TLS files, batch sizes) comes from the standard
 * `OTEL_*` variables, read by the SDK and the exporter themselves.
 */
export function startTracing(config: TracingConfig, options: StartTracingOptions = {}): void {
  if (isTracingStarted()) return;
  const warn = options.warn ?? warnTracing;
  const spanProcessors = options.spanProcessors ?? buildSpanProcessors(config, warn);
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    instrumentations: options.instrumentations ?? buildInstrumentations(config, warn),
    // undefined lets the SDK build its own pipeline from OTEL_TRACES_EXPORTER.
    ...(spanProcessors ? { spanProcessors } : {}),
    // The SDK defaults metrics and logs to OTLP too; a traces-only collector
    // would answer 404 forever. Only an explicit setting turns them on.
    ...(config.metricsExporterConfigured ? {} : { metricReaders: [] }),
    ...(config.logsExporterConfigured ? {} : { logRecordProcessors: [] }),
  });
  sdk.start();
  const handle: TracingHandle = {
    forceFlush: async () => {
      // Whichever pipeline was built (ours or the SDK's from the environment).
      const provider = trace.getTracerProvider() as ProxyTracerProvider;
      const delegate = provider.getDelegate() as { forceFlush?: () => Promise<void> };
      await delegate.forceFlush?.();
    },
    shutdown: () => sdk.shutdown(),
  };
  setTracingHandle(handle);
}

/**
 * OTLP over http/protobuf (the default) goes through our disk buffer; any
 * other exporter choice is left to the SDK's own environment handling.
 */
function buildSpanProcessors(config: TracingConfig, warn: TracingWarn): SpanProcessor[] | undefined {
  const exporters = config.tracesExporters;
  if (exporters.length === 1 && exporters[0] === 'none') return [];
  if (exporters.length !== 1 || exporters[0] !== 'otlp') return undefined;
  if (config.otlpProtocol !== 'http/protobuf') {
    warn('OTLP protocol other than http/protobuf: spans are not buffered while the collector is away', {
      protocol: config.otlpProtocol,
    });
    return undefined;
  }
  // The processor's queue (OTEL_BSP_MAX_QUEUE_SIZE) bounds memory; the
  // buffer makes its export fast while the collector is away.
  return [new EncodingSpanProcessor(createTraceExporter(config, warn), { warn })];
}

export function createTraceExporter(
  config: TracingConfig,
  warn: TracingWarn = warnTracing,
): EncodedSpanExporter {
  const otlp = new OtlpProtoTraceExporter();
  if (!config.buffer.enabled) return otlp;
  return new BufferingSpanExporter(otlp, {
    dir: path.join(config.buffer.dir, safeDirName(config.serviceName ?? 'unknown_service')),
    maxBytes: config.buffer.maxBytes,
    maxSpans: config.buffer.maxSpans,
    retryMs: config.buffer.retryMs,
    warn,
  });
}

function safeDirName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}
