import { ConfigError, loadGatewayConfig, loadOrExit } from '../../../shared/config';
import { keysRead, SERVICE_LOADERS as SERVICES } from '../../support/config-keys';

/**
 * Every key every service reads, each with a bad value: the service must
 * refuse it at start with a message that names the key (and loadOrExit must
 * exit non-zero, without a stack trace). The keys are not listed by hand:
 * they are recorded while each service's loaders run, so a key added later
 * without a bad value here (or a reason in ANY_VALUE) fails this test.
 */

const BAD: Record<string, string> = {
  // every service
  IIB_LOG_LEVEL: 'loud',
  IIB_AMQP_URLS: 'http://broker:5672',
  IIB_BROKER_DIALECT: 'kafka',
  IIB_RABBITMQ_MANAGEMENT_URL: 'broker:15672',
  IIB_AMQP_CA: '/nonexistent/ca.pem',
  IIB_AMQP_CERT: '/nonexistent/cert.pem',
  IIB_AMQP_KEY: '/nonexistent/key.pem',
  IIB_AMQP_MAX_DELIVERIES: '0',
  IIB_AMQP_SEND_TIMEOUT_MS: 'soon',
  IIB_AMQP_NAMESPACE: 'my namespace/',
  IIB_HEALTH_PORT: '70000',
  IIB_HEALTH_HOST: 'http://0.0.0.0',
  // tracing (every service)
  IIB_OTEL_TRACING: 'yes please',
  OTEL_TRACES_EXPORTER: 'kafka',
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'smoke-signals',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon',
  IIB_OTEL_DISABLED_INSTRUMENTATIONS: 'http,mysql',
  IIB_OTEL_EXPRESS_LAYERS: 'middleware,handler',
  IIB_OTEL_PG_REQUIRE_PARENT_SPAN: 'maybe',
  IIB_OTEL_AMQP_USE_LINKS_FOR_CONSUME: 'sometimes',
  IIB_OTEL_AMQP_SETTLE_TIMEOUT_MS: '-5',
  IIB_OTEL_AMQP_RECORD_BODY_SIZE: '2',
  IIB_OTEL_BUFFER: 'disk',
  IIB_OTEL_BUFFER_MAX_BYTES: '0',
  IIB_OTEL_BUFFER_MAX_SPANS: '1.5',
  IIB_OTEL_BUFFER_RETRY_MS: 'often',
  // gateway
  IIB_DATABASE_URL: 'mysql://db/iib',
  IIB_GATEWAY_HOST: 'local host',
  IIB_GATEWAY_PORT: '65536',
  LOGIN_DISABLED: 'perhaps',
  IIB_WORKER_USERNAMES: '[1, 2]',
  IIB_MAX_PER_PAGE: '0',
  IIB_BINARY_IMAGE_CONFIG: '{"prod": "quay.io/binary"}',
  IIB_GRAPH_MODE_OPTIONS: 'replaces,fastest',
  IIB_GRAPH_MODE_INDEX_ALLOW_LIST: '[true]',
  IIB_REQUEST_DATA_DAYS_TO_LIVE: '0',
  IIB_OUTBOX_POLL_MS: '1',
  IIB_LOG_FOLLOW_POLL_MS: '1',
  IIB_SECRETS_KEY: 'c2hvcnQ=',
  IIB_MAX_BODY_BYTES: '100',
  IIB_AUTH_MODES: 'ntlm',
  IIB_TRUSTED_PROXY_HEADER: 'X Remote User',
  IIB_TRUSTED_PROXIES: '[null]',
  IIB_USERS_FILE: '/nonexistent/users',
  IIB_OIDC_ISSUER: 'issuer.example.com',
  IIB_OIDC_JWKS_URL: 'ftp://issuer.example.com/jwks',
  IIB_KERBEROS_KEYTAB: '/nonexistent/http.keytab',
  IIB_KERBEROS_SERVICE_PRINCIPAL: 'HTTP/iib.example.com/extra',
  IIB_KERBEROS_STRIP_REALMS: '[1]',
  // scheduler
  IIB_USER_TO_QUEUE: '{"SERIAL:bob": {"quay.io/index:v1": "lane"}}',
  IIB_DEFAULT_LANE: 'default lane',
  // builder
  IIB_REGISTRY: 'https://registry.example.com',
  IIB_BUILDER_LANES: 'fast:iib',
  IIB_BUILDER_CONCURRENCY: '0',
  IIB_BUILDER_WORK_DIR: 'relative/work',
  IIB_COMMAND_TIMEOUT_MS: '10',
  IIB_TOTAL_ATTEMPTS: '0',
  IIB_RETRY_DELAY_MS: '-1',
  IIB_RETRY_JITTER_MS: 'some',
  IIB_RETRY_MULTIPLIER: '0',
  IIB_BUILDER_STOP_GRACE_MS: '-1',
  IIB_BUILDER_STATE_QUERY_TIMEOUT_MS: '5',
  IIB_BUILDER_FAULT_POINT: 'whenever',
  IIB_REQUIRED_LABELS: '{"version": 4}',
  IIB_INDEX_IMAGE_OUTPUT_REGISTRY: 'https://registry.example.com',
  IIB_DOCKER_CONFIG_TEMPLATE: '/nonexistent/config.json',
  IIB_ORGANIZATION_CUSTOMIZATIONS: '{"org": {"type": "x"}}',
  IIB_RELATED_IMAGE_REGISTRY_REPLACEMENT: '{"user": "quay.io"}',
  IIB_NO_OCP_LABEL_ALLOW_LIST: '[1]',
  IIB_MAX_RECURSIVE_RELATED_BUNDLES: '0',
  IIB_MAX_EXTRACT_BYTES: '12',
  IIB_MAX_LAYER_READ_BYTES: 'lots',
  IIB_MAX_EXTRACT_FILE_BYTES: '-5',
  IIB_MAX_EXTRACT_FILES: '0',
  IIB_MAX_LAYER_ENTRIES: '1.5',
  IIB_INCREMENTAL_PUSH: 'partly',
  IIB_INCREMENTAL_MAX_LAYERS: '0',
  // notifier
  IIB_MESSAGING_URLS: 'amqp://ok:5672,tcp://broker:5672',
  IIB_MESSAGING_DIALECT: 'mqtt',
  IIB_MESSAGING_BUILD_STATE_DESTINATION: 'topic://',
  IIB_MESSAGING_BATCH_STATE_DESTINATION: 'topic:// spaced',
  IIB_MESSAGING_DURABLE: 'very',
  IIB_MESSAGING_TIMEOUT: '0',
};

/** Keys with no bad value, and why. */
const ANY_VALUE: Record<string, string> = {
  OTEL_SERVICE_NAME: 'any name',
  OTEL_METRICS_EXPORTER: 'only whether it is set is read here; the SDK reads the value',
  OTEL_LOGS_EXPORTER: 'only whether it is set is read here; the SDK reads the value',
  IIB_OTEL_EXTRA_INSTRUMENTATIONS: 'package names; one that does not load is reported when tracing starts',
  IIB_OTEL_BUFFER_DIR: 'any directory; created when the first span is buffered',
  IIB_MESSAGING_SYSTEM: 'a free-form span attribute',
  IIB_OIDC_AUDIENCE: 'any audience string',
  IIB_OIDC_USERNAME_CLAIM: 'any claim name',
  IIB_BUILDER_ID: 'any name',
  IIB_MESSAGING_CERT: 'as IIB: a missing file is warned about and the client certificate skipped',
  IIB_MESSAGING_KEY: 'as IIB: a missing file is warned about and the client certificate skipped',
  IIB_MESSAGING_CA: 'as IIB: a missing file is warned about',
};

const cases = Object.entries(SERVICES).flatMap(([service, { base, load }]) =>
  keysRead(base, load).map((key) => ({ service, key, base, load })),
);

describe('configuration keys', () => {
  it('when the keys are enumerated, then every service reads at least its documented ones', () => {
    const keys = new Set(cases.map((c) => c.key));
    // A sanity floor: the recording proxy really sees the reads.
    expect(keys.size).toBeGreaterThan(80);
    for (const k of ['IIB_LOG_LEVEL', 'IIB_DATABASE_URL', 'IIB_REGISTRY', 'IIB_MESSAGING_URLS']) {
      expect(keys).toContain(k);
    }
  });

  it('when a key has neither a bad value nor a reason to accept anything, then the table is incomplete', () => {
    const missing = [...new Set(cases.map((c) => c.key))].filter((k) => !(k in BAD) && !(k in ANY_VALUE));
    expect(missing).toEqual([]);
  });

  const bad = cases.filter((c) => c.key in BAD);
  it.each(bad.map((c) => [c.service, c.key, BAD[c.key] as string, c] as const))(
    'when %s gets %s=%j, then it refuses it naming the key',
    (_service, key, value, c) => {
      const env = { ...c.base, [key]: value };
      let error: unknown;
      try {
        c.load(env);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(key);
    },
  );

  it('when IIB_LOG_LEVEL is unknown, then the message lists the accepted levels', () => {
    expect(() => loadGatewayConfig({ IIB_LOG_LEVEL: 'loud' })).toThrow(
      'Configuration IIB_LOG_LEVEL is invalid: expected one of trace, debug, info, warn, error, fatal, silent, got "loud"',
    );
  });

  it('when a URL with a password is refused, then the password is not echoed', () => {
    expect(() => loadGatewayConfig({ IIB_DATABASE_URL: 'mysql://root:hunter2@db/iib' })).toThrow(
      /mysql:\/\/root:\*\*\*@db\/iib/,
    );
    expect(() => loadGatewayConfig({ IIB_SECRETS_KEY: 'hunter2' })).not.toThrow(/hunter2/);
  });

  it('when the table names a key no service reads, then it is stale', () => {
    const read = new Set(cases.map((c) => c.key));
    expect(Object.keys(BAD).filter((k) => !read.has(k))).toEqual([]);
    expect(Object.keys(ANY_VALUE).filter((k) => !read.has(k))).toEqual([]);
  });

  describe('loadOrExit', () => {
    let exit: jest.SpyInstance;
    let stderr: jest.SpyInstance;
    beforeEach(() => {
      exit = jest.spyOn(process, 'exit').mockImplementation((code) => {
        throw new Error(`exit ${String(code)}`);
      });
      stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    });
    afterEach(() => {
      exit.mockRestore();
      stderr.mockRestore();
    });

    it.each(Object.entries(SERVICES))(
      'when %s starts with every bad value in turn, then each exits 2 with one line naming the key',
      (_service, { base, load }) => {
        for (const key of keysRead(base, load).filter((k) => k in BAD)) {
          exit.mockClear();
          stderr.mockClear();
          expect(() => loadOrExit(() => load({ ...base, [key]: BAD[key] }))).toThrow('exit 2');
          expect(exit).toHaveBeenCalledWith(2);
          const written = stderr.mock.calls.map((c) => String(c[0])).join('');
          expect(written).toContain(key);
          expect(written).not.toMatch(/\n\s+at /);
        }
      },
    );
  });
});
