import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { HttpInstrumentation, type HttpInstrumentationConfig } from '@opentelemetry/instrumentation-http';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { nameSpanAfterExpressRoute } from '../../shared/tracing/express-route';
import { eventually, startMemoryTracing, warmUp } from '../unit/tracing/memory-tracing';

/*
 * The HTTP instrumentation as the services configure it
 * (`@opentelemetry/instrumentation-http`, the SERVER span of incoming
 * requests) on a real server and real client requests over loopback,
 * in-process (spans in memory). The gateway's SERVER span in a running stack
 * is covered by the e2e trace test. Only the server's requests are of
 * interest: the test's own client requests are sent with tracing of
 * outgoing requests turned off.
 */
const { exporter } = startMemoryTracing();
const tracer = trace.getTracer('integration');
const baseConfig: HttpInstrumentationConfig = { disableOutgoingRequestInstrumentation: true };
const instrumentation = new HttpInstrumentation({ ...baseConfig, enabled: false });
// jest's module registry is invisible to require hooks: http is patched by hand.
const httpDefinition = instrumentation.getModuleDefinitions().find((d) => d.name === 'http')!;
const patchModule = (): void => void httpDefinition.patch?.(http, process.versions.node);
const unpatchModule = (): void => httpDefinition.unpatch?.(http, process.versions.node);
instrumentation.enable = () => undefined; // nothing else to hook
patchModule();

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
let server: http.Server;
let port: number;

beforeAll(async () => {
  server = http.createServer((req, res) => handler(req, res));
  server.keepAliveTimeout = 1;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  await warmUp(exporter);
});

afterAll(async () => {
  unpatchModule();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  instrumentation.setConfig(baseConfig);
  exporter.reset();
});

function serverSpans(): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
}

/** One request over a fresh connection; resolves with the status once the body was read. */
function request(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function oneServerSpan(): Promise<ReadableSpan> {
  await eventually(() => serverSpans().length === 1, 'one SERVER span');
  return serverSpans()[0]!;
}

describe('HTTP instrumentation: incoming requests', () => {
  it('when a request carries a traceparent, then its SERVER span continues that trace with the conventions attributes', async () => {
    handler = (_req, res) => {
      res.statusCode = 201;
      res.end('{}');
    };
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    await request('/api/v1/builds?user=alice&sig=s3cret', {
      method: 'POST',
      headers: { traceparent: `00-${traceId}-${parentId}-01`, 'user-agent': 'ci/1.0' },
      body: '{}',
    });
    const span = await oneServerSpan();
    expect(span.name).toBe('POST');
    expect(span.spanContext().traceId).toBe(traceId);
    expect(span.parentSpanContext?.spanId).toBe(parentId);
    expect(span.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.scheme': 'http',
      'url.path': '/api/v1/builds',
      'url.query': 'user=alice&sig=REDACTED',
      'server.address': '127.0.0.1',
      'server.port': port,
      'network.peer.address': '127.0.0.1',
      'client.address': '127.0.0.1',
      'network.protocol.version': '1.1',
      'user_agent.original': 'ci/1.0',
      'http.response.status_code': 201,
    });
    expect(typeof span.attributes['network.peer.port']).toBe('number');
    expect(JSON.stringify(span.attributes)).not.toContain('s3cret');
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('when the handler reads the body from stream events, then its work there is inside the SERVER span', async () => {
    let activeInEnd: string | undefined;
    handler = (req, res) => {
      req.on('data', () => undefined);
      req.on('end', () => {
        activeInEnd = trace.getActiveSpan()?.spanContext().spanId;
        tracer.startSpan('after body').end();
        res.end();
      });
    };
    await request('/upload', { method: 'PUT', body: 'x'.repeat(100_000) });
    const span = await oneServerSpan();
    expect(activeInEnd).toBe(span.spanContext().spanId);
    const child = exporter.getFinishedSpans().find((s) => s.name === 'after body');
    expect(child?.parentSpanContext?.spanId).toBe(span.spanContext().spanId);
  });

  it('when a response finishes, then finish listeners run in the SERVER span (log lines carry its trace)', async () => {
    let inFinish: string | undefined;
    handler = (_req, res) => {
      // Added from a context of its own, as a logger set up outside would.
      context.with(context.active(), () =>
        res.on('finish', () => {
          inFinish = trace.getActiveSpan()?.spanContext().spanId;
        }),
      );
      res.end();
    };
    await request('/ping');
    const span = await oneServerSpan();
    expect(inFinish).toBe(span.spanContext().spanId);
  });

  it('when the answer is a 5xx, then the span is an error; when it is a 4xx, it is not', async () => {
    handler = (req, res) => {
      res.statusCode = req.url === '/broken' ? 503 : 404;
      res.end();
    };
    await request('/broken');
    await request('/missing');
    await eventually(() => serverSpans().length === 2, 'two SERVER spans');
    const byPath = new Map(serverSpans().map((s) => [s.attributes['url.path'], s]));
    expect(byPath.get('/broken')?.status.code).toBe(SpanStatusCode.ERROR);
    // The upstream instrumentation leaves error.type to the duration metric.
    expect(byPath.get('/broken')?.attributes['http.response.status_code']).toBe(503);
    expect(byPath.get('/missing')?.status.code).toBe(SpanStatusCode.UNSET);
    expect(byPath.get('/missing')?.attributes['error.type']).toBeUndefined();
    expect(byPath.get('/missing')?.attributes['http.response.status_code']).toBe(404);
  });

  it('when the method is not a known HTTP method, then it is recorded as _OTHER with the original', async () => {
    handler = (_req, res) => res.end();
    await request('/x', { method: 'PURGE' });
    const span = await oneServerSpan();
    // The upstream instrumentation names the span after the method as sent.
    expect(span.name).toBe('PURGE');
    expect(span.attributes['http.request.method']).toBe('_OTHER');
    expect(span.attributes['http.request.method_original']).toBe('PURGE');
  });

  it('when the client goes away before the answer, then the span still ends', async () => {
    handler = () => undefined; // never answers
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/slow', agent: false });
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => req.destroy(), 100);
    });
    const span = await oneServerSpan();
    // The upstream instrumentation does not mark an abandoned request as an
    // error, and records the status the response had (the default 200).
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('when the express route hook is set, then it names the span before it ends (the express route)', async () => {
    instrumentation.setConfig({ ...baseConfig, applyCustomAttributesOnSpan: nameSpanAfterExpressRoute });
    handler = (req, res) => {
      Object.assign(req, { baseUrl: '/api/v1', route: { path: '/builds/:id' } });
      res.end();
    };
    await request('/api/v1/builds/7');
    const span = await oneServerSpan();
    expect(span.name).toBe('GET /api/v1/builds/:id');
    expect(span.attributes['http.route']).toBe('/api/v1/builds/:id');
  });

  it('when a proxy forwards the request, then client.address is the original client', async () => {
    handler = (_req, res) => res.end();
    await request('/x', { headers: { 'x-forwarded-for': '203.0.113.9, 10.0.0.1' } });
    const span = await oneServerSpan();
    expect(span.attributes['client.address']).toBe('203.0.113.9');
    expect(span.attributes['network.peer.address']).toBe('127.0.0.1');
  });

  it('when the instrumentation is unpatched, then requests get no span', async () => {
    unpatchModule();
    try {
      handler = (_req, res) => res.end();
      await request('/x');
      await new Promise((r) => setTimeout(r, 50));
      expect(serverSpans()).toHaveLength(0);
    } finally {
      patchModule();
    }
  });
});
