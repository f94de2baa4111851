import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod/v4';
import { Env, setting } from './env';

/**
 * Tracing configuration. Only this module reads the environment for tracing;
 * the OpenTelemetry SDK and the OTLP exporter additionally read the standard
 * `OTEL_*` variables themselves (listed in `STANDARD_OTEL_VARIABLES` for the
 * documentation), so a deployment configures them exactly as for any
 * OpenTelemetry program.
 */
export interface TracingConfig {
  /** `IIB_OTEL_TRACING`: IIB's switch. Anything but `true` leaves tracing off (the preload then does nothing). */
  readonly enabled: boolean;
  /**
   * `OTEL_SERVICE_NAME`; when unset, `iib-<svc>` derived from a script path
   * `.../services/<svc>/main.js`, else the SDK's `unknown_service:node`.
   */
  readonly serviceName: string | undefined;
  /** `OTEL_TRACES_EXPORTER` (default `otlp`). `none` keeps context propagation but exports nothing. */
  readonly tracesExporters: readonly string[];
  /**
   * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` / `OTEL_EXPORTER_OTLP_PROTOCOL`
   * (default `http/protobuf`, the only protocol whose exporter is a direct dependency).
   */
  readonly otlpProtocol: string;
  /** Whether `OTEL_METRICS_EXPORTER` is set; unset means no metrics (the SDK would default to OTLP). */
  readonly metricsExporterConfigured: boolean;
  /** Whether `OTEL_LOGS_EXPORTER` is set; unset means no OTLP logs (pino keeps writing its own lines). */
  readonly logsExporterConfigured: boolean;
  /**
   * `IIB_OTEL_EXTRA_INSTRUMENTATIONS`: comma-separated package names whose exported
   * Instrumentation classes are instantiated, e.g. `@scope/pkg,other-pkg`;
   * `pkg#ExportName` picks one export.
   */
  readonly extraInstrumentations: readonly string[];
  /** `IIB_OTEL_DISABLED_INSTRUMENTATIONS`: built-in ones to leave out: `http,express,pg,pino,rhea`. */
  readonly disabledInstrumentations: readonly string[];
  /**
   * `IIB_OTEL_EXPRESS_LAYERS`: express layer types that get their own span:
   * `middleware`, `router`, `request_handler` (default none). The SERVER span
   * is named after the route either way.
   */
  readonly expressLayers: readonly ExpressLayerKind[];
  /**
   * `IIB_OTEL_PG_REQUIRE_PARENT_SPAN` (default `true`): a query outside any
   * span (migrations, background polling) gets no span of its own.
   */
  readonly pgRequireParentSpan: boolean;
  readonly amqp: AmqpTracingConfig;
  readonly buffer: SpanBufferConfig;
}

export const EXPRESS_LAYER_KINDS = ['middleware', 'router', 'request_handler'] as const;

/** The instrumentations `IIB_OTEL_DISABLED_INSTRUMENTATIONS` may name (shared/tracing/instrumentations.ts builds them). */
export const BUILT_IN_INSTRUMENTATIONS = ['http', 'express', 'pg', 'pino', 'rhea'] as const;

/** What the SDK's `OTEL_TRACES_EXPORTER` accepts; an unknown one only warns there, and no span leaves. */
export const TRACES_EXPORTERS = ['otlp', 'zipkin', 'jaeger', 'console', 'none'] as const;

/** The OTLP protocols the SDK knows. */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export type ExpressLayerKind = (typeof EXPRESS_LAYER_KINDS)[number];

export interface AmqpTracingConfig {
  /**
   * `IIB_MESSAGING_SYSTEM`: the `messaging.system` attribute. Default from
   * `IIB_BROKER_DIALECT`: `activemq` for activemq/artemis, else `rabbitmq`.
   */
  readonly messagingSystem: string;
  /**
   * `IIB_OTEL_AMQP_USE_LINKS_FOR_CONSUME` (default `false`): `false` makes the
   * message's creation context the parent of the process span (one trace per
   * request, the semconv's opt-in); `true` starts a new trace and only links it.
   */
  readonly useLinksForConsume: boolean;
  /** `IIB_OTEL_AMQP_SETTLE_TIMEOUT_MS` (default 60000): a span whose delivery is never settled ends after this. */
  readonly settleTimeoutMs: number;
  /**
   * `IIB_OTEL_AMQP_RECORD_BODY_SIZE` (default `false`): add
   * `messaging.message.body.size` to message spans (opt-in in the semantic
   * conventions: it is one more attribute on every message span).
   */
  readonly recordBodySize: boolean;
}

export interface SpanBufferConfig {
  /** `IIB_OTEL_BUFFER` (default `true`): keep spans on disk while the collector is unreachable. */
  readonly enabled: boolean;
  /**
   * `IIB_OTEL_BUFFER_DIR` (default `<tmpdir>/iib-otel-buffer`); spans go to a
   * sub-directory per service name. It must survive restarts to deliver the
   * spans of a previous run.
   */
  readonly dir: string;
  /** `IIB_OTEL_BUFFER_MAX_BYTES` (default 64 MiB): oldest files are dropped beyond this. */
  readonly maxBytes: number;
  /** `IIB_OTEL_BUFFER_MAX_SPANS` (default 100000): oldest files are dropped beyond this. */
  readonly maxSpans: number;
  /** `IIB_OTEL_BUFFER_RETRY_MS` (default 5000): how often a buffered file is offered to the collector. */
  readonly retryMs: number;
}

/**
 * Standard variables read where the SDK reads them (the SDK, the OTLP
 * exporter, and `EncodingSpanProcessor` for `OTEL_BSP_*`, through the SDK's
 * own `getNumberFromEnv`); documented, not parsed here.
 */
export const STANDARD_OTEL_VARIABLES = [
  'OTEL_SDK_DISABLED',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_PROPAGATORS',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_COMPRESSION',
  'OTEL_EXPORTER_OTLP_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
  'OTEL_EXPORTER_OTLP_CLIENT_KEY',
  'OTEL_BSP_MAX_QUEUE_SIZE',
  'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_BSP_EXPORT_TIMEOUT',
  'OTEL_LOG_LEVEL',
] as const;

/** Tracing's own switches: only `true`/`1` and `false`/`0` (a typo must not silently read as "off"). */
const onOff = (): z.ZodType<boolean> =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(
      z.stringbool({
        truthy: ['true', '1'],
        falsy: ['false', '0'],
        error: (iss) => `expected true or false, got "${String(iss.input)}"`,
      }),
    );

const positiveInt = (): z.ZodType<number> =>
  z
    .string()
    .trim()
    .refine((v) => Number.isInteger(Number(v)) && Number(v) > 0, {
      error: (iss) => `expected a positive integer, got "${String(iss.input)}"`,
    })
    .transform(Number);

/** `a, b, c` (comma-separated names); an empty list is `fallback`. */
const names = (fallback: readonly string[] = []): z.ZodType<string[]> =>
  z.string().transform((v) => {
    const items = v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    return items.length > 0 ? items : [...fallback];
  });

/** Names that must each be one of `values`. */
function namesOf<const T extends readonly string[]>(
  values: T,
  fallback: T[number][] = [],
): z.ZodType<T[number][]> {
  return names(fallback).transform((items, ctx) => {
    const bad = items.filter((i) => !values.includes(i));
    if (bad.length === 0) return items;
    ctx.issues.push({
      code: 'custom',
      message: `unknown ${bad.join(', ')}; accepted: ${values.join(', ')}`,
      input: items,
    });
    return z.NEVER;
  });
}

const protocol = (): z.ZodType<(typeof OTLP_PROTOCOLS)[number]> =>
  z
    .string()
    .trim()
    .pipe(
      z.enum(OTLP_PROTOCOLS, {
        error: (iss) => `expected one of ${OTLP_PROTOCOLS.join(', ')}, got "${String(iss.input)}"`,
      }),
    );

const trimmed = (): z.ZodType<string | undefined> =>
  z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v));

/** Every tracing key, declared once (the SDK reads the standard ones it alone uses). */
export const TRACING_SETTINGS = {
  enabled: setting({ key: 'IIB_OTEL_TRACING', doc: 'Turn tracing on', schema: onOff(), default: 'false' }),
  serviceName: setting({
    key: 'OTEL_SERVICE_NAME',
    doc: 'Service name (default iib-<svc> from the script path)',
    schema: trimmed(),
    optional: true,
  }),
  tracesExporters: setting({
    key: 'OTEL_TRACES_EXPORTER',
    doc: 'Span exporters, comma separated',
    schema: namesOf(TRACES_EXPORTERS, ['otlp']),
    default: 'otlp',
  }),
  tracesProtocol: setting({
    key: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
    doc: 'OTLP protocol of spans',
    schema: protocol(),
    optional: true,
  }),
  protocol: setting({
    key: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    doc: 'OTLP protocol (when OTEL_EXPORTER_OTLP_TRACES_PROTOCOL is unset)',
    schema: protocol(),
    optional: true,
  }),
  metricsExporter: setting({
    key: 'OTEL_METRICS_EXPORTER',
    doc: 'Metrics exporter; read by the SDK (unset: no OpenTelemetry metrics)',
    schema: trimmed(),
    optional: true,
  }),
  logsExporter: setting({
    key: 'OTEL_LOGS_EXPORTER',
    doc: 'Logs exporter; read by the SDK (unset: no OTLP logs)',
    schema: trimmed(),
    optional: true,
  }),
  extraInstrumentations: setting({
    key: 'IIB_OTEL_EXTRA_INSTRUMENTATIONS',
    doc: 'Packages whose Instrumentation classes are added, comma separated (pkg#Export picks one)',
    schema: names(),
    default: '',
  }),
  disabledInstrumentations: setting({
    key: 'IIB_OTEL_DISABLED_INSTRUMENTATIONS',
    doc: 'Built-in instrumentations to leave out',
    schema: namesOf(BUILT_IN_INSTRUMENTATIONS),
    default: '',
  }),
  // Each layer span costs as much as the request's own work on a fast route;
  // a typo must not silently bring them all back (or drop them), so it fails.
  expressLayers: setting({
    key: 'IIB_OTEL_EXPRESS_LAYERS',
    doc: 'Express layer types that get a span of their own',
    schema: namesOf(EXPRESS_LAYER_KINDS),
    default: '',
  }),
  pgRequireParentSpan: setting({
    key: 'IIB_OTEL_PG_REQUIRE_PARENT_SPAN',
    doc: 'A query outside any span gets no span',
    schema: onOff(),
    default: 'true',
  }),
  bufferEnabled: setting({
    key: 'IIB_OTEL_BUFFER',
    doc: 'Keep spans on disk while the collector is unreachable',
    schema: onOff(),
    default: 'true',
  }),
  bufferDir: setting({
    key: 'IIB_OTEL_BUFFER_DIR',
    doc: 'Directory of buffered spans (default <tmpdir>/iib-otel-buffer)',
    schema: trimmed(),
    optional: true,
  }),
  bufferMaxBytes: setting({
    key: 'IIB_OTEL_BUFFER_MAX_BYTES',
    doc: 'Bytes of buffered spans kept',
    schema: positiveInt(),
    default: String(64 * 1024 * 1024),
  }),
  bufferMaxSpans: setting({
    key: 'IIB_OTEL_BUFFER_MAX_SPANS',
    doc: 'Buffered spans kept',
    schema: positiveInt(),
    default: '100000',
  }),
  bufferRetryMs: setting({
    key: 'IIB_OTEL_BUFFER_RETRY_MS',
    doc: 'How often a buffered file is offered to the collector',
    schema: positiveInt(),
    default: '5000',
  }),
};

export const AMQP_TRACING_SETTINGS = {
  messagingSystem: setting({
    key: 'IIB_MESSAGING_SYSTEM',
    doc: 'messaging.system of AMQP spans (default from IIB_BROKER_DIALECT)',
    schema: trimmed(),
    optional: true,
  }),
  useLinksForConsume: setting({
    key: 'IIB_OTEL_AMQP_USE_LINKS_FOR_CONSUME',
    doc: "A consumed message starts a new trace linked to the sender's",
    schema: onOff(),
    default: 'false',
  }),
  settleTimeoutMs: setting({
    key: 'IIB_OTEL_AMQP_SETTLE_TIMEOUT_MS',
    doc: 'A message span whose delivery is never settled ends after this',
    schema: positiveInt(),
    default: '60000',
  }),
  recordBodySize: setting({
    key: 'IIB_OTEL_AMQP_RECORD_BODY_SIZE',
    doc: 'Add messaging.message.body.size to message spans',
    schema: onOff(),
    default: 'false',
  }),
};

export function loadTracingConfig(env: Env = process.env, scriptPath = process.argv[1]): TracingConfig {
  const t = TRACING_SETTINGS;
  return {
    enabled: t.enabled.read(env),
    serviceName: t.serviceName.read(env) ?? serviceNameFromScript(scriptPath),
    tracesExporters: t.tracesExporters.read(env),
    // The second key is read only when the first is unset, as the SDK does.
    otlpProtocol: t.tracesProtocol.read(env) ?? t.protocol.read(env) ?? 'http/protobuf',
    metricsExporterConfigured: t.metricsExporter.read(env) !== undefined,
    logsExporterConfigured: t.logsExporter.read(env) !== undefined,
    extraInstrumentations: t.extraInstrumentations.read(env),
    disabledInstrumentations: t.disabledInstrumentations.read(env),
    expressLayers: t.expressLayers.read(env),
    pgRequireParentSpan: t.pgRequireParentSpan.read(env),
    amqp: loadAmqpTracingConfig(env),
    buffer: {
      enabled: t.bufferEnabled.read(env),
      dir: t.bufferDir.read(env) ?? path.join(os.tmpdir(), 'iib-otel-buffer'),
      maxBytes: t.bufferMaxBytes.read(env),
      maxSpans: t.bufferMaxSpans.read(env),
      retryMs: t.bufferRetryMs.read(env),
    },
  };
}

/** The AMQP part alone, so the rhea instrumentation gets its defaults without the rest. */
export function loadAmqpTracingConfig(env: Env = process.env): AmqpTracingConfig {
  const a = AMQP_TRACING_SETTINGS;
  return {
    messagingSystem: a.messagingSystem.read(env) ?? messagingSystemOfDialect(env.IIB_BROKER_DIALECT),
    useLinksForConsume: a.useLinksForConsume.read(env),
    settleTimeoutMs: a.settleTimeoutMs.read(env),
    recordBodySize: a.recordBodySize.read(env),
  };
}

/**
 * The semconv `messaging.system` of the broker the dialect talks to (Artemis
 * is ActiveMQ Artemis). Unset follows the dialect's own default, RabbitMQ.
 */
function messagingSystemOfDialect(dialect: string | undefined): string {
  const d = dialect?.trim().toLowerCase();
  return d === 'activemq' || d === 'artemis' ? 'activemq' : 'rabbitmq';
}

/** `.../services/<svc>/main.js` → `iib-<svc>`, so a service is named without any configuration. */
export function serviceNameFromScript(scriptPath: string | undefined): string | undefined {
  if (!scriptPath) return undefined;
  const parts = path.resolve(scriptPath).split(path.sep);
  const i = parts.lastIndexOf('services');
  const svc = i >= 0 ? parts[i + 1] : undefined;
  return svc && i + 2 < parts.length ? `iib-${svc}` : undefined;
}
