import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What crossed from the tools to the registry, counted by the meter. */
export interface MeterCounts {
  /** Bodies of PUT/PATCH/POST: blobs, configs, manifests pushed. */
  pushedBytes: number;
  /** Every byte sent upstream: request lines, headers and bodies. */
  sentBytes: number;
  requests: number;
  /** Blob uploads started (POST .../blobs/uploads/ without a mount). */
  uploads: number;
  /** Cross-repository mounts asked for (POST ...?mount=). */
  mounts: number;
}

export interface RegistryMeter {
  /** `127.0.0.1:<port>`: push and pull through this to be counted. */
  host: string;
  counts(): MeterCounts;
  close(): Promise<void>;
}

const zero = (): MeterCounts => ({ pushedBytes: 0, sentBytes: 0, requests: 0, uploads: 0, mounts: 0 });

export function diff(after: MeterCounts, before: MeterCounts): MeterCounts {
  return {
    pushedBytes: after.pushedBytes - before.pushedBytes,
    sentBytes: after.sentBytes - before.sentBytes,
    requests: after.requests - before.requests,
    uploads: after.uploads - before.uploads,
    mounts: after.mounts - before.mounts,
  };
}

/**
 * An HTTP proxy in front of a plain-HTTP registry that counts what clients
 * send it. HTTP-aware rather than a byte pipe so that "pushed" means request
 * bodies, not the headers of the many HEAD and GET requests a push also makes.
 */
export async function startRegistryMeter(upstream: { host: string; port: number }): Promise<RegistryMeter> {
  const c = zero();
  const server = http.createServer((req, res) => {
    c.requests += 1;
    const headerBytes =
      `${req.method ?? ''} ${req.url ?? ''} HTTP/1.1\r\n`.length +
      req.rawHeaders.reduce((n, h) => n + h.length + 2, 0) + // "name: value\r\n"
      2;
    c.sentBytes += headerBytes;
    const pushing = req.method === 'PUT' || req.method === 'PATCH' || req.method === 'POST';
    if (req.method === 'POST' && /\/blobs\/uploads\/?(\?|$)/.test(req.url ?? '')) {
      if (/[?&]mount=/.test(req.url ?? '')) c.mounts += 1;
      else c.uploads += 1;
    }
    req.on('data', (chunk: Buffer) => {
      c.sentBytes += chunk.length;
      if (pushing) c.pushedBytes += chunk.length;
    });
    const forward = http.request(
      {
        host: upstream.host,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.rawHeaders);
        up.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    counts: () => ({ ...c }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
