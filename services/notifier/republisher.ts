import type { Logger } from 'pino';
import { DependencyError } from '../../shared/errors';
import { isRetryable, type AmqpSender, type Handler } from '../../shared/messaging';
import type { StateMessageFactory } from './iib-message';
import type { RecentIds } from './recent-ids';
import { stateMessagesPending, stateMessagesPublished } from '../../shared/metrics';

export interface RepublisherOptions {
  /** 'build state' or 'batch state', for logs. */
  kind: string;
  /** Undefined when the destination (or the broker) is not configured: IIB sends nothing then. */
  sender: AmqpSender | undefined;
  toMessage: StateMessageFactory;
  durable: boolean;
  recent: RecentIds;
  /** Aborted when the notifier stops: waits end and the event goes back unsettled. */
  signal: AbortSignal;
  /** Longest pause between two attempts while the external broker is away. */
  maxBackoffMs?: number;
  /** While the broker stays away, a warning every this many ms. */
  warnEveryMs?: number;
}

/**
 * Republishes one internal event to the external destination. While the
 * external broker is away it keeps retrying with the internal event
 * unsettled: with one event in hand per kind the internal queue holds the
 * rest (bounded memory), nothing is dropped, order is kept, and the builds,
 * which only wrote an outbox row, are never slowed by it.
 */
export function createRepublisher(options: RepublisherOptions, log: Logger): Handler {
  const { kind, sender, recent, signal } = options;
  const maxBackoffMs = options.maxBackoffMs ?? 5000;
  const warnEveryMs = options.warnEveryMs ?? 60_000;
  return async (event) => {
    // A malformed event fails here, before any retry: the consumer rejects it
    // to the dead-letter address instead of blocking the ones behind it.
    const message = options.toMessage(event, options.durable);
    const key = message.correlationId as string;
    if (!sender) {
      log.debug({ kind, correlationId: key }, `no ${kind} destination: message not sent`);
      return;
    }
    if (recent.has(key)) {
      log.info({ kind, correlationId: key }, 'event already delivered, not sent again');
      return;
    }
    const outageStart = Date.now();
    let lastWarn = 0;
    // Pending: taken from the internal queue, not yet accepted outside; it
    // stays above zero for as long as the external broker is away.
    stateMessagesPending.inc({ kind });
    try {
      for (let attempt = 0; ; attempt += 1) {
        try {
          await sender.send(message, { signal });
          recent.add(key);
          stateMessagesPublished.inc({ kind });
          if (attempt > 0) {
            log.info(
              { kind, address: sender.address, attempts: attempt + 1, heldMs: Date.now() - outageStart },
              'external broker back, delivered',
            );
          }
          log.info({ kind, address: sender.address, correlationId: key }, 'state message sent');
          return;
        } catch (err) {
          if (signal.aborted) {
            throw new DependencyError('notifier stopping before delivery', { retryable: true, cause: err });
          }
          if (!isRetryable(err)) {
            // The broker refused this message itself (e.g. rejected): retrying
            // cannot help; the dead-letter address keeps it.
            log.error(
              { kind, address: sender.address, correlationId: key, err },
              'external broker refused the message',
            );
            throw err;
          }
          if (Date.now() - lastWarn >= warnEveryMs) {
            lastWarn = Date.now();
            log.warn(
              {
                kind,
                address: sender.address,
                attempts: attempt + 1,
                heldMs: Date.now() - outageStart,
                err,
              },
              'external broker unavailable, holding messages',
            );
          }
          await sleep(Math.min(maxBackoffMs, 100 * 2 ** Math.min(attempt, 10)), signal);
        }
      }
    } finally {
      stateMessagesPending.dec({ kind });
    }
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
