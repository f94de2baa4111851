import { execFile } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** CN of the client certificate. */
  clientName: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    throw new Error(`openssl ${args[0]} failed: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
}

/**
 * A throwaway CA with a server certificate for 127.0.0.1/localhost and a
 * client certificate, made with the openssl CLI.
 */
export async function createTestPki(clientName = 'iib-notifier-test'): Promise<TestPki> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iib-pki-'));
  const days = ['-days', '2'];
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-subj',
      '/CN=iib-test-ca',
      ...days,
    ],
    dir,
  );
  fs.writeFileSync(
    path.join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  fs.writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [
    ['server', 'localhost'],
    ['client', clientName],
  ] as const) {
    await openssl(
      [
        'req',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        `${name}.key`,
        '-out',
        `${name}.csr`,
        '-subj',
        `/CN=${cn}`,
      ],
      dir,
    );
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.pem`,
        '-extfile',
        `${name}.ext`,
        ...days,
      ],
      dir,
    );
  }
  return {
    dir,
    ca: path.join(dir, 'ca.pem'),
    serverCert: path.join(dir, 'server.pem'),
    serverKey: path.join(dir, 'server.key'),
    clientCert: path.join(dir, 'client.pem'),
    clientKey: path.join(dir, 'client.key'),
    clientName,
  };
}

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
      const upstream = net.connect(targetPort, targetHost);
      for (const s of [client, upstream]) sockets.add(s);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
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
