import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError } from './env';

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

type Env = Readonly<Record<string, string | undefined>>;

export function loadTracingConfig(env: Env = process.env, scriptPath = process.argv[1]): TracingConfig {
  return {
    enabled: bool(env, 'IIB_OTEL_TRACING', false),
    serviceName: nonEmpty(env.OTEL_SERVICE_NAME) ?? serviceNameFromScript(scriptPath),
    tracesExporters: listOf(env, 'OTEL_TRACES_EXPORTER', TRACES_EXPORTERS, ['otlp']),
    otlpProtocol:
      oneOf(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', OTLP_PROTOCOLS) ??
      oneOf(env, 'OTEL_EXPORTER_OTLP_PROTOCOL', OTLP_PROTOCOLS) ??
      'http/protobuf',
    metricsExporterConfigured: nonEmpty(env.OTEL_METRICS_EXPORTER) !== undefined,
    logsExporterConfigured: nonEmpty(env.OTEL_LOGS_EXPORTER) !== undefined,
    extraInstrumentations: list(env.IIB_OTEL_EXTRA_INSTRUMENTATIONS, []),
    disabledInstrumentations: listOf(
      env,
      'IIB_OTEL_DISABLED_INSTRUMENTATIONS',
      BUILT_IN_INSTRUMENTATIONS,
      [],
    ),
    // Each layer span costs as much as the request's own work on a fast route;
    // a typo must not silently bring them all back (or drop them), so it fails.
    expressLayers: listOf(env, 'IIB_OTEL_EXPRESS_LAYERS', EXPRESS_LAYER_KINDS, []),
    pgRequireParentSpan: bool(env, 'IIB_OTEL_PG_REQUIRE_PARENT_SPAN', true),
    amqp: loadAmqpTracingConfig(env),
    buffer: {
      enabled: bool(env, 'IIB_OTEL_BUFFER', true),
      dir: nonEmpty(env.IIB_OTEL_BUFFER_DIR) ?? path.join(os.tmpdir(), 'iib-otel-buffer'),
      maxBytes: positiveInt(env, 'IIB_OTEL_BUFFER_MAX_BYTES', 64 * 1024 * 1024),
      maxSpans: positiveInt(env, 'IIB_OTEL_BUFFER_MAX_SPANS', 100_000),
      retryMs: positiveInt(env, 'IIB_OTEL_BUFFER_RETRY_MS', 5_000),
    },
  };
}

/** The AMQP part alone, so the rhea instrumentation gets its defaults without the rest. */
export function loadAmqpTracingConfig(env: Env = process.env): AmqpTracingConfig {
  return {
    messagingSystem: nonEmpty(env.IIB_MESSAGING_SYSTEM) ?? messagingSystemOfDialect(env.IIB_BROKER_DIALECT),
    useLinksForConsume: bool(env, 'IIB_OTEL_AMQP_USE_LINKS_FOR_CONSUME', false),
    settleTimeoutMs: positiveInt(env, 'IIB_OTEL_AMQP_SETTLE_TIMEOUT_MS', 60_000),
    recordBodySize: bool(env, 'IIB_OTEL_AMQP_RECORD_BODY_SIZE', false),
  };
}

function listOf<T extends string>(env: Env, key: string, values: readonly T[], fallback: T[]): T[] {
  const items = list(env[key], fallback);
  const bad = items.filter((i) => !(values as readonly string[]).includes(i));
  if (bad.length > 0) invalid(key, `unknown ${bad.join(', ')}; accepted: ${values.join(', ')}`);
  return items as T[];
}

function oneOf<T extends string>(env: Env, key: string, values: readonly T[]): T | undefined {
  const raw = nonEmpty(env[key]);
  if (raw !== undefined && !(values as readonly string[]).includes(raw)) {
    invalid(key, `expected one of ${values.join(', ')}, got "${raw}"`);
  }
  return raw as T | undefined;
}

/** Same shape as the service configuration's errors, so loadOrExit prints it without a stack. */
function invalid(key: string, why: string): never {
  throw new ConfigError(`Configuration ${key} is invalid: ${why}`);
}

/**
 * The semconv `messaging.system` of the broker the dialect talks to (Artemis
 * is ActiveMQ Artemis). Unset follows the dialect's own default, RabbitMQ.
 */
function messagingSystemOfDialect(dialect: string | undefined): string {
  const d = nonEmpty(dialect)?.toLowerCase();
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

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function list(value: string | undefined, fallback: string[]): string[] {
  const items = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return items.length > 0 ? items : fallback;
}

// Tracing must never stop a service from starting, but a typo in a switch
// should not be silently read as "off" either: fail fast like the rest of config.
function bool(env: Env, key: string, fallback: boolean): boolean {
  const raw = nonEmpty(env[key])?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  invalid(key, `expected true or false, got "${raw}"`);
}

function positiveInt(env: Env, key: string, fallback: number): number {
  const raw = nonEmpty(env[key]);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) invalid(key, `expected a positive integer, got "${raw}"`);
  return n;
}
