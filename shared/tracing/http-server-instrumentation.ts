import { errorMonitor } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  isWrapped,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import { errorClass, failSpan } from './span-error';

export interface HttpServerInstrumentationConfig extends InstrumentationConfig {
  /**
   * Called with the span once the response is done, before the span ends:
   * the place to add what is only known then (e.g. the route that answered).
   */
  onResponse?: (span: Span, request: IncomingMessage, response: ServerResponse) => void;
}

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;
interface ServerPrototype {
  emit: AnyFn;
}
interface ServerModule {
  Server: { prototype: ServerPrototype };
}

const NAME = '@iib/instrumentation-http-server';
const VERSION = '0.1.0';
/** The methods the HTTP conventions know; any other is `_OTHER`. */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'QUERY',
  'TRACE',
]);
/** Query parameters whose values are credentials (signed URLs); recorded as REDACTED. */
const REDACTED_QUERY_KEYS: ReadonlySet<string> = new Set([
  'AWSAccessKeyId',
  'Signature',
  'sig',
  'X-Goog-Signature',
]);

/**
 * OpenTelemetry instrumentation of Node's HTTP and HTTPS servers: a SERVER
 * span per request, with the stable HTTP conventions' attributes, the W3C
 * context of the request's headers as parent, and the request's listeners
 * (and every listener of the request and response streams) run in the span's
 * context. It ends when the response is done (`close`).
 *
 * It replaces the incoming half of `@opentelemetry/instrumentation-http`,
 * which stays in use for outgoing requests. Per request it does less: the
 * request and response get their `emit` wrapped once, where the upstream
 * package patches six methods of each and wraps every listener added to them
 * (with `Object.defineProperty` on each wrapper), and it parses no URL
 * object. Left out: the `http.server.request.duration` metric, header
 * capture and the request/response hooks; a deployment that wants them
 * disables `http` and names `@opentelemetry/instrumentation-http` in
 * `IIB_OTEL_EXTRA_INSTRUMENTATIONS`.
 */
export class HttpServerInstrumentation extends InstrumentationBase<HttpServerInstrumentationConfig> {
  constructor(config: HttpServerInstrumentationConfig = {}) {
    super(NAME, VERSION, config);
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return ['http', 'https'].map(
      (name) =>
        new InstrumentationNodeModuleDefinition(
          name,
          ['*'],
          (exports: unknown) => this.patchModule(exports),
          (exports: unknown) => this.unpatchModule(exports),
        ),
    );
  }

  /** Patch an already loaded `http` or `https` (for loaders that bypass require hooks, e.g. jest). */
  patchModule(exports: unknown): unknown {
    if (!isServerModule(exports)) {
      this._diag.warn('http has an unexpected shape; not instrumented');
      return exports;
    }
    this.unpatchModule(exports);
    this._wrap(exports.Server.prototype, 'emit', (original) => this.wrapEmit(original));
    return exports;
  }

  unpatchModule(exports: unknown): void {
    if (!isServerModule(exports)) return;
    if (isWrapped(exports.Server.prototype.emit)) this._unwrap(exports.Server.prototype, 'emit');
  }

  private wrapEmit(original: AnyFn): AnyFn {
    const handle = (server: unknown, args: unknown[], request: IncomingMessage, response: ServerResponse) =>
      this.handleRequest(server, original, args, request, response);
    return function tracedEmit(
      this: unknown,
      event: unknown,
      request?: unknown,
      response?: unknown,
    ): unknown {
      // eslint-disable-next-line prefer-rest-params
      const args = arguments as unknown as unknown[];
      if (event !== 'request' || !isObject(request) || !isObject(response)) return original.apply(this, args);
      return handle(this, args, request as IncomingMessage, response as ServerResponse);
    };
  }

  private handleRequest(
    server: unknown,
    original: AnyFn,
    args: unknown[],
    request: IncomingMessage,
    response: ServerResponse,
  ): unknown {
    if (isTracingSuppressed(context.active())) return original.apply(server, args);
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const { method, attributes } = requestAttributes(request);
    const span = this.tracer.startSpan(method, { kind: SpanKind.SERVER, attributes }, parent);
    const active = trace.setSpan(parent, span);
    runListenersIn(request, active);
    runListenersIn(response, active);
    if (span.isRecording()) {
      const onResponse = this.getConfig().onResponse;
      let failure: unknown;
      response.once(errorMonitor, (err: unknown) => {
        failure ??= err;
      });
      response.once('close', () => {
        this.finish(span, request, response, failure, onResponse);
      });
    }
    try {
      return context.with(active, () => original.apply(server, args));
    } catch (err) {
      // A listener threw: the server would crash; the span says why first.
      failSpan(span, err, { type: errorClass(err) });
      throw err;
    }
  }

  private finish(
    span: Span,
    request: IncomingMessage,
    response: ServerResponse,
    failure: unknown,
    onResponse: HttpServerInstrumentationConfig['onResponse'],
  ): void {
    const status = response.statusCode;
    // Sent headers carry the status (a finished response has sent them).
    if (response.headersSent) span.setAttribute('http.response.status_code', status);
    if (failure !== undefined) {
      failSpan(span, failure, { type: errorClass(failure) });
    } else if (!response.writableFinished) {
      // The connection went before the response was sent (the client gave up).
      span.setAttribute('error.type', 'aborted');
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: 'the connection closed before the response was sent',
      });
    } else if (status >= 500) {
      // semconv: a server span is an error for 5xx only (4xx are the client's).
      span.setAttribute('error.type', String(status));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    if (onResponse) {
      try {
        onResponse(span, request, response);
      } catch (err) {
        this._diag.error('http server onResponse hook failed', err);
      }
    }
    span.end();
  }
}

/**
 * Every listener of the stream runs in `active`: body parsers reading `data`
 * and `end`, and `finish`/`close` handlers (log lines carry the trace), which
 * Node would otherwise run in the connection's context. One wrapper per
 * stream, whatever the number of listeners.
 */
function runListenersIn(emitter: IncomingMessage | ServerResponse, active: Context): void {
  // Called with the stream as `this` below.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const emit = emitter.emit as AnyFn;
  emitter.emit = function emitInRequestContext(this: unknown): boolean {
    // eslint-disable-next-line prefer-rest-params
    return context.with(active, Reflect.apply, undefined, emit, this, arguments) as boolean;
  } as typeof emitter.emit;
}

/** The span's name (the method) and its attributes at the start, per the stable HTTP conventions. */
function requestAttributes(request: IncomingMessage): { method: string; attributes: Attributes } {
  const headers = request.headers;
  const original = request.method ?? 'GET';
  const method = KNOWN_METHODS.has(original) ? original : '_OTHER';
  const url = request.url ?? '/';
  const q = url.indexOf('?');
  const socket = request.socket as (IncomingMessage['socket'] & { encrypted?: boolean }) | null;
  const attributes: Attributes = {
    'http.request.method': method,
    'url.scheme': socket?.encrypted ? 'https' : 'http',
    'url.path': q === -1 ? url : url.slice(0, q),
  };
  if (method === '_OTHER') attributes['http.request.method_original'] = original;
  if (q !== -1 && q < url.length - 1) attributes['url.query'] = redactQuery(url.slice(q + 1));
  const host = typeof headers.host === 'string' ? parseHost(headers.host) : undefined;
  if (host) {
    attributes['server.address'] = host.address;
    if (host.port !== undefined) attributes['server.port'] = host.port;
  }
  const peer = socket?.remoteAddress;
  if (peer !== undefined) {
    attributes['network.peer.address'] = peer;
    if (socket?.remotePort !== undefined) attributes['network.peer.port'] = socket.remotePort;
  }
  const forwarded = headers['x-forwarded-for'];
  const client = typeof forwarded === 'string' ? forwarded.split(',')[0]?.trim() : undefined;
  if (client || peer) attributes['client.address'] = client || peer;
  attributes['network.protocol.version'] = request.httpVersion;
  const agent = headers['user-agent'];
  if (agent !== undefined) attributes['user_agent.original'] = agent;
  return { method, attributes };
}

/** `host[:port]` or `[v6][:port]`. */
function parseHost(host: string): { address: string; port: number | undefined } | undefined {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
  if (!match) return undefined;
  return { address: match[1]!, port: match[2] === undefined ? undefined : Number(match[2]) };
}

function redactQuery(query: string): string {
  if (!query.includes('=')) return query;
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq !== -1 && REDACTED_QUERY_KEYS.has(pair.slice(0, eq)) ? `${pair.slice(0, eq)}=REDACTED` : pair;
    })
    .join('&');
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isServerModule(exports: unknown): exports is ServerModule {
  if (!isObject(exports)) return false;
  const server = (exports as { Server?: unknown }).Server;
  return (
    typeof server === 'function' &&
    typeof (server as { prototype: Partial<ServerPrototype> }).prototype.emit === 'function'
  );
}
