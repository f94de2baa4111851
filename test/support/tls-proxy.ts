import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';

import { bridge } from './tcp-proxy';
import type { TestPki } from './test-pki';

export { createTestPki, type TestPki } from './test-pki';

export interface TlsProxy {
  port: number;
  /** CNs of the client certificates of the TLS connections that were accepted. */
  acceptedClients: string[];
  /** Handshakes the proxy refused (e.g. no client certificate). */
  refused: Error[];
  /** Resolves when a handshake has been refused. */
  nextRefusal(): Promise<Error>;
  close(): Promise<void>;
}

/**
 * Terminates TLS in front of a plain AMQP port (the local RabbitMQ has no TLS
 * listener), demanding a client certificate signed by the test CA, like a
 * broker configured for mutual TLS.
 */
export async function startTlsProxy(
  pki: TestPki,
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<TlsProxy> {
  const sockets = new Set<net.Socket>();
  const acceptedClients: string[] = [];
  const refused: Error[] = [];
  const refusalWaiters: ((e: Error) => void)[] = [];
  const server = tls.createServer(
    {
      cert: fs.readFileSync(pki.serverCert),
      key: fs.readFileSync(pki.serverKey),
      ca: fs.readFileSync(pki.ca),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (client) => {
      const cn = client.getPeerCertificate().subject?.CN;
      acceptedClients.push(Array.isArray(cn) ? cn.join(',') : (cn ?? ''));
      bridge(client, net.connect(targetPort, targetHost), sockets);
    },
  );
  server.on('tlsClientError', (err) => {
    refused.push(err);
    refusalWaiters.splice(0).forEach((w) => w(err));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    acceptedClients,
    refused,
    nextRefusal: () => new Promise((resolve) => refusalWaiters.push(resolve)),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
