import type { Logger } from 'pino';
import { errorMessage, ValidationError, DependencyError } from '../../shared/errors';
import type { AmqpSender, InboundMessage } from '../../shared/messaging';

type Props = Record<string, string | number | boolean | null>;

/** IIB's application properties of a build-state message. */
export function buildStateProperties(body: unknown): Props {
  const b = body as Record<string, unknown> | null;
  if (!b || typeof b.id !== 'number') throw new ValidationError('build-state event needs the request JSON');
  return {
    batch: b.batch as number,
    id: b.id,
    state: b.state as string,
    user: (b.user as string | null) ?? null,
  };
}

/** IIB's application properties of a batch-state message. */
export function batchStateProperties(body: unknown): Props {
  const b = body as Record<string, unknown> | null;
  if (!b || typeof b.batch !== 'number') throw new ValidationError('batch-state event needs the batch JSON');
  return { batch: b.batch, state: b.state as string, user: (b.user as string | null) ?? null };
}

export interface RepublishOptions {
  durable: boolean;
  /** Whether to keep going; false while shutting down, so the message is released. */
  running: () => boolean;
  maxBackoffMs?: number;
}

/**
 * Republishes one internal event to the external destination. While the
 * external broker is away it keeps retrying with the internal message
 * unsettled: the consumer's bounded credit is the back-pressure, nothing is
 * dropped, and order is kept.
 */
export function createRepublisher(
  sender: AmqpSender | undefined,
  properties: (body: unknown) => Props,
  options: RepublishOptions,
  log: Logger,
) {
  return async (message: InboundMessage): Promise<void> => {
    const props = properties(message.body);
    if (!sender) return; // destination not configured: IIB sends nothing either
    for (let attempt = 0; ; attempt += 1) {
      try {
        await sender.send({
          body: message.body,
          applicationProperties: props,
          correlationId: message.messageId,
          durable: options.durable,
        });
        if (attempt > 0) log.info({ address: sender.address, attempts: attempt + 1 }, 'external broker back, delivered');
        return;
      } catch (err) {
        if (!options.running()) {
          throw new DependencyError('notifier stopping before delivery', { retryable: true, cause: err });
        }
        if (attempt === 0) {
          log.warn({ address: sender.address, err: errorMessage(err) }, 'external broker unavailable, holding messages');
        }
        const delay = Math.min(options.maxBackoffMs ?? 5000, 100 * 2 ** Math.min(attempt, 10));
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  };
}
