import * as net from 'node:net';
import { once } from 'node:events';
import { amqpUrl } from './env';

export interface TcpProxy {
  port: number;
  url(scheme: string, userinfo?: string): string;
  /** Cuts every connection and refuses new ones: the target looks down. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** Pipes two sockets both ways; when either side ends, both go, and both leave `sockets`. */
export function bridge(client: net.Socket, upstream: net.Socket, sockets: Set<net.Socket>): void {
  sockets.add(client);
  sockets.add(upstream);
  const drop = (): void => {
    client.destroy();
    upstream.destroy();
    sockets.delete(client);
    sockets.delete(upstream);
  };
  client.on('error', drop).on('close', drop);
  upstream.on('error', drop).on('close', drop);
  client.pipe(upstream).pipe(client);
}

/** A loopback TCP pass-through, to take a broker away from some clients without stopping it. */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = async (): Promise<void> => {
    const s = net.createServer((client) => {
      bridge(client, net.connect(targetPort, targetHost), sockets);
    });
    s.listen(port, '127.0.0.1');
    await once(s, 'listening');
    port = (s.address() as net.AddressInfo).port;
    server = s;
  };
  await listen();
  const down = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const sock of sockets) sock.destroy();
    sockets.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };
  return {
    get port() {
      return port;
    },
    url: (scheme, userinfo) => `${scheme}://${userinfo ? `${userinfo}@` : ''}127.0.0.1:${port}`,
    down,
    up: async () => {
      if (!server) await listen();
    },
    close: down,
  };
}

/** A proxy in front of the test broker, and the AMQP URL (with credentials) that goes through it. */
export async function startBrokerProxy(): Promise<{ proxy: TcpProxy; url: string }> {
  const broker = new URL(amqpUrl);
  const proxy = await startTcpProxy(broker.hostname, Number(broker.port || 5672));
  return { proxy, url: proxy.url('amqp', `${broker.username}:${broker.password}`) };
}
