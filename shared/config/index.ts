import { hostname } from 'node:os';
import pino from 'pino';
import {
  bool,
  Env,
  int,
  json,
  KeySpec,
  list,
  listOf,
  matching,
  oneOf,
  optAbsolutePath,
  optFile,
  optStr,
  optUrl,
  port,
  readKey,
  shapes,
  str,
  url,
  urlList,
} from './env';

export { ConfigError, loadOrExit } from './env';
export type { Env } from './env';

export const DIALECTS = ['rabbitmq', 'activemq', 'artemis'] as const;
export type DialectName = (typeof DIALECTS)[number];

export interface AmqpConfig {
  /** Failover list; the first that answers is used, and reconnects walk the list. */
  urls: string[];
  dialect: DialectName;
  /** RabbitMQ only: the management API used to declare queues with arguments. */
  rabbitmqManagementUrl: string;
  /** ActiveMQ Classic only: its Jolokia REST API, read by `npm run lanes`. */
  activemqJolokiaUrl: string;
  ca?: string;
  cert?: string;
  key?: string;
  /** Deliveries after which a failing message goes to the dead-letter address. */
  maxDeliveries: number;
  sendTimeoutMs: number;
  /** Prefix of every internal queue name, so several systems (or test runs) can share a broker. */
  namespace: string;
}

export interface CommonConfig {
  logLevel: LogLevel;
  amqp: AmqpConfig;
}

/** pino's own levels: any other name makes pino throw when the logger is created. */
export const LOG_LEVELS = Object.keys(pino.levels.values).concat('silent') as LogLevel[];
export type LogLevel = pino.LevelWithSilent;

/** Host names and addresses to listen on: no scheme, no path, no spaces. */
const HOST = /^[A-Za-z0-9.:%[\]-]+$/;
const HOST_WHAT = 'a host name or an IP address';
/** Queue-name material: brokers differ on what else they allow. */
const NAME = /^[A-Za-z0-9._-]+$/;

export interface HealthConfig {
  /** undefined: no health listener. */
  port: number | undefined;
  host: string;
}

/**
 * The probe and scrape listener of the scheduler, builder and notifier (the
 * gateway serves the same paths on its API port). Off unless a port is set,
 * so several services (or builders) on one machine never fight over a default.
 */
export function loadHealthConfig(env: Env = process.env): HealthConfig {
  return {
    port: readKey(env, 'IIB_HEALTH_PORT', {
      ...port('Port of /healthz, /readyz and /metrics (unset: no listener; 0: any free port)'),
      optional: true,
    }),
    host: readKey(
      env,
      'IIB_HEALTH_HOST',
      matching('Address the health listener binds to', HOST, HOST_WHAT, '127.0.0.1'),
    ),
  };
}

export function loadCommonConfig(env: Env = process.env): CommonConfig {
  return {
    logLevel: readKey(env, 'IIB_LOG_LEVEL', oneOf('pino log level', LOG_LEVELS, 'info')),
    amqp: loadAmqpConfig(env),
  };
}

export function loadAmqpConfig(env: Env = process.env): AmqpConfig {
  return {
    urls: readKey(
      env,
      'IIB_AMQP_URLS',
      urlList(
        'Internal AMQP 1.0 broker URLs, comma separated (failover order); amqps:// for TLS',
        AMQP_SCHEMES,
        ['amqp://guest:guest@127.0.0.1:5672'],
      ),
    ),
    dialect: readKey(
      env,
      'IIB_BROKER_DIALECT',
      oneOf('How logical names map to broker addresses', DIALECTS, 'rabbitmq'),
    ),
    rabbitmqManagementUrl: readKey(
      env,
      'IIB_RABBITMQ_MANAGEMENT_URL',
      url(
        'RabbitMQ management API (declares queues with arguments)',
        HTTP_SCHEMES,
        'http://guest:guest@127.0.0.1:15672',
      ),
    ),
    activemqJolokiaUrl: readKey(
      env,
      'IIB_ACTIVEMQ_JOLOKIA_URL',
      url(
        'ActiveMQ Classic Jolokia REST API (lane depth for npm run lanes), e.g. http://admin:admin@broker:8161/api/jolokia',
        HTTP_SCHEMES,
        'http://127.0.0.1:8161/api/jolokia',
      ),
    ),
    ca: readKey(env, 'IIB_AMQP_CA', optFile('CA bundle (PEM file) to verify the broker')),
    cert: readKey(env, 'IIB_AMQP_CERT', optFile('Client certificate (PEM file) for the broker')),
    key: readKey(env, 'IIB_AMQP_KEY', optFile('Client key (PEM file) for the broker')),
    maxDeliveries: readKey(
      env,
      'IIB_AMQP_MAX_DELIVERIES',
      int('Deliveries of one message before it is dead-lettered', 5, 1),
    ),
    sendTimeoutMs: readKey(
      env,
      'IIB_AMQP_SEND_TIMEOUT_MS',
      int('How long a send waits for the broker to settle it', 30_000, 100),
    ),
    namespace: readKey(
      env,
      'IIB_AMQP_NAMESPACE',
      matching(
        'Prefix of internal queue names (e.g. "staging." gives staging.iib.requests)',
        /^[A-Za-z0-9._-]*$/,
        'letters, digits, ".", "_" and "-"',
        '',
      ),
    ),
  };
}

const AMQP_SCHEMES = ['amqp', 'amqps'] as const;
const HTTP_SCHEMES = ['http', 'https'] as const;

export function loadDatabaseUrl(env: Env = process.env): string {
  return readKey(
    env,
    'IIB_DATABASE_URL',
    url(
      'PostgreSQL connection URL (gateway only)',
      ['postgres', 'postgresql'],
      'postgres://postgres@127.0.0.1:5432/iib',
    ),
  );
}

export function loadSecretsKey(env: Env = process.env): string | undefined {
  return readKey(env, 'IIB_SECRETS_KEY', {
    doc: 'Base64 32-byte key shared by gateway and builder to encrypt tokens in messages',
    optional: true,
    parse: (v) => {
      // The value itself is a secret: the message says what is wrong, never what it is.
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(v) || Buffer.from(v, 'base64').length !== 32) {
        throw new Error('expected 32 bytes, base64 encoded (e.g. `openssl rand -base64 32`)');
      }
      return v;
    },
  });
}

export interface GatewayConfig extends CommonConfig {
  databaseUrl: string;
  host: string;
  port: number;
  loginDisabled: boolean;
  workerUsernames: string[];
  maxPerPage: number;
  binaryImageConfig: Record<string, Record<string, string>> | undefined;
  graphModeOptions: string[];
  graphModeIndexAllowList: string[];
  requestDataDaysToLive: number;
  outboxPollMs: number;
  /** How often GET /builds/<id>/logs?follow=true looks for new lines. */
  logFollowPollMs: number;
  secretsKey: string | undefined;
  maxBodyBytes: number;
  authModes: AuthMode[];
  trustedProxyHeader: string;
  trustedProxies: string[];
  usersFile: string | undefined;
  oidcIssuer: string | undefined;
  oidcAudience: string | undefined;
  oidcJwksUrl: string | undefined;
  oidcUsernameClaim: string;
  /** Keytab with the gateway's service key (auth mode kerberos); exported to GSSAPI as KRB5_KTNAME. */
  kerberosKeytab: string | undefined;
  /** The service principal tickets must be for: `HTTP/host[@REALM]`, `HTTP@host`, or `*` for any key in the keytab. */
  kerberosServicePrincipal: string;
  /** Realms whose principals become bare names; IIB itself keeps `user@REALM`. */
  kerberosStripRealms: string[];
}

export const GRAPH_MODES = ['replaces', 'semver', 'semver-skippatch'] as const;

export const AUTH_MODES = ['trusted-proxy', 'basic', 'jwt', 'kerberos'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

function authModes(doc: string, dflt: AuthMode[]): KeySpec<AuthMode[]> {
  const base = list(doc, dflt);
  return {
    doc,
    default: dflt,
    parse: (raw: string, key: string): AuthMode[] => {
      const modes = base.parse(raw, key);
      const bad = modes.filter((m) => !(AUTH_MODES as readonly string[]).includes(m));
      if (bad.length > 0)
        throw new Error(`unknown auth mode(s) ${bad.join(', ')}; use ${AUTH_MODES.join(', ')}`);
      return modes as AuthMode[];
    },
  };
}

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  return {
    ...loadCommonConfig(env),
    databaseUrl: loadDatabaseUrl(env),
    host: readKey(
      env,
      'IIB_GATEWAY_HOST',
      matching('Address the HTTP API listens on', HOST, HOST_WHAT, '127.0.0.1'),
    ),
    port: readKey(env, 'IIB_GATEWAY_PORT', port('Port of the HTTP API (0 = any)', 8080)),
    loginDisabled: readKey(
      env,
      'LOGIN_DISABLED',
      bool('Turn authentication off (IIB LOGIN_DISABLED)', false),
    ),
    workerUsernames: readKey(
      env,
      'IIB_WORKER_USERNAMES',
      list('Users allowed to PATCH requests (IIB_WORKER_USERNAMES)', []),
    ),
    maxPerPage: readKey(env, 'IIB_MAX_PER_PAGE', int('Largest page of GET /builds', 20, 1)),
    binaryImageConfig: readKey(
      env,
      'IIB_BINARY_IMAGE_CONFIG',
      json<Record<string, Record<string, string>> | undefined>(
        'JSON {scope: {ocp_version: binary_image}}; makes binary_image optional',
        undefined,
        shapes.stringMapMap,
      ),
    ),
    graphModeOptions: readKey(
      env,
      'IIB_GRAPH_MODE_OPTIONS',
      listOf('Allowed graph_update_mode values', GRAPH_MODES, [...GRAPH_MODES]),
    ),
    graphModeIndexAllowList: readKey(
      env,
      'IIB_GRAPH_MODE_INDEX_ALLOW_LIST',
      list('Indexes for which graph_update_mode may be set', []),
    ),
    requestDataDaysToLive: readKey(
      env,
      'IIB_REQUEST_DATA_DAYS_TO_LIVE',
      int('Days logs and artifacts are kept after the last update', 3, 1),
    ),
    outboxPollMs: readKey(
      env,
      'IIB_OUTBOX_POLL_MS',
      int('Fallback poll interval of the outbox relay (it is woken by NOTIFY)', 1000, 10),
    ),
    logFollowPollMs: readKey(
      env,
      'IIB_LOG_FOLLOW_POLL_MS',
      int('How often a followed request log is checked for new lines', 500, 50),
    ),
    secretsKey: loadSecretsKey(env),
    maxBodyBytes: readKey(env, 'IIB_MAX_BODY_BYTES', int('Largest accepted request body', 1_000_000, 1024)),
    authModes: readKey(
      env,
      'IIB_AUTH_MODES',
      authModes(
        'How callers authenticate, tried in order: trusted-proxy, basic, jwt, kerberos (ignored with LOGIN_DISABLED)',
        ['trusted-proxy'],
      ),
    ),
    trustedProxyHeader: readKey(
      env,
      'IIB_TRUSTED_PROXY_HEADER',
      matching(
        'Header in which the authenticating reverse proxy passes the user name (IIB: REMOTE_USER)',
        /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/,
        'an HTTP header name',
        'X-Remote-User',
      ),
    ),
    trustedProxies: readKey(
      env,
      'IIB_TRUSTED_PROXIES',
      list('Addresses of the reverse proxies whose user header is believed', ['127.0.0.1', '::1']),
    ),
    usersFile: readKey(
      env,
      'IIB_USERS_FILE',
      optFile('Users file for HTTP Basic: name:bcrypt-hash per line'),
    ),
    oidcIssuer: readKey(
      env,
      'IIB_OIDC_ISSUER',
      optUrl('Expected "iss" of bearer tokens (auth mode jwt)', HTTP_SCHEMES),
    ),
    oidcAudience: readKey(
      env,
      'IIB_OIDC_AUDIENCE',
      optStr('Expected "aud" of bearer tokens (auth mode jwt)'),
    ),
    oidcJwksUrl: readKey(
      env,
      'IIB_OIDC_JWKS_URL',
      optUrl('JWKS URL of the OIDC provider (auth mode jwt)', HTTP_SCHEMES),
    ),
    oidcUsernameClaim: readKey(
      env,
      'IIB_OIDC_USERNAME_CLAIM',
      str('Token claim that holds the user name', 'preferred_username'),
    ),
    kerberosKeytab: readKey(
      env,
      'IIB_KERBEROS_KEYTAB',
      optFile('Keytab holding the HTTP service key (auth mode kerberos); becomes KRB5_KTNAME'),
    ),
    kerberosServicePrincipal: readKey(
      env,
      'IIB_KERBEROS_SERVICE_PRINCIPAL',
      matching(
        'Service principal SPNEGO tickets must be for: HTTP/<host>[@REALM], or * for any key in the keytab',
        /^(\*|[^/@\s]+\/[^/@\s]+(@[^/@\s]+)?|[^/@\s]+@[^/@\s]+)$/,
        'SERVICE/host[@REALM], SERVICE@host or *',
        `HTTP/${hostname()}`,
      ),
    ),
    kerberosStripRealms: readKey(
      env,
      'IIB_KERBEROS_STRIP_REALMS',
      list(
        'Realms whose principals are stored as the bare name (alice@R -> alice); default none: user@REALM, as IIB',
        [],
      ),
    ),
  };
}

export interface LaneRef {
  serial: boolean;
  lane: string;
}

export interface SchedulerConfig extends CommonConfig {
  userToQueue: unknown;
  defaultLane: string;
  health: HealthConfig;
}

export function loadSchedulerConfig(env: Env = process.env): SchedulerConfig {
  return {
    ...loadCommonConfig(env),
    userToQueue: readKey(
      env,
      'IIB_USER_TO_QUEUE',
      json<unknown>('JSON map of users to lanes, as IIB_USER_TO_QUEUE', {}, shapes.object),
    ),
    defaultLane: readKey(
      env,
      'IIB_DEFAULT_LANE',
      matching(
        'Lane of users not in the map (Celery default)',
        NAME,
        'letters, digits, ".", "_" and "-"',
        'iib',
      ),
    ),
    health: loadHealthConfig(env),
  };
}

export interface BuilderConfig extends CommonConfig {
  registry: string;
  lanes: LaneRef[];
  concurrency: number;
  workDir: string | undefined;
  commandTimeoutMs: number;
  totalAttempts: number;
  retryDelayMs: number;
  retryJitterMs: number;
  retryMultiplier: number;
  secretsKey: string | undefined;
  builderId: string | undefined;
  stopGraceMs: number;
  /** How long a builder waits for the gateway's answer to "is this request final?" before building anyway. */
  stateQueryTimeoutMs: number;
  /** Fault tests only: the point at which the builder kills itself (see services/builder/fault-points.ts). */
  faultPoint: FaultPoint | undefined;
  /** IIB_BINARY_IMAGE_CONFIG: {scope: {ocp_version: binary image}}. */
  binaryImageConfig: Record<string, Record<string, string>> | undefined;
  /** Labels every bundle of an add request must carry (iib_required_labels). */
  requiredLabels: Record<string, string>;
  /** Registry written into index_image instead of `registry` (iib_index_image_output_registry). */
  indexImageOutputRegistry: string | undefined;
  /** Docker config JSON file the builder's own pulls use (iib_docker_config_template). */
  dockerConfigTemplate: string | undefined;
  /** iib_organization_customizations: {org: [{type: ..., ...}]}. */
  organizationCustomizations: Record<string, unknown[]>;
  /** iib_related_image_registry_replacement: {user: {from: to}}... kept as given. */
  relatedImageRegistryReplacement: Record<string, Record<string, string>>;
  /** iib_no_ocp_label_allow_list: index prefixes for ignore_bundle_ocp_version. */
  noOcpLabelAllowList: string[];
  /** iib_max_recursive_related_bundles. */
  maxRecursiveRelatedBundles: number;
  /** Bytes of files one extraction of image layers may write, all layers together. */
  maxExtractBytes: number;
  /** Uncompressed bytes one extraction may read from the layers, skipped entries included (decompression bombs). */
  maxLayerReadBytes: number;
  /** Bytes of one file extracted from an image layer. */
  maxExtractFileBytes: number;
  /** Entries (files, directories, links) one extraction may keep under its prefix. */
  maxExtractFiles: number;
  /** Entries one extraction may read from the layers, skipped ones included. */
  maxLayerEntries: number;
  /** Push only the changed packages as an extra layer over the from index (see docs/builder.md). */
  incrementalPush: boolean;
  /** Catalog layers an incremental index may carry before it is squashed into one. */
  incrementalMaxLayers: number;
  health: HealthConfig;
}

function parseLanes(raw: string[]): LaneRef[] {
  return raw.map((item) => {
    const [kind, lane] = item.split(':', 2);
    if ((kind !== 'serial' && kind !== 'parallel') || !lane || !NAME.test(lane)) {
      throw new Error(`lane "${item}" must be serial:<name> or parallel:<name>`);
    }
    return { serial: kind === 'serial', lane };
  });
}

/** host[:port][/path], as in an image reference: no scheme. */
const REGISTRY = /^[A-Za-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._/-]+)?$/;
const REGISTRY_WHAT = 'host[:port][/path] without a scheme, e.g. registry.example.com:5000';

export const FAULT_POINTS = [
  'before-first-tool',
  'mid-tool',
  'before-final-state',
  'after-final-state',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export function loadBuilderConfig(env: Env = process.env): BuilderConfig {
  return {
    ...loadCommonConfig(env),
    registry: readKey(
      env,
      'IIB_REGISTRY',
      matching('Registry the builder pushes iib-build images to', REGISTRY, REGISTRY_WHAT),
    ),
    lanes: readKey(env, 'IIB_BUILDER_LANES', {
      doc: 'Lanes this builder consumes: serial:<lane>,parallel:<lane>',
      default: parseLanes(['parallel:iib', 'serial:iib']),
      parse: (v, key) => parseLanes(list('', []).parse(v, key)),
    }),
    concurrency: readKey(env, 'IIB_BUILDER_CONCURRENCY', int('Parallel-lane builds run at once', 1, 1)),
    workDir: readKey(env, 'IIB_BUILDER_WORK_DIR', optAbsolutePath('Directory for per-request work dirs')),
    commandTimeoutMs: readKey(
      env,
      'IIB_COMMAND_TIMEOUT_MS',
      int('Timeout of one skopeo/buildah command', 600_000, 1000),
    ),
    totalAttempts: readKey(env, 'IIB_TOTAL_ATTEMPTS', int('Attempts of a flaky registry command', 5, 1)),
    retryDelayMs: readKey(env, 'IIB_RETRY_DELAY_MS', int('First retry delay', 1000, 0)),
    retryJitterMs: readKey(env, 'IIB_RETRY_JITTER_MS', int('Random jitter added to a retry delay', 500, 0)),
    retryMultiplier: readKey(env, 'IIB_RETRY_MULTIPLIER', int('Backoff multiplier', 2, 1)),
    secretsKey: loadSecretsKey(env),
    builderId: readKey(env, 'IIB_BUILDER_ID', optStr('Name of this builder in logs and state updates')),
    stopGraceMs: readKey(
      env,
      'IIB_BUILDER_STOP_GRACE_MS',
      int(
        'On SIGTERM, how long the build in hand may finish before it is released to another builder',
        120_000,
        0,
      ),
    ),
    stateQueryTimeoutMs: readKey(
      env,
      'IIB_BUILDER_STATE_QUERY_TIMEOUT_MS',
      int(
        'How long a builder waits for the recorded state of a request before building it anyway',
        10_000,
        100,
      ),
    ),
    faultPoint: readKey(env, 'IIB_BUILDER_FAULT_POINT', {
      ...oneOf<FaultPoint>(
        'Fault tests only: SIGKILL the builder itself at this point of its first build',
        FAULT_POINTS,
      ),
      optional: true,
    }),
    binaryImageConfig: readKey(
      env,
      'IIB_BINARY_IMAGE_CONFIG',
      json<Record<string, Record<string, string>> | undefined>(
        'JSON {scope: {ocp_version: binary_image}} used when a request names no binary_image',
        undefined,
        shapes.stringMapMap,
      ),
    ),
    requiredLabels: readKey(
      env,
      'IIB_REQUIRED_LABELS',
      json<Record<string, string>>('JSON {label: value} every added bundle must carry', {}, shapes.stringMap),
    ),
    indexImageOutputRegistry: readKey(env, 'IIB_INDEX_IMAGE_OUTPUT_REGISTRY', {
      ...matching('Registry shown in index_image instead of IIB_REGISTRY', REGISTRY, REGISTRY_WHAT),
      optional: true,
    }),
    dockerConfigTemplate: readKey(
      env,
      'IIB_DOCKER_CONFIG_TEMPLATE',
      optFile("Docker config JSON with the builder's own registry credentials"),
    ),
    organizationCustomizations: readKey(
      env,
      'IIB_ORGANIZATION_CUSTOMIZATIONS',
      json<Record<string, unknown[]>>(
        'JSON {organization: [customization, ...]} for regenerate-bundle',
        {},
        shapes.arrayMap,
      ),
    ),
    relatedImageRegistryReplacement: readKey(
      env,
      'IIB_RELATED_IMAGE_REGISTRY_REPLACEMENT',
      json<Record<string, Record<string, string>>>(
        'JSON {user: {registry: replacement}} applied to related images',
        {},
        shapes.stringMapMap,
      ),
    ),
    noOcpLabelAllowList: readKey(
      env,
      'IIB_NO_OCP_LABEL_ALLOW_LIST',
      list('Index prefixes for which ignore_bundle_ocp_version is honoured', []),
    ),
    maxRecursiveRelatedBundles: readKey(
      env,
      'IIB_MAX_RECURSIVE_RELATED_BUNDLES',
      int('Depth limit of recursive-related-bundles', 15, 1),
    ),
    maxExtractBytes: readKey(
      env,
      'IIB_MAX_EXTRACT_BYTES',
      int('Bytes of files one extraction of image layers may write', 2 * 1024 * 1024 * 1024, 1024),
    ),
    // A binary image's layers are read (and skipped) to reach /configs: a few hundred MB
    // uncompressed each, rarely over 2 GB in all; 8 GiB leaves room and still stops a bomb
    // within seconds of gunzip.
    maxLayerReadBytes: readKey(
      env,
      'IIB_MAX_LAYER_READ_BYTES',
      int(
        'Uncompressed bytes one extraction may read from image layers, skipped entries included',
        8 * 1024 * 1024 * 1024,
        1024,
      ),
    ),
    // The largest catalog.json of real indexes is tens of MB; V8 cannot hold a string past
    // ~512 MiB, so a larger file could never be read anyway.
    maxExtractFileBytes: readKey(
      env,
      'IIB_MAX_EXTRACT_FILE_BYTES',
      int('Bytes of one file extracted from an image layer', 256 * 1024 * 1024, 1024),
    ),
    // Real /configs hold a few thousand files (one or a few per package, a bundle per file at most).
    maxExtractFiles: readKey(
      env,
      'IIB_MAX_EXTRACT_FILES',
      int('Entries one extraction may keep under its prefix (files, directories, links)', 50_000, 1),
    ),
    // A base image (UBI) holds 10-30k entries, which are read and skipped; 1M bounds the time spent.
    maxLayerEntries: readKey(
      env,
      'IIB_MAX_LAYER_ENTRIES',
      int('Entries one extraction may read from image layers, skipped ones included', 1_000_000, 1),
    ),
    incrementalPush: readKey(
      env,
      'IIB_INCREMENTAL_PUSH',
      bool('Push only the changed packages as a layer over the from index', true),
    ),
    incrementalMaxLayers: readKey(
      env,
      'IIB_INCREMENTAL_MAX_LAYERS',
      int('Catalog layers before an incremental index is squashed', 8, 1),
    ),
    health: loadHealthConfig(env),
  };
}

export interface NotifierConfig extends CommonConfig {
  health: HealthConfig;
  external: {
    urls: string[];
    dialect: DialectName;
    buildStateDestination: string | undefined;
    batchStateDestination: string | undefined;
    cert?: string;
    key?: string;
    ca?: string;
    durable: boolean;
    timeoutMs: number;
  };
}

export function loadNotifierConfig(env: Env = process.env): NotifierConfig {
  const common = loadCommonConfig(env);
  return {
    ...common,
    health: loadHealthConfig(env),
    external: {
      urls: readKey(
        env,
        'IIB_MESSAGING_URLS',
        urlList('External broker URLs (failover order)', AMQP_SCHEMES, []),
      ),
      dialect: readKey(
        env,
        'IIB_MESSAGING_DIALECT',
        oneOf('Address dialect of the external broker', DIALECTS, common.amqp.dialect),
      ),
      buildStateDestination: readKey(
        env,
        'IIB_MESSAGING_BUILD_STATE_DESTINATION',
        destination('Build state topic, e.g. topic://VirtualTopic.eng.iib.build.state'),
      ),
      batchStateDestination: readKey(
        env,
        'IIB_MESSAGING_BATCH_STATE_DESTINATION',
        destination('Batch state topic, e.g. topic://VirtualTopic.eng.iib.batch.state'),
      ),
      cert: readKey(env, 'IIB_MESSAGING_CERT', optStr('Client certificate (PEM) for the external broker')),
      key: readKey(env, 'IIB_MESSAGING_KEY', optStr('Client key (PEM) for the external broker')),
      ca: readKey(env, 'IIB_MESSAGING_CA', optStr('CA (PEM) of the external broker')),
      durable: readKey(env, 'IIB_MESSAGING_DURABLE', bool('Send durable messages', true)),
      timeoutMs:
        readKey(env, 'IIB_MESSAGING_TIMEOUT', int('Seconds to connect and to send one message', 30, 1)) *
        1000,
    },
  };
}

/** IIB's destination syntax: topic://<name>, queue://<name> or a bare queue name. */
function destination(doc: string): KeySpec<string | undefined> {
  return {
    doc,
    optional: true,
    parse: (v) => {
      const name = v.replace(/^(topic|queue):\/\//, '');
      if (name === '' || /\s/.test(v)) {
        throw new Error(
          `expected topic://<name>, queue://<name> or a queue name, without spaces, got "${v}"`,
        );
      }
      return v;
    },
  };
}
