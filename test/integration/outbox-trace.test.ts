import { randomBytes } from 'node:crypto';
import { SpanKind, trace } from '@opentelemetry/api';
import type { Knex } from 'knex';
import pino from 'pino';
import { loadAmqpConfig } from '../../shared/config';
import { InboundMessage, Messaging, Names } from '../../shared/messaging';
import { createDb } from '../../services/gateway/db/connect';
import { migrateLatest } from '../../services/gateway/db/migrations';
import { OutboxRelay } from '../../services/gateway/outbox/relay';
import { KnexRequestStore } from '../../services/gateway/db/knex-store';
import { submitRequests } from '../../services/gateway/requests/submit';
import { amqpPort, brokerEnv } from '../support/env';
import { deleteNamespaceQueues } from '../support/broker-admin';
import { createDatabase, dropDatabase } from '../support/system';
import { eventually, startMemoryTracing, warmUp } from '../unit/tracing/memory-tracing';

const log = pino({ level: 'silent' });
const dbName = `iib_otr_${randomBytes(4).toString('hex')}`;
const { exporter } = startMemoryTracing();

describe('the outbox relay traces each request’s messages as one send (real PostgreSQL and broker)', () => {
  let db: Knex;
  let store: KnexRequestStore;
  let messaging: Messaging;

  beforeAll(async () => {
    await warmUp(exporter);
    db = createDb(await createDatabase(dbName));
    await migrateLatest(db);
    store = new KnexRequestStore(db);
    messaging = new Messaging(
      loadAmqpConfig({
        ...brokerEnv(`${dbName}.`),
      }),
      log,
    );
  });

  afterAll(async () => {
    await messaging?.close(1000);
    await deleteNamespaceQueues(`${dbName}.`);
    await db?.destroy();
    await dropDatabase(dbName);
  });

  it('when two traced requests are relayed, then each has one send span for its three messages, and each message carries it', async () => {
    const tracer = trace.getTracer('outbox-trace-test');
    const requests = await Promise.all(
      [1, 2].map((n) =>
        tracer.startActiveSpan(`request ${n}`, async (span) => {
          const [r] = await submitRequests(store, undefined, [
            {
              type: 'create-empty-index',
              user: 'alice',
              params: { from_index: 'r/i:1', binary_image: 'r/b:1' },
            },
          ]);
          span.end();
          return { id: r!.id, span };
        }),
      ),
    );
    const received: InboundMessage[] = [];
    for (const q of [Names.requests, Names.buildStateEvents, Names.batchStateEvents]) {
      messaging.consumeQueue(q, async (m) => void received.push(m), { concurrency: 10 });
    }
    const relay = new OutboxRelay(db, messaging, log, { pollMs: 50 });
    try {
      relay.start();
      await eventually(() => received.length >= 6, 'six messages relayed', 20_000);
    } finally {
      await relay.stop();
    }
    expect(received).toHaveLength(6);

    const sends = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.PRODUCER);
    expect(sends).toHaveLength(2);
    for (const { id, span: request } of requests) {
      const [send, ...others] = sends.filter(
        (s) => s.parentSpanContext?.spanId === request.spanContext().spanId,
      );
      expect(others).toHaveLength(0);
      expect(send?.name).toBe('send');
      expect(send?.spanContext().traceId).toBe(request.spanContext().traceId);
      expect(send?.attributes).toMatchObject({
        'messaging.system': messaging.dialect.system,
        'messaging.operation.type': 'send',
        'messaging.batch.message_count': 3,
        'server.port': amqpPort,
      });
      // The request event, its build state and its batch state.
      const mine = received.filter((m) => {
        const body = m.body as { id?: number; requests?: { id: number }[] };
        return body.id === id || body.requests?.some((r) => r.id === id);
      });
      expect(mine).toHaveLength(3);
      const { traceId, spanId } = send!.spanContext();
      for (const m of mine) expect(m.applicationProperties.traceparent).toBe(`00-${traceId}-${spanId}-01`);
    }
  });
});
