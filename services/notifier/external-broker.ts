import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import type { NotifierConfig } from '../../shared/config';
import { safeUrl } from '../../shared/logging';
import { AmqpConnection, AmqpSender, getDialect } from '../../shared/messaging';

type ExternalConfig = NotifierConfig['external'];

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/**
 * The TLS files to use, as IIB decides (`_get_ssl_domain`): a client
 * certificate only when its certificate and key files both exist, otherwise
 * a warning. A CA alone is still used to verify the broker over amqps://.
 */
export function resolveTlsFiles(
  ext: Pick<ExternalConfig, 'ca' | 'cert' | 'key'>,
  log: Logger,
  exists: (path: string) => boolean = existsSync,
): TlsFiles {
  const files: TlsFiles = {};
  const missing = (['cert', 'key', 'ca'] as const).filter((k) => ext[k] !== undefined && !exists(ext[k]));
  if (missing.length > 0) {
    log.warn(
      { missing: missing.map((k) => `IIB_MESSAGING_${k.toUpperCase()}`) },
      'configured TLS file not found',
    );
  }
  if (ext.ca && exists(ext.ca)) files.ca = ext.ca;
  if (ext.cert && ext.key && exists(ext.cert) && exists(ext.key)) {
    files.cert = ext.cert;
    files.key = ext.key;
  } else if (ext.cert || ext.key) {
    log.warn('Skipping authentication due to missing certificates and/or a private key');
  }
  return files;
}

export interface ExternalBroker {
  buildSender: AmqpSender | undefined;
  batchSender: AmqpSender | undefined;
  close(): Promise<void>;
}

/**
 * The connection to the external broker (its own failover list and TLS) and
 * one sender per configured destination. The start log says which kinds of
 * message will be sent where, and which will not.
 */
export function openExternalBroker(ext: ExternalConfig, log: Logger): ExternalBroker {
  let connection: AmqpConnection | undefined;
  if (ext.urls.length === 0) {
    log.error('IIB_MESSAGING_URLS is not set: no state message will be sent');
  } else {
    const tls = resolveTlsFiles(ext, log);
    connection = new AmqpConnection(
      { urls: ext.urls, ...tls, broker: 'external' },
      log.child({ broker: 'external' }),
    );
    log.info(
      {
        urls: ext.urls.map(safeUrl),
        dialect: ext.dialect,
        clientCertificate: tls.cert !== undefined,
        durable: ext.durable,
      },
      'external broker',
    );
  }
  const dialect = getDialect(ext.dialect);
  const senderFor = (destination: string | undefined, kind: string, key: string): AmqpSender | undefined => {
    if (!destination) {
      log.warn({ kind }, `${key} is not set: ${kind} messages will not be sent`);
      return undefined;
    }
    if (!connection) return undefined;
    const target = dialect.destination(destination);
    log.info({ kind, destination, address: target.address }, `${kind} messages go to ${destination}`);
    return new AmqpSender(connection, target, log, ext.timeoutMs);
  };
  const buildSender = senderFor(
    ext.buildStateDestination,
    'build state',
    'IIB_MESSAGING_BUILD_STATE_DESTINATION',
  );
  const batchSender = senderFor(
    ext.batchStateDestination,
    'batch state',
    'IIB_MESSAGING_BATCH_STATE_DESTINATION',
  );
  return {
    buildSender,
    batchSender,
    close: async () => {
      buildSender?.close();
      batchSender?.close();
      await connection?.close();
    },
  };
}
