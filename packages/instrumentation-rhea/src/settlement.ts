import type { AnyFn } from './link-info';
import { isObject, outcomeOf, type RheaDelivery } from './model';
import { endAllPending, type PendingSpan } from './pending';

/** On an incoming delivery: its process span, until the delivery is settled. */
export const SETTLING = Symbol('iib.rhea.settling');

export type Settling = { [SETTLING]?: PendingSpan };

/** The prototype of a session's incoming side, whose `update` every settlement goes through. */
export interface IncomingPrototype {
  update?: unknown;
}

/**
 * accept/release/reject/modified are per-delivery closures that all go
 * through the delivery's own `update`, as does rhea's autoaccept; wrapping
 * that one closure sees every settlement of this delivery.
 */
export function wrapDeliveryUpdate(
  delivery: RheaDelivery,
  update: NonNullable<RheaDelivery['update']>,
  pending: PendingSpan,
): void {
  delivery.update = function tracedUpdate(this: unknown, settled?: boolean, state?: unknown): void {
    endOnSettlement(pending, settled, state);
    update.call(this, settled, state);
  };
}

export function wrapIncomingUpdate(original: AnyFn): AnyFn {
  return function tracedIncomingUpdate(
    this: unknown,
    delivery: unknown,
    settled: unknown,
    state: unknown,
  ): unknown {
    const pending = isObject(delivery) ? (delivery as Settling)[SETTLING] : undefined;
    if (pending) endOnSettlement(pending, settled, state);
    return original.call(this, delivery, settled, state);
  };
}

/** A delivery's `update(settled, state)`: its outcome, or plain settlement, ends the span. */
export function endOnSettlement(pending: PendingSpan, settled: unknown, state: unknown): void {
  const outcome = outcomeOf(state) ?? (settled === true ? 'settled' : undefined);
  if (outcome) pending.end({ outcome });
}

export function wrapDisconnect(original: AnyFn): AnyFn {
  return function tracedDisconnect(this: unknown, ...args: unknown[]): unknown {
    endAllPending(this as object, 'connection_lost');
    return original.apply(this, args);
  };
}
