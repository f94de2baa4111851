import { bool, Env, int, json, KeySpec, list, oneOf, optStr, readKey, str } from './env';

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
  logLevel: string;
  amqp: AmqpConfig;
}

export function loadCommonConfig(env: Env = process.env): CommonConfig {
  return {
    logLevel: readKey(env, 'IIB_LOG_LEVEL', str('pino log level (trace, debug, info, warn, error)', 'info')),
    amqp: loadAmqpConfig(env),
  };
}

export function loadAmqpConfig(env: Env = process.env): AmqpConfig {
  return {
    urls: readKey(
      env,
      'IIB_AMQP_URLS',
      list('Internal AMQP 1.0 broker URLs, comma separated (failover order); amqps:// for TLS', [
        'amqp://guest:guest@127.0.0.1:5672',
      ]),
    ),
    dialect: readKey(
      env,
      'IIB_BROKER_DIALECT',
      oneOf('How logical names map to broker addresses', DIALECTS, 'rabbitmq'),
    ),
    rabbitmqManagementUrl: readKey(
      env,
      'IIB_RABBITMQ_MANAGEMENT_URL',
      str('RabbitMQ management API (declares queues with arguments)', 'http://guest:guest@127.0.0.1:15672'),
    ),
    activemqJolokiaUrl: readKey(
      env,
      'IIB_ACTIVEMQ_JOLOKIA_URL',
      str(
        'ActiveMQ Classic Jolokia REST API (lane depth for npm run lanes), e.g. http://admin:admin@broker:8161/api/jolokia',
        'http://127.0.0.1:8161/api/jolokia',
      ),
    ),
    ca: readKey(env, 'IIB_AMQP_CA', optStr('CA bundle (PEM file) to verify the broker')),
    cert: readKey(env, 'IIB_AMQP_CERT', optStr('Client certificate (PEM file) for the broker')),
    key: readKey(env, 'IIB_AMQP_KEY', optStr('Client key (PEM file) for the broker')),
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
      str('Prefix of internal queue names (e.g. "staging." gives staging.iib.requests)', ''),
    ),
  };
}

export function loadDatabaseUrl(env: Env = process.env): string {
  return readKey(
    env,
    'IIB_DATABASE_URL',
    str('PostgreSQL connection URL (gateway only)', 'postgres://postgres@127.0.0.1:5432/iib'),
  );
}

export function loadSecretsKey(env: Env = process.env): string | undefined {
  return readKey(
    env,
    'IIB_SECRETS_KEY',
    optStr('Base64 32-byte key shared by gateway and builder to encrypt tokens in messages'),
  );
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
}

export const AUTH_MODES = ['trusted-proxy', 'basic', 'jwt'] as const;
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
    host: readKey(env, 'IIB_GATEWAY_HOST', str('Address the HTTP API listens on', '127.0.0.1')),
    port: readKey(env, 'IIB_GATEWAY_PORT', int('Port of the HTTP API (0 = any)', 8080)),
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
      ),
    ),
    graphModeOptions: readKey(
      env,
      'IIB_GRAPH_MODE_OPTIONS',
      list('Allowed graph_update_mode values', ['replaces', 'semver', 'semver-skippatch']),
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
        'How callers authenticate, tried in order: trusted-proxy, basic, jwt (ignored with LOGIN_DISABLED)',
        ['trusted-proxy'],
      ),
    ),
    trustedProxyHeader: readKey(
      env,
      'IIB_TRUSTED_PROXY_HEADER',
      str(
        'Header in which the authenticating reverse proxy passes the user name (IIB: REMOTE_USER)',
        'X-Remote-User',
      ),
    ),
    trustedProxies: readKey(
      env,
      'IIB_TRUSTED_PROXIES',
      list('Addresses of the reverse proxies whose user header is believed', ['127.0.0.1', '::1']),
    ),
    usersFile: readKey(env, 'IIB_USERS_FILE', optStr('Users file for HTTP Basic: name:bcrypt-hash per line')),
    oidcIssuer: readKey(env, 'IIB_OIDC_ISSUER', optStr('Expected "iss" of bearer tokens (auth mode jwt)')),
    oidcAudience: readKey(
      env,
      'IIB_OIDC_AUDIENCE',
      optStr('Expected "aud" of bearer tokens (auth mode jwt)'),
    ),
    oidcJwksUrl: readKey(env, 'IIB_OIDC_JWKS_URL', optStr('JWKS URL of the OIDC provider (auth mode jwt)')),
    oidcUsernameClaim: readKey(
      env,
      'IIB_OIDC_USERNAME_CLAIM',
      str('Token claim that holds the user name', 'preferred_username'),
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
}

export function loadSchedulerConfig(env: Env = process.env): SchedulerConfig {
  return {
    ...loadCommonConfig(env),
    userToQueue: readKey(
      env,
      'IIB_USER_TO_QUEUE',
      json<unknown>('JSON map of users to lanes, as IIB_USER_TO_QUEUE', {}),
    ),
    defaultLane: readKey(
      env,
      'IIB_DEFAULT_LANE',
      str('Lane of users not in the map (Celery default)', 'iib'),
    ),
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
  /** Largest layer (bytes) the builder extracts. */
  maxExtractBytes: number;
  /** Push only the changed packages as an extra layer over the from index (see docs/builder.md). */
  incrementalPush: boolean;
  /** Catalog layers an incremental index may carry before it is squashed into one. */
  incrementalMaxLayers: number;
}

function parseLanes(raw: string[]): LaneRef[] {
  return raw.map((item) => {
    const [kind, lane] = item.split(':', 2);
    if ((kind !== 'serial' && kind !== 'parallel') || !lane) {
      throw new Error(`lane "${item}" must be serial:<name> or parallel:<name>`);
    }
    return { serial: kind === 'serial', lane };
  });
}

export function loadBuilderConfig(env: Env = process.env): BuilderConfig {
  return {
    ...loadCommonConfig(env),
    registry: readKey(env, 'IIB_REGISTRY', str('Registry the builder pushes iib-build images to')),
    lanes: parseLanes(
      readKey(
        env,
        'IIB_BUILDER_LANES',
        list('Lanes this builder consumes: serial:<lane>,parallel:<lane>', ['parallel:iib', 'serial:iib']),
      ),
    ),
    concurrency: readKey(env, 'IIB_BUILDER_CONCURRENCY', int('Parallel-lane builds run at once', 1, 1)),
    workDir: readKey(env, 'IIB_BUILDER_WORK_DIR', optStr('Directory for per-request work dirs')),
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
    binaryImageConfig: readKey(
      env,
      'IIB_BINARY_IMAGE_CONFIG',
      json<Record<string, Record<string, string>> | undefined>(
        'JSON {scope: {ocp_version: binary_image}} used when a request names no binary_image',
        undefined,
      ),
    ),
    requiredLabels: readKey(
      env,
      'IIB_REQUIRED_LABELS',
      json<Record<string, string>>('JSON {label: value} every added bundle must carry', {}),
    ),
    indexImageOutputRegistry: readKey(
      env,
      'IIB_INDEX_IMAGE_OUTPUT_REGISTRY',
      optStr('Registry shown in index_image instead of IIB_REGISTRY'),
    ),
    dockerConfigTemplate: readKey(
      env,
      'IIB_DOCKER_CONFIG_TEMPLATE',
      optStr("Docker config JSON with the builder's own registry credentials"),
    ),
    organizationCustomizations: readKey(
      env,
      'IIB_ORGANIZATION_CUSTOMIZATIONS',
      json<Record<string, unknown[]>>('JSON {organization: [customization, ...]} for regenerate-bundle', {}),
    ),
    relatedImageRegistryReplacement: readKey(
      env,
      'IIB_RELATED_IMAGE_REGISTRY_REPLACEMENT',
      json<Record<string, Record<string, string>>>(
        'JSON {user: {registry: replacement}} applied to related images',
        {},
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
      int('Largest image content (bytes) the builder extracts', 2 * 1024 * 1024 * 1024, 1024),
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
  };
}

export interface NotifierConfig extends CommonConfig {
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
    external: {
      urls: readKey(env, 'IIB_MESSAGING_URLS', list('External broker URLs (failover order)', [])),
      dialect: readKey(
        env,
        'IIB_MESSAGING_DIALECT',
        oneOf('Address dialect of the external broker', DIALECTS, common.amqp.dialect),
      ),
      buildStateDestination: readKey(
        env,
        'IIB_MESSAGING_BUILD_STATE_DESTINATION',
        optStr('Build state topic, e.g. topic://VirtualTopic.eng.iib.build.state'),
      ),
      batchStateDestination: readKey(
        env,
        'IIB_MESSAGING_BATCH_STATE_DESTINATION',
        optStr('Batch state topic, e.g. topic://VirtualTopic.eng.iib.batch.state'),
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
