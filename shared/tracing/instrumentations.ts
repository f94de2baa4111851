import type { Instrumentation } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { RheaInstrumentation } from '@iib-ts/instrumentation-rhea';
import { BUILT_IN_INSTRUMENTATIONS } from '../config/tracing-config';
import type { ExpressLayerKind, TracingConfig } from '../config/tracing-config';
import { nameSpanAfterExpressRoute } from './express-route';
import { loadExtraInstrumentations } from './extra-instrumentations';
import { nameQuerySpan } from './pg-span-name';
import type { TracingWarn } from './tracing-log';

const EXPRESS_LAYER_TYPES: Record<ExpressLayerKind, ExpressLayerType> = {
  middleware: ExpressLayerType.MIDDLEWARE,
  router: ExpressLayerType.ROUTER,
  request_handler: ExpressLayerType.REQUEST_HANDLER,
};

function ignoredExpressLayers(traced: readonly ExpressLayerKind[]): ExpressLayerType[] {
  return (Object.keys(EXPRESS_LAYER_TYPES) as ExpressLayerKind[])
    .filter((kind) => !traced.includes(kind))
    .map((kind) => EXPRESS_LAYER_TYPES[kind]);
}

export { BUILT_IN_INSTRUMENTATIONS };

/**
 * The instrumentation list: our built-in ones minus those disabled by
 * configuration, plus the packages a deployment names in
 * `IIB_OTEL_EXTRA_INSTRUMENTATIONS` (no code change needed to add one).
 */
export function buildInstrumentations(config: TracingConfig, warn: TracingWarn): Instrumentation[] {
  const disabled = new Set(config.disabledInstrumentations);
  // express: by default only the SERVER span's route (a hook of the http
  // instrumentation, no patching of express); the upstream instrumentation,
  // which wraps every layer of every request, only when layer spans are asked for.
  const expressLayerSpans = !disabled.has('express') && config.expressLayers.length > 0;
  const routeFromExpress = !disabled.has('express') && !expressLayerSpans;
  const factories: Record<
    (typeof BUILT_IN_INSTRUMENTATIONS)[number],
    () => Instrumentation | Instrumentation[] | undefined
  > = {
    // Incoming requests (the SERVER span, named after the express route when
    // express is not patched) and outgoing ones (http.request, not fetch).
    http: () =>
      new HttpInstrumentation(
        routeFromExpress ? { applyCustomAttributesOnSpan: nameSpanAfterExpressRoute } : {},
      ),
    express: () =>
      expressLayerSpans
        ? new ExpressInstrumentation({ ignoreLayersType: ignoredExpressLayers(config.expressLayers) })
        : undefined,
    // Queries outside a request (migrations, the outbox relay's polling)
    // would each be a trace of one span.
    pg: () =>
      new PgInstrumentation({ requireParentSpan: config.pgRequireParentSpan, requestHook: nameQuerySpan }),
    // Log correlation (trace_id/span_id in every line) always; shipping log
    // records over OTLP only when a logs exporter is configured.
    pino: () => new PinoInstrumentation({ disableLogSending: !config.logsExporterConfigured }),
    rhea: () =>
      new RheaInstrumentation({
        messagingSystem: config.amqp.messagingSystem,
        useLinksForConsume: config.amqp.useLinksForConsume,
        settleTimeoutMs: config.amqp.settleTimeoutMs,
        recordBodySize: config.amqp.recordBodySize,
      }),
  };
  const builtIns = BUILT_IN_INSTRUMENTATIONS.filter((name) => !disabled.has(name)).flatMap(
    (name) => factories[name]() ?? [],
  );
  return [...builtIns, ...loadExtraInstrumentations(config.extraInstrumentations, warn)];
}
