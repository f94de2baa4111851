import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { decodeJsonRequest, decodeProtobufRequest, type ReceivedSpan } from './otlp-receiver-decode';

export type {
  ReceivedSpan,
  AttributeValue,
  ReceivedSpanKind,
  ReceivedStatusCode,
} from './otlp-receiver-decode';

export interface OtlpReceiverTls {
  /** PEM server key and certificate. */
  key: string | Buffer;
  cert: string | Buffer;
  /** PEM CA that client certificates must chain to; with it, a client certificate is required. */
  clientCa?: string | Buffer;
}

export interface OtlpReceiverOptions {
  tls?: OtlpReceiverTls;
  /** Default 0 (any free port); the port is kept across stop()/start(). */
  port?: number;
}

export interface OtlpReceiver {
  /** Base URL for `OTEL_EXPORTER_OTLP_ENDPOINT`, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** `${url}/v1/traces`, for `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`. */
  readonly tracesUrl: string;
  /** Every span received so far, in arrival order, duplicates included. */
  spans(): ReceivedSpan[];
  /** Number of accepted export requests. */
  requestCount(): number;
  /** Resolves with spans() once `predicate(spans())` holds; rejects after `timeoutMs` with what was received. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Forget the spans received so far. */
  clear(): void;
  /**
   * An outage: stop listening (exporters get "connection refused"), close idle
   * connections, answer requests already received, then close their sockets.
   */
  stop(): Promise<void>;
  /** Listen again on the same port after stop(). */
  start(): Promise<void>;
  readonly running: boolean;
}

/**
 * A real OTLP/HTTP trace receiver for tests: `POST /v1/traces` with
 * `application/x-protobuf` or `application/json` bodies (gzip accepted),
 * decoded into spans. Listens on 127.0.0.1; optional TLS with client
 * certificate verification.
 */
export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const received: ReceivedSpan[] = [];
  let requests = 0;
  const waiters = new Set<() => void>();

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    void handle(req, res);
  };
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    try {
      let body = Buffer.concat(await readAll(req));
      if (req.headers['content-encoding'] === 'gzip') body = await promisify(zlib.gunzip)(body);
      const json = (req.headers['content-type'] ?? '').includes('json');
      const spans = json ? decodeJsonRequest(body) : decodeProtobufRequest(body);
      received.push(...spans);
      requests++;
      // While stopping, answer what was read and close the socket: a stop
      // never loses or duplicates a request that reached the handler.
      res.writeHead(200, {
        'content-type': json ? 'application/json' : 'application/x-protobuf',
        ...(running ? {} : { connection: 'close' }),
      });
      res.end(json ? '{}' : Buffer.alloc(0)); // an empty ExportTraceServiceResponse: full success
      for (const wake of [...waiters]) wake();
    } catch (err) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`cannot decode: ${(err as Error).message}`);
    }
  };

  const tls = options.tls;
  const server: http.Server = tls
    ? https.createServer(
        {
          key: tls.key,
          cert: tls.cert,
          ca: tls.clientCa,
          requestCert: !!tls.clientCa,
          rejectUnauthorized: !!tls.clientCa,
        },
        handler,
      )
    : http.createServer(handler);

  let port = options.port ?? 0;
  let running = false;
  const listen = async (): Promise<void> => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    port = (server.address() as AddressInfo).port;
    running = true;
  };
  await listen();
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  return {
    url,
    tracesUrl: `${url}/v1/traces`,
    spans: () => [...received],
    requestCount: () => requests,
    get running() {
      return running;
    },
    clear: () => {
      received.length = 0;
    },
    waitFor: (predicate, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (!predicate(received)) return false;
          cleanup();
          resolve([...received]);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          const names = received.map((s) => `${s.serviceName ?? '?'}:${s.name}`).join(', ');
          reject(
            new Error(
              `OTLP receiver: condition not met within ${timeoutMs} ms; got ${received.length} spans: ${names}`,
            ),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        const wake = (): void => {
          check();
        };
        if (!check()) waiters.add(wake);
      }),
    stop: async () => {
      if (!running) return;
      running = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
    },
    start: async () => {
      if (!running) await listen();
    },
  };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return chunks;
}
