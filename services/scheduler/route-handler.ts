import { trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { parseBuildRequestEvent } from '../../shared/contracts';
import { InboundMessage, laneQueue, Messaging } from '../../shared/messaging';
import { routeRequest, UserToQueue } from './lane-router';
import { lanesRouted } from '../../shared/metrics';

/**
 * Forwards each request to its lane; the input is settled (by the consumer)
 * only after the lane's broker accepted the forwarded message.
 */
export function createRouteHandler(deps: {
  messaging: Messaging;
  userToQueue: UserToQueue;
  defaultLane: string;
  /** The lanes' delivery limit; every declarer of a queue must agree on it. */
  maxDeliveries: number;
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
    const sender =
      deps.messaging.readySender(queue) ??
      (await deps.messaging.queueSender(queue, {
        exclusive: route.serial,
        maxDeliveries: deps.maxDeliveries,
      }));
    await sender.send({
      body: { ...event, lane: { serial: route.serial, name: route.lane } },
      messageId: message.messageId,
      applicationProperties: { request_id: event.id, request_type: event.request_type },
    });
    lanesRouted.inc({ lane: route.lane, mode: route.serial ? 'serial' : 'parallel' });
  };
}
