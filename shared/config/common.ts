import pino from 'pino';
import { Env, readSettings, setting, ValuesOf } from './env';
import { integer, matching, oneOf, port, readableFile, textRead, url, urlList } from './schemas';

/** The keys every service reads: log level, the internal broker, the health listener. */

export const DIALECTS = ['rabbitmq', 'activemq', 'artemis'] as const;
export type DialectName = (typeof DIALECTS)[number];

/** pino's own levels: any other name makes pino throw when the logger is created. */
export const LOG_LEVELS = Object.keys(pino.levels.values).concat('silent') as [LogLevel, ...LogLevel[]];
export type LogLevel = pino.LevelWithSilent;

/** Host names and addresses to listen on: no scheme, no path, no spaces. */
export const HOST = /^[A-Za-z0-9.:%[\]-]+$/;
export const HOST_WHAT = 'a host name or an IP address';
/** Queue-name material: brokers differ on what else they allow. */
export const NAME = /^[A-Za-z0-9._-]+$/;
export const NAME_WHAT = 'letters, digits, ".", "_" and "-"';

export const AMQP_SCHEMES = ['amqp', 'amqps'] as const;
export const HTTP_SCHEMES = ['http', 'https'] as const;

export const AMQP_SETTINGS = {
  /** Failover list; the first that answers is used, and reconnects walk the list. */
  urls: setting({
    key: 'IIB_AMQP_URLS',
    doc: 'Internal AMQP 1.0 broker URLs, comma separated (failover order); amqps:// for TLS',
    schema: urlList(AMQP_SCHEMES),
    default: 'amqp://guest:guest@127.0.0.1:5672',
  }),
  dialect: setting({
    key: 'IIB_BROKER_DIALECT',
    doc: 'How logical names map to broker addresses',
    schema: oneOf(DIALECTS),
    default: 'rabbitmq',
  }),
  /** RabbitMQ only: the management API used to declare queues with arguments. */
  rabbitmqManagementUrl: setting({
    key: 'IIB_RABBITMQ_MANAGEMENT_URL',
    doc: 'RabbitMQ management API (declares queues with arguments)',
    schema: url(HTTP_SCHEMES),
    default: 'http://guest:guest@127.0.0.1:15672',
  }),
  /** ActiveMQ Classic only: its Jolokia REST API, read by `npm run lanes`. */
  activemqJolokiaUrl: setting({
    key: 'IIB_ACTIVEMQ_JOLOKIA_URL',
    doc: 'ActiveMQ Classic Jolokia REST API (lane depth for npm run lanes), e.g. http://admin:admin@broker:8161/api/jolokia',
    schema: url(HTTP_SCHEMES),
    default: 'http://127.0.0.1:8161/api/jolokia',
  }),
  ca: setting({
    key: 'IIB_AMQP_CA',
    doc: 'CA bundle (PEM file) to verify the broker',
    schema: readableFile(),
    optional: true,
  }),
  cert: setting({
    key: 'IIB_AMQP_CERT',
    doc: 'Client certificate (PEM file) for the broker',
    schema: readableFile(),
    optional: true,
  }),
  key: setting({
    key: 'IIB_AMQP_KEY',
    doc: 'Client key (PEM file) for the broker',
    schema: readableFile(),
    optional: true,
  }),
  /** Deliveries after which a failing message goes to the dead-letter address. */
  maxDeliveries: setting({
    key: 'IIB_AMQP_MAX_DELIVERIES',
    doc: 'Deliveries of one message before it is dead-lettered',
    schema: integer(1),
    default: '5',
  }),
  sendTimeoutMs: setting({
    key: 'IIB_AMQP_SEND_TIMEOUT_MS',
    doc: 'How long a send waits for the broker to settle it',
    schema: integer(100),
    default: '30000',
  }),
  /** Prefix of every internal queue name, so several systems (or test runs) can share a broker. */
  namespace: setting({
    key: 'IIB_AMQP_NAMESPACE',
    doc: 'Prefix of internal queue names (e.g. "staging." gives staging.iib.requests)',
    schema: matching(/^[A-Za-z0-9._-]*$/, NAME_WHAT),
    default: '',
  }),
};
export type AmqpConfig = ValuesOf<typeof AMQP_SETTINGS>;

export const LOG_LEVEL = setting({
  key: 'IIB_LOG_LEVEL',
  doc: 'pino log level',
  schema: oneOf(LOG_LEVELS),
  default: 'info',
});

export const COMMON_SETTINGS = { logLevel: LOG_LEVEL, amqp: AMQP_SETTINGS };
export type CommonConfig = ValuesOf<typeof COMMON_SETTINGS>;

/**
 * The probe and scrape listener of the scheduler, builder and notifier (the
 * gateway serves the same paths on its API port). Off unless a port is set,
 * so several services (or builders) on one machine never fight over a default.
 */
export const HEALTH_SETTINGS = {
  /** undefined: no health listener. */
  port: setting({
    key: 'IIB_HEALTH_PORT',
    doc: 'Port of /healthz, /readyz and /metrics (unset: no listener; 0: any free port)',
    schema: port(),
    optional: true,
  }),
  host: setting({
    key: 'IIB_HEALTH_HOST',
    doc: 'Address the health listener binds to',
    schema: matching(HOST, HOST_WHAT),
    default: '127.0.0.1',
  }),
};
export type HealthConfig = ValuesOf<typeof HEALTH_SETTINGS>;

export const DATABASE_URL = setting({
  key: 'IIB_DATABASE_URL',
  doc: 'PostgreSQL connection URL (gateway only)',
  schema: url(['postgres', 'postgresql']),
  default: 'postgres://postgres@127.0.0.1:5432/iib',
});

export const SECRETS_KEY = setting({
  key: 'IIB_SECRETS_KEY',
  doc: 'Base64 32-byte key shared by gateway and builder to encrypt tokens in messages',
  // The value itself is a secret: the message says what is wrong, never what it is.
  schema: textRead((v) => {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(v) || Buffer.from(v, 'base64').length !== 32) {
      throw new Error('expected 32 bytes, base64 encoded (e.g. `openssl rand -base64 32`)');
    }
    return v;
  }),
  optional: true,
});

export function loadHealthConfig(env: Env = process.env): HealthConfig {
  return readSettings(env, HEALTH_SETTINGS);
}

export function loadCommonConfig(env: Env = process.env): CommonConfig {
  return readSettings(env, COMMON_SETTINGS);
}

export function loadAmqpConfig(env: Env = process.env): AmqpConfig {
  return readSettings(env, AMQP_SETTINGS);
}

export function loadDatabaseUrl(env: Env = process.env): string {
  return DATABASE_URL.read(env);
}

export function loadSecretsKey(env: Env = process.env): string | undefined {
  return SECRETS_KEY.read(env);
}
