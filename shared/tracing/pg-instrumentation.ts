import { errorMonitor } from 'node:events';
import { context, SpanKind, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  isWrapped,
  type InstrumentationConfig,
} from '@opentelemetry/instrumentation';
import { errorClass, failSpan } from './span-error';

export interface PgInstrumentationConfig extends InstrumentationConfig {
  /**
   * `true` (default): a query or connect issued outside any span gets no span
   * (migrations at start-up, a poller's queries between requests).
   */
  requireParentSpan?: boolean;
}

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;
type Callback = (this: unknown, err: unknown, result?: unknown) => unknown;

interface ConnectionParameters {
  database?: unknown;
  host?: unknown;
  port?: unknown;
}
interface PgClient {
  connectionParameters?: ConnectionParameters;
}
interface ClientPrototype {
  query: AnyFn;
  connect: AnyFn;
}
interface PgModule {
  Client: { prototype: ClientPrototype };
}

const NAME = '@iib/instrumentation-pg';
const VERSION = '0.1.0';
const SUPPORTED = ['>=8.0.3 <9'];
/** On a client: the attributes every span of its connection shares. */
const CLIENT_INFO = Symbol('iib.pg.clientInfo');

interface ClientInfo {
  readonly attributes: Readonly<Attributes>;
  readonly namespace: string | undefined;
}

/**
 * OpenTelemetry instrumentation for `pg` (node-postgres) 8: a CLIENT span per
 * query (`Client.prototype.query`, so pooled clients and knex are covered)
 * and per connect, with the stable database conventions' attributes
 * (`db.system.name`, `db.namespace`, `db.query.text`, `db.operation.name`,
 * `server.address`, `server.port`, and `db.response.status_code`/`error.type`
 * on failure). Parameter values are never recorded.
 *
 * It does what `@opentelemetry/instrumentation-pg` does for a query, for a
 * fraction of its cost per query: no copy of the query config, the
 * connection's attributes worked out once per client, no bound callbacks
 * (the caller's context is restored around the callback instead), nothing at
 * all for a query outside a span or inside a sampled-out one. The upstream
 * package (metrics, SQL commenter, pool spans, values) can be used instead:
 * `IIB_OTEL_DISABLED_INSTRUMENTATIONS=pg` and
 * `IIB_OTEL_EXTRA_INSTRUMENTATIONS=@opentelemetry/instrumentation-pg`.
 */
export class PgInstrumentation extends InstrumentationBase<PgInstrumentationConfig> {
  constructor(config: PgInstrumentationConfig = {}) {
    super(NAME, VERSION, config);
  }

  override setConfig(config: PgInstrumentationConfig = {}): void {
    super.setConfig({ requireParentSpan: true, ...config });
  }

  protected init(): InstrumentationNodeModuleDefinition {
    return new InstrumentationNodeModuleDefinition(
      'pg',
      SUPPORTED,
      (exports: unknown) => this.patchModule(exports),
      (exports: unknown) => this.unpatchModule(exports),
    );
  }

  /** Patch an already loaded `pg` (for loaders that bypass require hooks, e.g. jest). */
  patchModule(exports: unknown): unknown {
    if (!isPgModule(exports)) {
      this._diag.warn('pg has an unexpected shape; not instrumented');
      return exports;
    }
    this.unpatchModule(exports);
    const proto = exports.Client.prototype;
    this._wrap(proto, 'query', (original) => this.wrapQuery(original));
    this._wrap(proto, 'connect', (original) => this.wrapConnect(original));
    return exports;
  }

  unpatchModule(exports: unknown): void {
    if (!isPgModule(exports)) return;
    const proto = exports.Client.prototype;
    if (isWrapped(proto.query)) this._unwrap(proto, 'query');
    if (isWrapped(proto.connect)) this._unwrap(proto, 'connect');
  }

  /** The span of an operation, or undefined when there is none to record. */
  private startSpan(client: PgClient, parent: Context, text: string | undefined): Span | undefined {
    if (isTracingSuppressed(parent)) return undefined;
    if (this.getConfig().requireParentSpan !== false && trace.getSpan(parent) === undefined) return undefined;
    const info = clientInfo(client);
    const attributes: Attributes = { ...info.attributes };
    let name = 'pg.connect';
    if (text !== undefined) {
      const operation = operationOf(text);
      attributes['db.query.text'] = text;
      if (operation !== undefined) attributes['db.operation.name'] = operation;
      name = spanName(operation, info.namespace);
    }
    const span = this.tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
    return span.isRecording() ? span : undefined;
  }

  private wrapQuery(original: AnyFn): AnyFn {
    const startSpan = (client: PgClient, parent: Context, text: string) =>
      this.startSpan(client, parent, text);
    return function tracedQuery(
      this: unknown,
      config: unknown,
      values?: unknown,
      callback?: unknown,
    ): unknown {
      // eslint-disable-next-line prefer-rest-params
      const args = arguments as unknown as unknown[];
      const text = queryText(config);
      if (text === undefined) return original.apply(this, args);
      const parent = context.active();
      const span = startSpan(this as PgClient, parent, text);
      if (span === undefined) return original.apply(this, args);

      let result: unknown;
      try {
        if (typeof callback === 'function') {
          result = original.call(this, config, values, endingCallback(span, parent, callback as Callback));
        } else if (typeof values === 'function') {
          result = original.call(this, config, endingCallback(span, parent, values as Callback));
        } else if (
          !isSubmittable(config) &&
          typeof (config as { callback?: unknown }).callback === 'function'
        ) {
          // A query config with its own callback: a copy, the caller's object is left alone.
          const own = (config as { callback: Callback }).callback;
          const copy = { ...(config as object), callback: endingCallback(span, parent, own) };
          result = args.length > 1 ? original.call(this, copy, values) : original.call(this, copy);
        } else {
          result = original.apply(this, args);
          endWhenDone(span, isSubmittable(config) ? config : result);
        }
      } catch (err) {
        end(span, err);
        throw err;
      }
      return result;
    };
  }

  private wrapConnect(original: AnyFn): AnyFn {
    const startSpan = (client: PgClient, parent: Context) => this.startSpan(client, parent, undefined);
    return function tracedConnect(this: unknown, callback?: unknown): unknown {
      // eslint-disable-next-line prefer-rest-params
      const args = arguments as unknown as unknown[];
      const parent = context.active();
      const span = startSpan(this as PgClient, parent);
      if (span === undefined) return original.apply(this, args);
      let result: unknown;
      try {
        if (typeof callback === 'function') {
          result = original.call(this, endingCallback(span, parent, callback as Callback));
        } else {
          result = original.apply(this, args);
          endWhenDone(span, result);
        }
      } catch (err) {
        end(span, err);
        throw err;
      }
      return result;
    };
  }
}

/** The caller's callback, ending the span first and run in the caller's context (not the socket's). */
function endingCallback(span: Span, parent: Context, callback: Callback): Callback {
  return function endSpanThenCallBack(this: unknown, err: unknown, result?: unknown): unknown {
    end(span, err);
    return context.with(parent, callback, this, err, result);
  };
}

/** A promise (settles), a submittable query (emits end or close, or an error), or nothing to wait for. */
function endWhenDone(span: Span, result: unknown): void {
  if (isObject(result) && typeof (result as { then?: unknown }).then === 'function') {
    (result as Promise<unknown>).then(
      () => end(span, undefined),
      (err: unknown) => end(span, err),
    );
    return;
  }
  const emitter = result as { once?: (event: string | symbol, listener: (err?: unknown) => void) => unknown };
  if (isObject(result) && typeof emitter.once === 'function') {
    let ended = false;
    const finish = (err?: unknown): void => {
      if (ended) return;
      ended = true;
      end(span, err);
    };
    // errorMonitor: watching for errors must not count as handling them.
    emitter.once(errorMonitor, (err) => finish(err ?? new Error('query failed')));
    emitter.once('end', () => finish());
    emitter.once('close', () => finish());
    return;
  }
  end(span, undefined);
}

function end(span: Span, err: unknown): void {
  if (err) {
    const code =
      isObject(err) && typeof (err as { code?: unknown }).code === 'string'
        ? (err as { code: string }).code
        : undefined;
    if (code !== undefined) span.setAttribute('db.response.status_code', code);
    failSpan(span, err, { type: code ?? errorClass(err) });
  }
  span.end();
}

function clientInfo(client: PgClient): ClientInfo {
  const holder = client as PgClient & { [CLIENT_INFO]?: ClientInfo };
  const cached = holder[CLIENT_INFO];
  if (cached) return cached;
  const params = client.connectionParameters ?? {};
  const namespace = typeof params.database === 'string' && params.database ? params.database : undefined;
  const attributes: Attributes = { 'db.system.name': 'postgresql' };
  if (namespace !== undefined) attributes['db.namespace'] = namespace;
  if (typeof params.host === 'string' && params.host) attributes['server.address'] = params.host;
  const port = typeof params.port === 'string' ? Number.parseInt(params.port, 10) : params.port;
  if (typeof port === 'number' && Number.isInteger(port)) attributes['server.port'] = port;
  const info: ClientInfo = { attributes, namespace };
  // Only once the parameters are known (a client gets them in its constructor).
  if (client.connectionParameters) holder[CLIENT_INFO] = info;
  return info;
}

function queryText(config: unknown): string | undefined {
  if (typeof config === 'string') return config;
  if (isObject(config)) {
    const text = (config as { text?: unknown }).text;
    if (typeof text === 'string') return text;
  }
  return undefined;
}

/**
 * The first keyword of the query (`SELECT`, `WITH`, `COMMIT`), upper-cased,
 * as the conventions ask of an operation name parsed from the text; none
 * when the text does not start with a word.
 */
function operationOf(text: string): string | undefined {
  const match = /^\s*([A-Za-z]+)/.exec(text);
  return match ? match[1]!.toUpperCase() : undefined;
}

/** semconv: `{db.operation.name} {target}`, the target being the database here. */
function spanName(operation: string | undefined, namespace: string | undefined): string {
  if (operation && namespace) return `${operation} ${namespace}`;
  return operation ?? namespace ?? 'postgresql';
}

function isSubmittable(config: unknown): boolean {
  return isObject(config) && typeof (config as { submit?: unknown }).submit === 'function';
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function isPgModule(exports: unknown): exports is PgModule {
  if (!isObject(exports)) return false;
  const client = (exports as { Client?: unknown }).Client;
  if (typeof client !== 'function') return false;
  const proto = (client as { prototype: Partial<ClientPrototype> }).prototype;
  return typeof proto.query === 'function' && typeof proto.connect === 'function';
}
