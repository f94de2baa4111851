import { trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { BuildRequestEvent } from '../../shared/contracts';
import { REQUEST_TYPES } from '../../shared/contracts';
import { ValidationError } from '../../shared/errors';
import { InboundMessage, laneQueue, Messaging } from '../../shared/messaging';
import { routeRequest, UserToQueue } from './lane-router';

export function parseBuildRequestEvent(body: unknown): BuildRequestEvent {
  const e = body as Partial<BuildRequestEvent> | null;
  if (!e || typeof e !== 'object') throw new ValidationError('request event must be a JSON object');
  if (typeof e.id !== 'number') throw new ValidationError('request event needs a numeric id');
  if (!e.request_type || !(REQUEST_TYPES as readonly string[]).includes(e.request_type)) {
    throw new ValidationError(`request event has an unknown request_type ${String(e.request_type)}`);
  }
  if (typeof e.params !== 'object' || e.params === null) throw new ValidationError('request event needs params');
  return e as BuildRequestEvent;
}

/**
 * Forwards each request to its lane; the input is settled (by the consumer)
 * only after the lane's broker accepted the forwarded message.
 */
export function createRouteHandler(deps: {
  messaging: Messaging;
  userToQueue: UserToQueue;
  defaultLane: string;
  log: Logger;
}) {
  return async (message: InboundMessage): Promise<void> => {
    const event = parseBuildRequestEvent(message.body);
    const route = routeRequest(deps.userToQueue, deps.defaultLane, event);
    const queue = laneQueue(route.serial, route.lane);
    const decision = {
      requestId: event.id,
      user: event.user,
      requestType: event.request_type,
      serial: route.serial,
      lane: route.lane,
    };
    trace.getActiveSpan()?.setAttributes({
      'iib.request.id': event.id,
      'iib.request.type': event.request_type,
      'iib.user': event.user ?? '',
      'iib.lane': route.lane,
      'iib.lane.serial': route.serial,
    });
    deps.log.info(decision, 'request routed');
    const sender = await deps.messaging.queueSender(queue, { exclusive: route.serial });
    await sender.send({
      body: { ...event, lane: { serial: route.serial, name: route.lane } },
      messageId: message.messageId,
      applicationProperties: { request_id: event.id, request_type: event.request_type },
    });
  };
}
