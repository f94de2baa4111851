import type { Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import type { TracingConfig } from '../config/tracing-config';
import { loadExtraInstrumentations } from './extra-instrumentations';
import { RheaInstrumentation } from './rhea-instrumentation';
import type { TracingWarn } from './tracing-log';

export const BUILT_IN_INSTRUMENTATIONS = ['http', 'express', 'pg', 'pino', 'rhea'] as const;

/**
 * The instrumentation list: our built-in ones minus those disabled by
 * configuration, plus the packages a deployment names in
 * `IIB_OTEL_EXTRA_INSTRUMENTATIONS` (no code change needed to add one).
 */
export function buildInstrumentations(config: TracingConfig, warn: TracingWarn): Instrumentation[] {
  const factories: Record<(typeof BUILT_IN_INSTRUMENTATIONS)[number], () => Instrumentation> = {
    http: () => new HttpInstrumentation(),
    express: () => new ExpressInstrumentation(),
    pg: () => new PgInstrumentation(),
    // Log correlation (trace_id/span_id in every line) always; shipping log
    // records over OTLP only when a logs exporter is configured.
    pino: () => new PinoInstrumentation({ disableLogSending: !config.logsExporterConfigured }),
    rhea: () =>
      new RheaInstrumentation({
        messagingSystem: config.amqp.messagingSystem,
        useLinksForConsume: config.amqp.useLinksForConsume,
        settleTimeoutMs: config.amqp.settleTimeoutMs,
      }),
  };
  const disabled = new Set(config.disabledInstrumentations);
  const builtIns = BUILT_IN_INSTRUMENTATIONS.filter((name) => !disabled.has(name)).map((name) =>
    factories[name](),
  );
  return [...builtIns, ...loadExtraInstrumentations(config.extraInstrumentations, warn)];
}
