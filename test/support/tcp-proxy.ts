import * as net from 'node:net';
import { once } from 'node:events';

export interface TcpProxy {
  port: number;
  url(scheme: string, userinfo?: string): string;
  /** Cuts every connection and refuses new ones: the target looks down. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

/** A loopback TCP pass-through, to take a broker away from some clients without stopping it. */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  let port = 0;
  const listen = async (): Promise<void> => {
    const s = net.createServer((client) => {
      const upstream = net.connect(targetPort, targetHost);
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
