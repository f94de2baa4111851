/** The part of amqp10 (an AMQP 1.0 client independent of rhea) the notifier tests use. */
declare module 'amqp10' {
  import { EventEmitter } from 'node:events';

  export interface Amqp10Message {
    header?: { durable?: boolean | null; deliveryCount?: number | null };
    properties?: {
      messageId?: unknown;
      correlationId?: unknown;
      contentType?: string | null;
      subject?: string | null;
    };
    applicationProperties?: Record<string, unknown>;
    body: unknown;
  }

  export class ReceiverLink extends EventEmitter {
    detach(options?: { closed?: boolean }): Promise<void>;
  }

  export class Client extends EventEmitter {
    constructor(policy?: unknown);
    connect(url: string): Promise<Client>;
    createReceiver(address: string, policyOverrides?: unknown): Promise<ReceiverLink>;
    disconnect(): Promise<void>;
  }

  export const Policy: {
    Default: unknown;
    merge(overrides: unknown, base?: unknown): unknown;
  };
}
