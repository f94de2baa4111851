import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { Outcome } from './rhea-model';

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
 * A span that stays open until its delivery is settled. It is registered on
 * its link so that a close or a disconnect can end every span still open on
 * it, and it has an unref'd timer so an unsettled delivery never holds a span
 * (or the process) forever.
 */
export class PendingSpan {
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  private link: LinkWithPending | undefined;

  constructor(readonly span: Span) {}

  /** Start waiting for the settlement; `timeoutMs` bounds the wait. */
  track(link: object, timeoutMs: number): void {
    if (this.ended) return;
    const holder = link as LinkWithPending;
    (holder[PENDING] ??= new Set()).add(this);
    this.link = holder;
    this.timer = setTimeout(() => this.end({ abandoned: 'settle_timeout' }), timeoutMs);
    this.timer.unref();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** The listeners threw before the delivery was settled. */
  fail(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.link?.[PENDING]?.delete(this);
    endWithException(this.span, err);
  }

  end(ending: SpanEnding): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.link?.[PENDING]?.delete(this);
    this.link = undefined;
    applyEnding(this.span, ending);
    this.span.end();
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
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setAttribute('error.type', error.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
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
