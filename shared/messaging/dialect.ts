import type { DialectName } from '../config';
import { Names } from './names';

export interface QueueOptions {
  /** One active consumer at a time across all connections (serial lanes). */
  exclusive?: boolean;
  /**
   * Deliveries of one message before the broker dead-letters it, counting
   * deliveries to consumers that died (RabbitMQ: a quorum queue with
   * `x-delivery-limit`; brokers that count redeliveries in the AMQP
   * delivery-count leave this to the consumer).
   */
  maxDeliveries?: number;
}

export interface Terminus {
  address: string;
  capabilities?: string[];
}

/**
 * Maps logical names to one broker's AMQP 1.0 addresses. The services never
 * build an address themselves, so moving between brokers is configuration.
 */
export interface Dialect {
  readonly name: DialectName;
  /** `messaging.system` for spans. */
  readonly system: string;
  /** Whether queues must be declared (with arguments) before they are used. */
  readonly needsProvisioning: boolean;
  /**
   * Whether consumers send dead letters to the logical dead-letter queue
   * themselves: the broker's own dead-lettering cannot reach it (Artemis has
   * one dead-letter address per address setting, not per namespace).
   */
  readonly forwardsDeadLetters: boolean;
  queueTarget(name: string): Terminus;
  queueSource(name: string, options?: QueueOptions): Terminus;
  topicTarget(name: string): Terminus;
  /** An IIB-style destination (`topic://X`, `queue://X` or `X`) for this broker. */
  destination(iibStyle: string): Terminus;
}

function splitIibStyle(dest: string): { kind: 'topic' | 'queue'; name: string } {
  if (dest.startsWith('topic://')) return { kind: 'topic', name: dest.slice('topic://'.length) };
  if (dest.startsWith('queue://')) return { kind: 'queue', name: dest.slice('queue://'.length) };
  return { kind: 'queue', name: dest };
}

/**
 * Where ActiveMQ Classic puts what a consumer rejected: `DLQ.<queue>`, one
 * dead-letter queue per queue (deploy/activemq/activemq.xml,
 * individualDeadLetterStrategy). The logical dead-letter queue is read as a
 * composite of itself (messages sent to it) and a wildcard over the DLQs of
 * this system's queues: everything under the namespace when there is one
 * (`DLQ.staging.>`), else every `iib.` queue (`DLQ.iib.>`), never other
 * applications' DLQs.
 */
export function activemqDeadLetterAddress(name: string): string {
  const prefix = name.slice(0, name.length - Names.deadLetter.length);
  const wildcard = prefix.endsWith('.') ? `DLQ.${prefix}>` : `DLQ.${prefix}iib.>`;
  return `queue://${name},${wildcard}`;
}

/** ActiveMQ Classic: `queue://`/`topic://` prefixes, exclusive consumers by address option. */
const activemq: Dialect = {
  name: 'activemq',
  system: 'activemq',
  needsProvisioning: false,
  forwardsDeadLetters: false,
  queueTarget: (name) => ({ address: `queue://${name}` }),
  queueSource: (name, options) => {
    if (name.endsWith(Names.deadLetter)) return { address: activemqDeadLetterAddress(name) };
    return { address: `queue://${name}${options?.exclusive ? '?consumer.exclusive=true' : ''}` };
  },
  topicTarget: (name) => ({ address: `topic://${name}` }),
  destination: (dest) => {
    const { kind, name } = splitIibStyle(dest);
    return { address: `${kind}://${name}` };
  },
};

/**
 * Artemis: plain addresses with routing-type capabilities. Exclusive queues
 * are set by the broker's address settings (`exclusive=true` for
 * `iib.build.serial.#`), which the compose configuration carries.
 */
const artemis: Dialect = {
  name: 'artemis',
  system: 'activemq',
  needsProvisioning: false,
  forwardsDeadLetters: true,
  queueTarget: (name) => ({ address: name, capabilities: ['queue'] }),
  queueSource: (name) => ({ address: name, capabilities: ['queue'] }),
  topicTarget: (name) => ({ address: name, capabilities: ['topic'] }),
  destination: (dest) => {
    const { kind, name } = splitIibStyle(dest);
    return { address: name, capabilities: [kind] };
  },
};

/**
 * RabbitMQ 3.x AMQP 1.0 plugin: queues are declared through the management
 * API (so serial lanes get `x-single-active-consumer` and every queue its
 * dead-letter route), then used through `/amq/queue/X`; topics are routing
 * keys of `amq.topic`.
 */
const rabbitmq: Dialect = {
  name: 'rabbitmq',
  system: 'rabbitmq',
  needsProvisioning: true,
  forwardsDeadLetters: false,
  queueTarget: (name) => ({ address: `/amq/queue/${name}` }),
  queueSource: (name) => ({ address: `/amq/queue/${name}` }),
  topicTarget: (name) => ({ address: `/topic/${name}` }),
  destination: (dest) => {
    const { kind, name } = splitIibStyle(dest);
    return { address: kind === 'topic' ? `/topic/${name}` : `/amq/queue/${name}` };
  },
};

const DIALECT_TABLE: Record<DialectName, Dialect> = { activemq, artemis, rabbitmq };

export function getDialect(name: DialectName): Dialect {
  return DIALECT_TABLE[name];
}
