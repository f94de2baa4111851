import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import {
  InstrumentationBase,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
} from '@opentelemetry/instrumentation';
import {
  addressOf,
  applicationPropertiesSetter,
  copyRecord,
  isMessageObject,
  isObject,
  messageAttributes,
  type Outcome,
  type RheaEventContext,
  type RheaLink,
  type RheaMessage,
} from './model';
import { extract, isLinkModule, linkInfo, rejectionCondition, spanName, type AnyFn } from './link-info';
import { endAllPending, endWithException, PendingSpan } from './pending';
import {
  SETTLING,
  wrapDeliveryUpdate,
  wrapDisconnect,
  wrapIncomingUpdate,
  type IncomingPrototype,
  type Settling,
} from './settlement';
import { DEFAULT_CONFIG, type RheaInstrumentationConfig } from './types';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version';

const SUPPORTED = ['>=1.0.0 <4'];
const TRACKED = Symbol('iib.rhea.trackedSend');
/** On a receiver link: the prototype of its session's incoming side (null: none to watch). */
const INCOMING_WATCHED = Symbol('iib.rhea.incomingWatched');

const SENDER_OUTCOMES: ReadonlySet<string> = new Set([
  'accepted',
  'rejected',
  'released',
  'modified',
  'settled',
]);

/**
 * OpenTelemetry instrumentation for rhea (AMQP 1.0), shaped like
 * `@opentelemetry/instrumentation-amqplib`: it patches `rhea/lib/link.js`.
 * A send span ends when the broker settles the delivery; a process span
 * surrounds the `message` listeners and ends when the application settles
 * the delivery (accept/release/reject/modified), so async handlers are
 * covered. Context travels as W3C strings in the application properties.
 */
export class RheaInstrumentation extends InstrumentationBase<RheaInstrumentationConfig> {
  /** rhea's incoming-delivery prototypes wrapped on first use (see watchIncomingSettlement). */
  private readonly incomingPrototypes = new Set<IncomingPrototype>();

  constructor(config: RheaInstrumentationConfig = {}) {
    super(PACKAGE_NAME, PACKAGE_VERSION, config);
  }

  override setConfig(config: RheaInstrumentationConfig = {}): void {
    super.setConfig({ ...DEFAULT_CONFIG, ...config });
  }

  protected init(): InstrumentationNodeModuleDefinition {
    const file = new InstrumentationNodeModuleFile(
      'rhea/lib/link.js',
      SUPPORTED,
      (exports: unknown) => this.patchLinkModule(exports),
      (exports: unknown) => this.unpatchLinkModule(exports),
    );
    return new InstrumentationNodeModuleDefinition('rhea', SUPPORTED, undefined, undefined, [file]);
  }

  /** Patch an already loaded `rhea/lib/link.js` (for loaders that bypass require hooks, e.g. jest). */
  patchLinkModule(exports: unknown): unknown {
    if (!isLinkModule(exports)) {
      this._diag.warn('rhea/lib/link.js has an unexpected shape; not instrumented');
      return exports;
    }
    this.unpatchLinkModule(exports);
    const sender = exports.Sender.prototype;
    const receiver = exports.Receiver.prototype;
    this._wrap(sender, 'send', (original) => this.wrapSend(original as AnyFn));
    this._wrap(sender, 'dispatch', (original) => this.wrapSenderDispatch(original));
    this._wrap(receiver, 'dispatch', (original) => this.wrapReceiverDispatch(original));
    for (const proto of [sender, receiver]) {
      if (typeof proto._disconnect === 'function') {
        this._wrap(proto, '_disconnect', (original) => wrapDisconnect(original as AnyFn));
      }
    }
    return exports;
  }

  unpatchLinkModule(exports: unknown): void {
    for (const proto of this.incomingPrototypes) {
      if (isWrapped(proto.update)) this._unwrap(proto, 'update');
    }
    this.incomingPrototypes.clear();
    if (!isLinkModule(exports)) return;
    for (const proto of [exports.Sender.prototype, exports.Receiver.prototype]) {
      for (const name of ['send', 'dispatch', '_disconnect'] as const) {
        if (isWrapped(proto[name])) this._unwrap(proto, name);
      }
    }
  }

  private wrapSend(original: AnyFn): AnyFn {
    // rhea calls the wrapper with the link as `this`; the instrumentation is reached through closures.
    const startSpan = (link: RheaLink, args: unknown[]) => this.startSendSpan(link, args);
    const track = (link: RheaLink, delivery: unknown, span: Span) => this.trackSend(link, delivery, span);
    const diag = this._diag;
    return function tracedSend(this: unknown, ...args: unknown[]): unknown {
      // Suppressed (a caller that traces the send itself, e.g. sendBatch): nothing to add.
      if (isTracingSuppressed(context.active())) return original.apply(this, args);
      const link = this as RheaLink;
      let started: { span: Span; args: unknown[] };
      try {
        started = startSpan(link, args);
      } catch (err) {
        diag.error('rhea send instrumentation failed', err);
        return original.apply(this, args);
      }
      let delivery: unknown;
      try {
        delivery = original.apply(this, started.args);
      } catch (err) {
        endWithException(started.span, err);
        throw err;
      }
      track(link, delivery, started.span);
      return delivery;
    };
  }

  private startSendSpan(link: RheaLink, args: unknown[]): { span: Span; args: unknown[] } {
    const [msg, , format] = args;
    // A pre-encoded payload (explicit format) cannot carry our properties.
    const message = format === undefined && isMessageObject(msg) ? msg : undefined;
    const config = this.getConfig();
    const linkAddress = linkInfo(link, config, 'send');
    const destination = linkAddress.destination ?? addressOf(message?.to);

    let parent = context.active();
    const links: Link[] = [];
    const carried =
      message && isObject(message.application_properties)
        ? extract(message.application_properties)
        : undefined;
    if (carried) {
      // No ambient span (e.g. an outbox relay): the context stored with the
      // message is the parent. Under an ambient span it is only linked.
      if (trace.getSpan(parent) === undefined) parent = carried.context;
      else links.push({ context: carried.spanContext });
    }

    const attributes = messageAttributes(message, linkAddress.attributes, config.recordBodySize === true);
    let name = linkAddress.spanName;
    if (linkAddress.destination === undefined && destination !== undefined) {
      attributes['messaging.destination.name'] = destination;
      name = spanName('send', destination, attributes);
    }
    const span = this.tracer.startSpan(
      name,
      // semconv: PRODUCER only when the context is injected into the message.
      { kind: message ? SpanKind.PRODUCER : SpanKind.CLIENT, attributes, links },
      parent,
    );
    this._runSpanCustomizationHook(config.publishHook, 'publish', span, { message, destination });

    if (!message) return { span, args };
    // The caller's object is left alone: a retry of the same message must
    // not inherit the context of the failed attempt.
    // copyRecord, not spread syntax: the propagator adds keys to it (see messageAttributes).
    const properties = isObject(message.application_properties)
      ? copyRecord(message.application_properties)
      : {};
    propagation.inject(trace.setSpan(parent, span), properties, applicationPropertiesSetter);
    const outgoing: RheaMessage = { ...message, application_properties: properties };
    const outgoingArgs = args.slice();
    outgoingArgs[0] = outgoing;
    return { span, args: outgoingArgs };
  }

  private trackSend(link: RheaLink, delivery: unknown, span: Span): void {
    // A sampled-out span records nothing: no outcome to wait for.
    if (!span.isRecording()) return;
    const pending = new PendingSpan(span);
    if (!isObject(delivery) || delivery.settled === true) {
      // Pre-settled (snd_settle_mode settled): no outcome will ever come.
      pending.end({ outcome: 'settled' });
      return;
    }
    (delivery as { [TRACKED]?: PendingSpan })[TRACKED] = pending;
    pending.track(link, this.getConfig().settleTimeoutMs ?? DEFAULT_CONFIG.settleTimeoutMs);
  }

  private wrapSenderDispatch(original: AnyFn): AnyFn {
    // Every event of every link passes here: no rest parameters, no copies.
    return function tracedSenderDispatch(this: unknown, name: unknown, ctx: unknown): unknown {
      if (typeof name === 'string') {
        if (SENDER_OUTCOMES.has(name)) {
          const delivery = isObject(ctx) ? (ctx as RheaEventContext).delivery : undefined;
          const pending = (delivery as { [TRACKED]?: PendingSpan } | undefined)?.[TRACKED];
          pending?.end({ outcome: name as Outcome, condition: rejectionCondition(delivery) });
        } else if (name === 'sender_close' || name === 'sender_error') {
          endAllPending(this as object, 'link_closed');
        }
      }
      // eslint-disable-next-line prefer-rest-params
      return original.apply(this, arguments as unknown as unknown[]);
    };
  }

  private wrapReceiverDispatch(original: AnyFn): AnyFn {
    const dispatchMessage = (link: RheaLink, args: unknown[], ctx: RheaEventContext) =>
      this.dispatchMessage(link, original, args, ctx);
    return function tracedReceiverDispatch(this: unknown, name: unknown, ctx: unknown): unknown {
      // eslint-disable-next-line prefer-rest-params
      const args = arguments as unknown as unknown[];
      if (name === 'message' && isObject(ctx)) {
        return dispatchMessage(this as RheaLink, args, ctx);
      }
      if (name === 'receiver_close' || name === 'receiver_error')
        endAllPending(this as object, 'link_closed');
      return original.apply(this, args);
    };
  }

  private dispatchMessage(link: RheaLink, original: AnyFn, args: unknown[], ctx: RheaEventContext): unknown {
    const config = this.getConfig();
    const message = ctx.format === undefined && isMessageObject(ctx.message) ? ctx.message : undefined;
    const linkAddress = linkInfo(link, config, 'process');
    const carried =
      message && isObject(message.application_properties)
        ? extract(message.application_properties)
        : undefined;

    // The ambient context of a socket callback is whatever opened the
    // connection, never the message's producer: it is deliberately ignored.
    let parent: Context = ROOT_CONTEXT;
    if (carried) parent = config.useLinksForConsume ? trace.deleteSpan(carried.context) : carried.context;
    const attributes = messageAttributes(message, linkAddress.attributes, config.recordBodySize === true);
    const span = this.tracer.startSpan(
      linkAddress.spanName,
      { kind: SpanKind.CONSUMER, attributes, links: carried ? [{ context: carried.spanContext }] : [] },
      parent,
    );
    this._runSpanCustomizationHook(config.consumeHook, 'consume', span, {
      message,
      destination: linkAddress.destination,
    });

    if (!span.isRecording()) {
      // Sampled out: the span only carries the context (and its sampled flag) on.
      return context.with(trace.setSpan(parent, span), () => original.apply(link, args));
    }
    const pending = new PendingSpan(span);
    const delivery = ctx.delivery;
    // Settlement inside the listeners (autoaccept, or a synchronous handler)
    // is applied after they return, so the span covers their work.
    pending.hold();
    if (delivery && typeof delivery.update === 'function') {
      if (this.watchIncomingSettlement(link)) (delivery as Settling)[SETTLING] = pending;
      else wrapDeliveryUpdate(delivery, delivery.update, pending);
    }

    let result: unknown;
    try {
      result = context.with(trace.setSpan(parent, span), () => original.apply(link, args));
    } catch (err) {
      pending.fail(err);
      throw err;
    }
    if (pending.release()) return result;
    if (isObject(delivery) && delivery.remote_settled === true) pending.end({ outcome: 'settled' });
    else pending.track(link, config.settleTimeoutMs ?? DEFAULT_CONFIG.settleTimeoutMs);
    return result;
  }

  /**
   * Every settlement of an incoming delivery (accept, release, reject,
   * modified, autoaccept) goes through the `update` of its session's
   * incoming side, one prototype per copy of rhea. Watching it there costs a
   * property lookup per message; wrapping each delivery's own closure cost
   * two closures per message and kept the span reachable from the delivery.
   * rhea does not export that class, so it is found through the link's
   * session, once per link; a rhea without it falls back to the per-delivery
   * wrapper.
   */
  private watchIncomingSettlement(link: RheaLink): boolean {
    const holder = link as RheaLink & { [INCOMING_WATCHED]?: IncomingPrototype | null };
    let proto = holder[INCOMING_WATCHED];
    if (proto === undefined) {
      const incoming = (link as { session?: { incoming?: unknown } }).session?.incoming;
      const found = isObject(incoming) ? (Object.getPrototypeOf(incoming) as IncomingPrototype | null) : null;
      proto = found && typeof found.update === 'function' ? found : null;
      holder[INCOMING_WATCHED] = proto;
    }
    if (proto === null) return false;
    // Checked every time: disabling the instrumentation unwraps it.
    if (!isWrapped(proto.update)) {
      this._wrap(proto, 'update', (original) => wrapIncomingUpdate(original as AnyFn));
      this.incomingPrototypes.add(proto);
    }
    return true;
  }
}
