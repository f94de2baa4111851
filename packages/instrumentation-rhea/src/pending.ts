import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { Outcome } from './model';
import { failSpan } from './span-error';

/**
 * How a messaging span ended: a broker/application outcome, or one of the
 * reasons a delivery can be abandoned without one (the link or connection
 * went away, or nobody settled it in time).
 */
export type SpanEnding =
  | { readonly outcome: Outcome; readonly condition?: string }
  | { readonly abandoned: 'link_closed' | 'connection_lost' | 'settle_timeout' };

const PENDING = Symbol('iib.rhea.pendingSpans');

type LinkWithPending = object & { [PENDING]?: Set<PendingSpan> };

/**
 * The deadlines of one settle timeout, in the order they were set (so in
 * deadline order), behind one unref'd timer set for the earliest: a message
 * costs a Set insertion instead of a timer of its own.
 */
class Deadlines {
  private readonly waiting = new Map<PendingSpan, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  add(pending: PendingSpan): void {
    this.waiting.set(pending, Date.now() + this.timeoutMs);
    if (!this.timer) this.arm(this.timeoutMs);
  }

  delete(pending: PendingSpan): void {
    this.waiting.delete(pending);
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(() => this.expire(), Math.max(0, delayMs));
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    for (const [pending, deadline] of this.waiting) {
      if (deadline > now) {
        this.arm(deadline - now);
        return;
      }
      pending.end({ abandoned: 'settle_timeout' });
    }
  }
}

const deadlinesByTimeout = new Map<number, Deadlines>();

function deadlinesFor(timeoutMs: number): Deadlines {
  let d = deadlinesByTimeout.get(timeoutMs);
  if (!d) {
    d = new Deadlines(timeoutMs);
    deadlinesByTimeout.set(timeoutMs, d);
  }
  return d;
}

/**
 * A span that stays open until its delivery is settled. It is registered on
 * its link so that a close or a disconnect can end every span still open on
 * it, and it has a deadline so an unsettled delivery never holds a span (or
 * the process) forever. Once ended it lets go of the span: a delivery that
 * still points here keeps a few bytes alive, not a whole span.
 */
export class PendingSpan {
  private current: Span | undefined;
  private deadlines: Deadlines | undefined;
  private link: LinkWithPending | undefined;
  private held = false;
  private deferred: SpanEnding | undefined;

  constructor(span: Span) {
    this.current = span;
  }

  /** Start waiting for the settlement; `timeoutMs` bounds the wait. */
  track(link: object, timeoutMs: number): void {
    if (!this.current) return;
    const holder = link as LinkWithPending;
    (holder[PENDING] ??= new Set()).add(this);
    this.link = holder;
    this.deadlines = deadlinesFor(timeoutMs);
    this.deadlines.add(this);
  }

  get isEnded(): boolean {
    return this.current === undefined;
  }

  /**
   * From now until `release`, an ending is kept instead of applied: a
   * delivery settled inside its listeners (autoaccept, a synchronous
   * handler) ends its span only once they have returned.
   */
  hold(): void {
    this.held = true;
  }

  /** Applies an ending that arrived while held; false if there was none. */
  release(): boolean {
    this.held = false;
    const ending = this.deferred;
    if (!ending) return false;
    this.deferred = undefined;
    this.end(ending);
    return true;
  }

  /** The listeners threw before the delivery was settled. */
  fail(err: unknown): void {
    this.held = false;
    const span = this.finish();
    if (span) endWithException(span, err);
  }

  end(ending: SpanEnding): void {
    if (this.held) {
      this.deferred ??= ending;
      return;
    }
    const span = this.finish();
    if (!span) return;
    applyEnding(span, ending);
    span.end();
  }

  /** The span, once; undefined when already ended. */
  private finish(): Span | undefined {
    const span = this.current;
    if (!span) return undefined;
    this.current = undefined;
    this.deferred = undefined;
    this.deadlines?.delete(this);
    this.deadlines = undefined;
    this.link?.[PENDING]?.delete(this);
    this.link = undefined;
    return span;
  }
}

/** End every span still waiting on this link (it closed, or its connection dropped). */
export function endAllPending(link: object, reason: 'link_closed' | 'connection_lost'): void {
  const pending = (link as LinkWithPending)[PENDING];
  if (!pending || pending.size === 0) return;
  for (const p of [...pending]) p.end({ abandoned: reason });
}

export function pendingCount(link: object): number {
  return (link as LinkWithPending)[PENDING]?.size ?? 0;
}

export function endWithException(span: Span, err: unknown): void {
  failSpan(span, err, { type: err instanceof Error ? err.name : 'Error' });
  span.end();
}

function applyEnding(span: Span, ending: SpanEnding): void {
  if ('abandoned' in ending) {
    span.setAttribute('error.type', ending.abandoned);
    span.setStatus({ code: SpanStatusCode.ERROR, message: `delivery not settled: ${ending.abandoned}` });
    return;
  }
  span.setAttribute('amqp.delivery.outcome', ending.outcome);
  switch (ending.outcome) {
    case 'accepted':
      span.setStatus({ code: SpanStatusCode.OK });
      return;
    case 'settled':
      // Settled without an outcome (e.g. pre-settled): nothing says it failed.
      return;
    default: {
      const errorType = `amqp:${ending.outcome}`;
      span.setAttribute('error.type', errorType);
      const detail = ending.condition ? `${errorType} (${ending.condition})` : errorType;
      span.setStatus({ code: SpanStatusCode.ERROR, message: detail });
    }
  }
}
