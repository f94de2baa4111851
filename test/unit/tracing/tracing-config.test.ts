import * as os from 'node:os';
import * as path from 'node:path';
import { loadTracingConfig, serviceNameFromScript } from '../../../shared/config/tracing-config';

describe('tracing config', () => {
  it('when nothing is set, then tracing is off and every default applies', () => {
    const config = loadTracingConfig({}, undefined);
    expect(config).toEqual({
      enabled: false,
      serviceName: undefined,
      tracesExporters: ['otlp'],
      otlpProtocol: 'http/protobuf',
      metricsExporterConfigured: false,
      logsExporterConfigured: false,
      extraInstrumentations: [],
      disabledInstrumentations: [],
      expressLayers: [],
      pgRequireParentSpan: true,
      amqp: {
        messagingSystem: 'rabbitmq',
        useLinksForConsume: false,
        settleTimeoutMs: 60_000,
        recordBodySize: false,
      },
      buffer: {
        enabled: true,
        dir: path.join(os.tmpdir(), 'iib-otel-buffer'),
        maxBytes: 64 * 1024 * 1024,
        maxSpans: 100_000,
        retryMs: 5_000,
      },
    });
  });

  it('when variables are set, then they are parsed', () => {
    const config = loadTracingConfig(
      {
        IIB_OTEL_TRACING: 'true',
        OTEL_SERVICE_NAME: 'iib-gateway',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
        OTEL_LOGS_EXPORTER: 'otlp',
        IIB_OTEL_EXTRA_INSTRUMENTATIONS: ' @scope/a , b#Cls ,',
        IIB_OTEL_DISABLED_INSTRUMENTATIONS: 'pg',
        IIB_OTEL_EXPRESS_LAYERS: 'middleware, request_handler',
        IIB_OTEL_PG_REQUIRE_PARENT_SPAN: 'false',
        IIB_MESSAGING_SYSTEM: 'rabbitmq',
        IIB_OTEL_AMQP_USE_LINKS_FOR_CONSUME: '1',
        IIB_OTEL_AMQP_SETTLE_TIMEOUT_MS: '500',
        IIB_OTEL_AMQP_RECORD_BODY_SIZE: 'true',
        IIB_OTEL_BUFFER_DIR: '/var/lib/iib/spans',
        IIB_OTEL_BUFFER_MAX_SPANS: '10',
      },
      undefined,
    );
    expect(config).toMatchObject({
      enabled: true,
      serviceName: 'iib-gateway',
      otlpProtocol: 'grpc',
      logsExporterConfigured: true,
      extraInstrumentations: ['@scope/a', 'b#Cls'],
      disabledInstrumentations: ['pg'],
      expressLayers: ['middleware', 'request_handler'],
      pgRequireParentSpan: false,
      amqp: {
        messagingSystem: 'rabbitmq',
        useLinksForConsume: true,
        settleTimeoutMs: 500,
        recordBodySize: true,
      },
      buffer: { dir: '/var/lib/iib/spans', maxSpans: 10 },
    });
  });

  it('when a switch or a number is malformed, then loading fails naming the variable', () => {
    expect(() => loadTracingConfig({ IIB_OTEL_TRACING: 'yes' })).toThrow('IIB_OTEL_TRACING');
    expect(() => loadTracingConfig({ IIB_OTEL_BUFFER_MAX_BYTES: '-1' })).toThrow('IIB_OTEL_BUFFER_MAX_BYTES');
    expect(() => loadTracingConfig({ IIB_OTEL_EXPRESS_LAYERS: 'middleware,handler' })).toThrow(
      'IIB_OTEL_EXPRESS_LAYERS',
    );
  });

  it('when only the broker dialect is set, then messaging.system follows it', () => {
    expect(loadTracingConfig({ IIB_BROKER_DIALECT: 'artemis' }).amqp.messagingSystem).toBe('activemq');
    expect(loadTracingConfig({ IIB_BROKER_DIALECT: 'activemq' }).amqp.messagingSystem).toBe('activemq');
    expect(loadTracingConfig({ IIB_BROKER_DIALECT: 'rabbitmq' }).amqp.messagingSystem).toBe('rabbitmq');
  });

  it('when no service name is set, then it is derived from a services/<svc>/ script path', () => {
    expect(serviceNameFromScript('/srv/app/dist/services/builder/main.js')).toBe('iib-builder');
    expect(serviceNameFromScript('/srv/app/other.js')).toBeUndefined();
    expect(loadTracingConfig({}, '/srv/app/dist/services/notifier/main.js').serviceName).toBe('iib-notifier');
  });
});
