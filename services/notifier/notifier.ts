import type { Logger } from 'pino';
import type { NotifierConfig } from '../../shared/config';
import { Messaging, Names } from '../../shared/messaging';
import { openExternalBroker } from './external-broker';
import { batchStateMessage, buildStateMessage } from './iib-message';
import { RecentIds } from './recent-ids';
import { createRepublisher } from './republisher';

export interface NotifierOptions {
  /** Longest pause between two attempts while the external broker is away (default 5 s). */
  maxBackoffMs?: number;
  /** How long stop() waits for a send already on the wire (default 10 s). */
  stopGraceMs?: number;
}

export interface Notifier {
  /** Whether the internal broker link is up (readiness). */
  brokerUp(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts the notifier: consumes the internal state events and republishes
 * them to the external broker in IIB's format. Returns at once; both brokers
 * are connected (and reconnected) in the background.
 */
export async function startNotifier(
  config: NotifierConfig,
  log: Logger,
  options: NotifierOptions = {},
): Promise<Notifier> {
  const ext = config.external;
  const external = openExternalBroker(ext, log);
  const stopping = new AbortController();
  const recent = new RecentIds();
  const messaging = new Messaging(config.amqp, log);
  const common = {
    durable: ext.durable,
    recent,
    signal: stopping.signal,
    maxBackoffMs: options.maxBackoffMs,
  };
  // One event at a time per kind: each request's messages stay in order, and
  // while the external broker is away only that one is held in memory.
  messaging.consumeQueue(
    Names.buildStateEvents,
    createRepublisher(
      { ...common, kind: 'build state', sender: external.buildSender, toMessage: buildStateMessage },
      log,
    ),
    { concurrency: 1 },
  );
  messaging.consumeQueue(
    Names.batchStateEvents,
    createRepublisher(
      { ...common, kind: 'batch state', sender: external.batchSender, toMessage: batchStateMessage },
      log,
    ),
    { concurrency: 1 },
  );

  let stopped: Promise<void> | undefined;
  return {
    brokerUp: () => messaging.connection.up,
    stop: () => {
      stopped ??= (async () => {
        // Consumers first stop taking events; then the abort ends any wait
        // for the external broker, and the held events go back unsettled.
        const closing = messaging.close(options.stopGraceMs ?? 10_000);
        stopping.abort();
        await closing;
        await external.close();
      })();
      return stopped;
    },
  };
}
