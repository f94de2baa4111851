import type { Logger } from 'pino';
import {
  attemptsExhaustedReason,
  FinalStateEvent,
  parseBuildRequestEvent,
  parseRequestIdentity,
  RequestIdentity,
  StateUpdate,
} from '../../shared/contracts';
import { InboundMessage, Messaging, Names } from '../../shared/messaging';

/**
 * Turns a dead-lettered request into a `failed` state update. Lanes are
 * quorum queues with a delivery limit on RabbitMQ, so a request whose
 * builders died N times lands here instead of being retried forever. Other
 * dead letters (state updates, events, unreadable bodies) are logged and
 * dropped: they have no request to fail.
 */
export function createDeadLetterHandler(deps: { messaging: Messaging; maxDeliveries: number; log: Logger }) {
  return async (message: InboundMessage): Promise<void> => {
    // Enough of a request to fail it, even when the rest of its message is
    // malformed (the reason it was dead-lettered).
    let event: RequestIdentity;
    try {
      event = parseRequestIdentity(message.body);
    } catch (err) {
      deps.log.warn({ messageId: message.messageId, err }, 'dead letter without a request, dropped');
      return;
    }
    const malformed = contractProblem(message.body);
    const reason = malformed
      ? `The request could not be built: its message is malformed (${malformed})`
      : event.lane
        ? attemptsExhaustedReason(deps.maxDeliveries)
        : `The request could not be scheduled after ${deps.maxDeliveries} attempts`;
    const update: StateUpdate = {
      // Stable per dead letter, so a redelivered one is recorded once.
      key: `dead-letter:${message.messageId ?? `${event.id}`}`,
      request_id: event.id,
      state: 'failed',
      state_reason: reason,
      builder: 'scheduler',
      at: new Date().toISOString(),
    };
    deps.log.warn({ requestId: event.id, lane: event.lane, reason }, 'dead-lettered request failed');
    const updates = await deps.messaging.queueSender(Names.stateUpdates);
    await updates.send({ body: update, applicationProperties: { request_id: event.id } });
    const finals = deps.messaging.senderTo(
      deps.messaging.dialect.topicTarget(deps.messaging.queueName(Names.finalStates)),
    );
    const final: FinalStateEvent = { request_id: event.id, state: 'failed' };
    await finals.send({ body: final, applicationProperties: { request_id: event.id, state: 'failed' } });
  };
}

/** Why a request's message breaks its contract (it was then refused at once, not retried), or undefined. */
function contractProblem(body: unknown): string | undefined {
  try {
    parseBuildRequestEvent(body);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
