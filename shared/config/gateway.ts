import { hostname } from 'node:os';
import { COMMON_SETTINGS, DATABASE_URL, HOST, HOST_WHAT, HTTP_SCHEMES, SECRETS_KEY } from './common';
import { Env, readSettings, setting, ValuesOf } from './env';
import {
  bool,
  integer,
  json,
  list,
  listOf,
  matching,
  port,
  readableFile,
  shapes,
  text,
  url,
} from './schemas';

export const GRAPH_MODES = ['replaces', 'semver', 'semver-skippatch'] as const;

export const AUTH_MODES = ['trusted-proxy', 'basic', 'jwt', 'kerberos'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** The gateway's own keys (it reads the common ones too). */
export const GATEWAY_SETTINGS = {
  databaseUrl: DATABASE_URL,
  host: setting({
    key: 'IIB_GATEWAY_HOST',
    doc: 'Address the HTTP API listens on',
    schema: matching(HOST, HOST_WHAT),
    default: '127.0.0.1',
  }),
  port: setting({
    key: 'IIB_GATEWAY_PORT',
    doc: 'Port of the HTTP API (0 = any)',
    schema: port(),
    default: '8080',
  }),
  loginDisabled: setting({
    key: 'LOGIN_DISABLED',
    doc: 'Turn authentication off (IIB LOGIN_DISABLED)',
    schema: bool(),
    default: 'false',
  }),
  workerUsernames: setting({
    key: 'IIB_WORKER_USERNAMES',
    doc: 'Users allowed to PATCH requests (IIB_WORKER_USERNAMES)',
    schema: list(),
    default: '[]',
  }),
  maxPerPage: setting({
    key: 'IIB_MAX_PER_PAGE',
    doc: 'Largest page of GET /builds',
    schema: integer(1),
    default: '20',
  }),
  binaryImageConfig: setting({
    key: 'IIB_BINARY_IMAGE_CONFIG',
    doc: 'JSON {scope: {ocp_version: binary_image}}; makes binary_image optional',
    schema: json(shapes.stringMapMap()),
    optional: true,
  }),
  graphModeOptions: setting({
    key: 'IIB_GRAPH_MODE_OPTIONS',
    doc: 'Allowed graph_update_mode values',
    schema: listOf(GRAPH_MODES),
    default: GRAPH_MODES.join(','),
  }),
  graphModeIndexAllowList: setting({
    key: 'IIB_GRAPH_MODE_INDEX_ALLOW_LIST',
    doc: 'Indexes for which graph_update_mode may be set',
    schema: list(),
    default: '[]',
  }),
  requestDataDaysToLive: setting({
    key: 'IIB_REQUEST_DATA_DAYS_TO_LIVE',
    doc: 'Days logs and artifacts are kept after the last update',
    schema: integer(1),
    default: '3',
  }),
  outboxPollMs: setting({
    key: 'IIB_OUTBOX_POLL_MS',
    doc: 'Fallback poll interval of the outbox relay (it is woken by NOTIFY)',
    schema: integer(10),
    default: '1000',
  }),
  /** How often GET /builds/<id>/logs?follow=true looks for new lines. */
  logFollowPollMs: setting({
    key: 'IIB_LOG_FOLLOW_POLL_MS',
    doc: 'How often a followed request log is checked for new lines',
    schema: integer(50),
    default: '500',
  }),
  secretsKey: SECRETS_KEY,
  maxBodyBytes: setting({
    key: 'IIB_MAX_BODY_BYTES',
    doc: 'Largest accepted request body',
    schema: integer(1024),
    default: '1000000',
  }),
  authModes: setting({
    key: 'IIB_AUTH_MODES',
    doc: 'How callers authenticate, tried in order: trusted-proxy, basic, jwt, kerberos (ignored with LOGIN_DISABLED)',
    schema: listOf(
      AUTH_MODES,
      (bad) => `unknown auth mode(s) ${bad.join(', ')}; use ${AUTH_MODES.join(', ')}`,
    ),
    default: 'trusted-proxy',
  }),
  trustedProxyHeader: setting({
    key: 'IIB_TRUSTED_PROXY_HEADER',
    doc: 'Header in which the authenticating reverse proxy passes the user name (IIB: REMOTE_USER)',
    schema: matching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'an HTTP header name'),
    default: 'X-Remote-User',
  }),
  trustedProxies: setting({
    key: 'IIB_TRUSTED_PROXIES',
    doc: 'Addresses of the reverse proxies whose user header is believed',
    schema: list(),
    default: '127.0.0.1,::1',
  }),
  usersFile: setting({
    key: 'IIB_USERS_FILE',
    doc: 'Users file for HTTP Basic: name:bcrypt-hash per line',
    schema: readableFile(),
    optional: true,
  }),
  oidcIssuer: setting({
    key: 'IIB_OIDC_ISSUER',
    doc: 'Expected "iss" of bearer tokens (auth mode jwt)',
    schema: url(HTTP_SCHEMES),
    optional: true,
  }),
  oidcAudience: setting({
    key: 'IIB_OIDC_AUDIENCE',
    doc: 'Expected "aud" of bearer tokens (auth mode jwt)',
    schema: text(),
    optional: true,
  }),
  oidcJwksUrl: setting({
    key: 'IIB_OIDC_JWKS_URL',
    doc: 'JWKS URL of the OIDC provider (auth mode jwt)',
    schema: url(HTTP_SCHEMES),
    optional: true,
  }),
  oidcUsernameClaim: setting({
    key: 'IIB_OIDC_USERNAME_CLAIM',
    doc: 'Token claim that holds the user name',
    schema: text(),
    default: 'preferred_username',
  }),
  /** Keytab with the gateway's service key (auth mode kerberos); exported to GSSAPI as KRB5_KTNAME. */
  kerberosKeytab: setting({
    key: 'IIB_KERBEROS_KEYTAB',
    doc: 'Keytab holding the HTTP service key (auth mode kerberos); becomes KRB5_KTNAME',
    schema: readableFile(),
    optional: true,
  }),
  /** The service principal tickets must be for: `HTTP/host[@REALM]`, `HTTP@host`, or `*` for any key in the keytab. */
  kerberosServicePrincipal: setting({
    key: 'IIB_KERBEROS_SERVICE_PRINCIPAL',
    doc: 'Service principal SPNEGO tickets must be for: HTTP/<host>[@REALM], or * for any key in the keytab',
    schema: matching(
      /^(\*|[^/@\s]+\/[^/@\s]+(@[^/@\s]+)?|[^/@\s]+@[^/@\s]+)$/,
      'SERVICE/host[@REALM], SERVICE@host or *',
    ),
    default: `HTTP/${hostname()}`,
  }),
  /** Realms whose principals become bare names; IIB itself keeps `user@REALM`. */
  kerberosStripRealms: setting({
    key: 'IIB_KERBEROS_STRIP_REALMS',
    doc: 'Realms whose principals are stored as the bare name (alice@R -> alice); default none: user@REALM, as IIB',
    schema: list(),
    default: '[]',
  }),
};

export type GatewayConfig = ValuesOf<typeof COMMON_SETTINGS> & ValuesOf<typeof GATEWAY_SETTINGS>;

export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  return { ...readSettings(env, COMMON_SETTINGS), ...readSettings(env, GATEWAY_SETTINGS) };
}
