import {
  context,
  isSpanContextValid,
  propagation,
  SpanKind,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { failSpan } from './span-error';

const TRACER_NAME = '@iib/tracing';
const TRACER_VERSION = '0.1.0';

export interface TracedOptions<A extends unknown[] = unknown[]> {
  /**
   * Attributes of the span, or a function of the call's arguments. Never put
   * tokens, passwords or message bodies here: spans leave the process.
   */
  attributes?: Attributes | ((...args: A) => Attributes);
  kind?: SpanKind;
  /** Tracer (instrumentation scope) name; default `@iib/tracing`. */
  tracerName?: string;
}

/** Our own spans' tracer (instrumentation scope `@iib/tracing` unless named). */
export function tracer(name = TRACER_NAME): Tracer {
  // Looked up per call so a provider registered after this module loaded is used.
  return trace.getTracer(name, TRACER_VERSION);
}

/**
 * Run `fn` inside a new active span that ends when `fn` returns or, for a
 * promise, settles. A throw or a rejection is recorded on the span, sets the
 * ERROR status and is rethrown unchanged. `fn` receives the span to add
 * attributes known only inside (exit code, counts).
 */
export function withSpan<R>(name: string, fn: (span: Span) => R, opts: TracedOptions = {}): R {
  const attributes = typeof opts.attributes === 'function' ? opts.attributes() : opts.attributes;
  return tracer(opts.tracerName).startActiveSpan(
    name,
    { kind: opts.kind ?? SpanKind.INTERNAL, attributes },
    (span) => runInSpan(span, () => fn(span)),
  );
}

/** Wrap a sync or async function so every call runs in its own span (see `withSpan`). */
export function traced<A extends unknown[], R>(
  name: string,
  fn: (...args: A) => R,
  opts: TracedOptions<A> = {},
): (...args: A) => R {
  const wrapped = function (this: unknown, ...args: A): R {
    const attributes = typeof opts.attributes === 'function' ? opts.attributes(...args) : opts.attributes;
    return tracer(opts.tracerName).startActiveSpan(
      name,
      { kind: opts.kind ?? SpanKind.INTERNAL, attributes },
      (span) => runInSpan(span, () => fn.apply(this, args)),
    );
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name || name });
  return wrapped;
}

export interface TraceMethodsOptions {
  /** Method names to leave untraced (e.g. cheap getters called in loops). */
  exclude?: readonly string[];
  tracerName?: string;
}

/**
 * Trace every method of an object (own and inherited, up to but excluding
 * `Object.prototype`) as `<prefix>.<method>`, without decorators. The methods
 * are replaced on the instance itself, so other instances and the class are
 * untouched. Returns the same object for chaining.
 */
export function traceMethods<T extends object>(obj: T, prefix: string, opts: TraceMethodsOptions = {}): T {
  const exclude = new Set(['constructor', ...(opts.exclude ?? [])]);
  const seen = new Set<string>();
  for (
    let proto: object | null = obj;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto) as object | null
  ) {
    for (const key of Object.getOwnPropertyNames(proto)) {
      if (seen.has(key) || exclude.has(key)) continue;
      seen.add(key);
      const descriptor = Object.getOwnPropertyDescriptor(proto, key);
      // Accessors are skipped: tracing a getter would change when it runs.
      if (!descriptor || typeof descriptor.value !== 'function') continue;
      const method = descriptor.value as (...args: unknown[]) => unknown;
      Object.defineProperty(obj, key, {
        value: traced(`${prefix}.${key}`, method, { tracerName: opts.tracerName }),
        writable: true,
        configurable: true,
        enumerable: descriptor.enumerable,
      });
    }
  }
  return obj;
}

/** The active trace id (32 hex chars), e.g. to store with a request; undefined outside a span. */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getSpanContext(context.active());
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/**
 * The active context as W3C strings (`traceparent`, `tracestate`, `baggage`),
 * e.g. to keep with an outbox row and hand to the send later; empty outside a span.
 */
export function currentTraceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

function runInSpan<R>(span: Span, fn: () => R): R {
  let result: R;
  try {
    result = fn();
  } catch (err) {
    failSpan(span, err);
    span.end();
    throw err;
  }
  if (isPromiseLike(result)) {
    return Promise.resolve(result).then(
      (value) => {
        span.end();
        return value;
      },
      (err: unknown) => {
        failSpan(span, err);
        span.end();
        throw err;
      },
    ) as R;
  }
  span.end();
  return result;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
