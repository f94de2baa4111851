import { AMQP_SCHEMES, COMMON_SETTINGS, DialectName, DIALECTS, HEALTH_SETTINGS } from './common';
import { Env, readSettings, setting, ValuesOf } from './env';
import { bool, integer, oneOf, text, textRead, urlList } from './schemas';

/** IIB's destination syntax: topic://<name>, queue://<name> or a bare queue name. */
const destination = textRead((v) => {
  const name = v.replace(/^(topic|queue):\/\//, '');
  if (name === '' || /\s/.test(v)) {
    throw new Error(`expected topic://<name>, queue://<name> or a queue name, without spaces, got "${v}"`);
  }
  return v;
});

/** The external broker the notifier republishes to, with IIB's keys. */
export const EXTERNAL_SETTINGS = {
  urls: setting({
    key: 'IIB_MESSAGING_URLS',
    doc: 'External broker URLs (failover order)',
    schema: urlList(AMQP_SCHEMES),
    default: '[]',
  }),
  /** Unset: the internal broker's dialect (IIB_BROKER_DIALECT). */
  dialect: setting({
    key: 'IIB_MESSAGING_DIALECT',
    doc: 'Address dialect of the external broker',
    schema: oneOf(DIALECTS),
    optional: true,
  }),
  buildStateDestination: setting({
    key: 'IIB_MESSAGING_BUILD_STATE_DESTINATION',
    doc: 'Build state topic, e.g. topic://VirtualTopic.eng.iib.build.state',
    schema: destination,
    optional: true,
  }),
  batchStateDestination: setting({
    key: 'IIB_MESSAGING_BATCH_STATE_DESTINATION',
    doc: 'Batch state topic, e.g. topic://VirtualTopic.eng.iib.batch.state',
    schema: destination,
    optional: true,
  }),
  cert: setting({
    key: 'IIB_MESSAGING_CERT',
    doc: 'Client certificate (PEM) for the external broker',
    schema: text(),
    optional: true,
  }),
  key: setting({
    key: 'IIB_MESSAGING_KEY',
    doc: 'Client key (PEM) for the external broker',
    schema: text(),
    optional: true,
  }),
  ca: setting({
    key: 'IIB_MESSAGING_CA',
    doc: 'CA (PEM) of the external broker',
    schema: text(),
    optional: true,
  }),
  durable: setting({
    key: 'IIB_MESSAGING_DURABLE',
    doc: 'Send durable messages',
    schema: bool(),
    default: 'true',
  }),
  /** Set in seconds, as IIB's IIB_MESSAGING_TIMEOUT; read as milliseconds. */
  timeoutMs: setting({
    key: 'IIB_MESSAGING_TIMEOUT',
    doc: 'Seconds to connect and to send one message',
    schema: integer(1).transform((seconds) => seconds * 1000),
    default: '30',
  }),
};

export type NotifierConfig = ValuesOf<typeof COMMON_SETTINGS> & {
  health: ValuesOf<typeof HEALTH_SETTINGS>;
  external: ValuesOf<typeof EXTERNAL_SETTINGS> & { dialect: DialectName };
};

export function loadNotifierConfig(env: Env = process.env): NotifierConfig {
  const common = readSettings(env, COMMON_SETTINGS);
  const external = readSettings(env, EXTERNAL_SETTINGS);
  return {
    ...common,
    health: readSettings(env, HEALTH_SETTINGS),
    external: { ...external, dialect: external.dialect ?? common.amqp.dialect },
  };
}
