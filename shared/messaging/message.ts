import { randomUUID } from 'node:crypto';
import type { Message, Typed } from 'rhea';

/**
 * An application property value. A rhea `Typed` value (e.g. `types.wrap_long`)
 * fixes the AMQP type where a consumer cares: rhea encodes a plain positive
 * integer as `uint`, other clients (qpid-proton) send `long`.
 */
export type PropertyValue = string | number | boolean | null | Typed;

/** What a service sends: a JSON body and string/number/boolean properties. */
export interface OutboundMessage {
  body: unknown;
  /**
   * The body's JSON text, sent as is instead of `JSON.stringify(body)`: for
   * a byte-exact body in another serializer's format (IIB's Python json.dumps).
   */
  bodyText?: string;
  applicationProperties?: Record<string, PropertyValue>;
  messageId?: string;
  correlationId?: string;
  subject?: string;
  /** Default true: a non-durable message is lost with the broker (ActiveMQ: non-persistent). */
  durable?: boolean;
  /** ActiveMQ/Artemis message group: pins messages of one group to one consumer. */
  groupId?: string;
}

export interface InboundMessage {
  body: unknown;
  applicationProperties: Record<string, unknown>;
  messageId?: string;
  correlationId?: string;
  subject?: string;
  /** Broker's count of earlier failed deliveries (0 on the first). */
  deliveryCount: number;
  raw: Message;
}

/**
 * Bodies are JSON text with content type application/json, as IIB sends its
 * state messages: any AMQP 1.0 client (and JMS TextMessage) can read them.
 */
export function toAmqp(msg: OutboundMessage): Message {
  return {
    message_id: msg.messageId ?? randomUUID(),
    correlation_id: msg.correlationId,
    subject: msg.subject,
    group_id: msg.groupId,
    content_type: 'application/json',
    // When it was sent: brokers show the age of a queue's oldest message
    // from it (ActiveMQ's JMSTimestamp, RabbitMQ's head_message_timestamp).
    creation_time: new Date(),
    durable: msg.durable ?? true,
    application_properties: { ...(msg.applicationProperties ?? {}) },
    body: msg.bodyText ?? JSON.stringify(msg.body),
  };
}

export function fromAmqp(message: Message): InboundMessage {
  let body: unknown = message.body;
  if (Buffer.isBuffer(body)) body = body.toString('utf8');
  const section = body as { typecode?: number; content?: unknown } | undefined;
  if (
    section &&
    typeof section === 'object' &&
    section.typecode === 0x75 &&
    Buffer.isBuffer(section.content)
  ) {
    body = section.content.toString('utf8');
  }
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // Not JSON: hand the text to the handler, which validates it.
    }
  }
  return {
    body,
    applicationProperties: (message.application_properties ?? {}) as Record<string, unknown>,
    messageId: message.message_id === undefined ? undefined : String(message.message_id),
    correlationId: message.correlation_id === undefined ? undefined : String(message.correlation_id),
    subject: message.subject,
    deliveryCount: message.delivery_count ?? 0,
    raw: message,
  };
}
