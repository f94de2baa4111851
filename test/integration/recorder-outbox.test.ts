import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import pino from 'pino';
import { loadAmqpConfig } from '../../shared/config';
import type { StateUpdate } from '../../shared/contracts';
import { InboundMessage, Messaging, Names } from '../../shared/messaging';
import { createDb } from '../../services/gateway/db/connect';
import { migrateLatest } from '../../services/gateway/db/migrations';
import { OutboxRelay } from '../../services/gateway/outbox/relay';
import { KnexRequestStore } from '../../services/gateway/db/knex-store';
import { submitRequests } from '../../services/gateway/requests/submit';
import { recordUpdate } from '../../services/gateway/requests/updates';
import { brokerEnv } from '../support/env';
import { deleteNamespaceQueues } from '../support/broker-admin';
import { createDatabase, dropDatabase } from '../support/system';

const log = pino({ level: 'silent' });
const dbName = `iib_rec_${randomBytes(4).toString('hex')}`;

describe('the recorder and the outbox on the real PostgreSQL and broker', () => {
  let db: Knex;
  let store: KnexRequestStore;

  beforeAll(async () => {
    db = createDb(await createDatabase(dbName));
    await migrateLatest(db);
    store = new KnexRequestStore(db);
  });

  afterAll(async () => {
    // Both relays' namespaces (`<db>.` and `<db>.two.`).
    await deleteNamespaceQueues(`${dbName}.`);
    await db?.destroy();
    await dropDatabase(dbName);
  });

  const newRequest = async (): Promise<number> => {
    const [r] = await submitRequests(store, undefined, [
      { type: 'create-empty-index', user: 'alice', params: { from_index: 'r/i:1', binary_image: 'r/b:1' } },
    ]);
    return r!.id;
  };
  const update = (requestId: number, u: Partial<StateUpdate>): StateUpdate => ({
    key: randomUUID(),
    request_id: requestId,
    at: new Date().toISOString(),
    ...u,
  });
  const outbox = async (
    requestId: number,
  ): Promise<{ destination: string; body: Record<string, unknown> }[]> =>
    ((await db('outbox').orderBy('id')) as { destination: string; body: Record<string, unknown> }[]).filter(
      (r) =>
        r.body.id === requestId ||
        (r.body.requests as { id: number }[] | undefined)?.some((x) => x.id === requestId),
    );

  it('when a request is created, then its event, its build state and its batch state are in the outbox', async () => {
    const id = await newRequest();
    const rows = await outbox(id);
    expect(rows.map((r) => r.destination)).toEqual([
      Names.requests,
      Names.buildStateEvents,
      Names.batchStateEvents,
    ]);
  });

  it('when the same update arrives twice, then it is recorded once', async () => {
    const id = await newRequest();
    const u = update(id, { state: 'in_progress', state_reason: 'Resolving the container images' });
    expect(await recordUpdate(store, u)).toEqual({ applied: true, changed: true });
    expect(await recordUpdate(store, u)).toEqual({ applied: false, changed: false });
    const again = update(id, { state: 'in_progress', state_reason: 'Resolving the container images' });
    expect(await recordUpdate(store, again)).toEqual({ applied: true, changed: false });
    expect((await store.history(id)).map((h) => h.state_reason)).toEqual([
      'Resolving the container images',
      'The request was initiated',
    ]);
  });

  it('when a late in_progress update follows a final state, then the request stays final', async () => {
    const id = await newRequest();
    await recordUpdate(
      store,
      update(id, { state: 'complete', state_reason: 'done', fields: { index_image: 'r/x:1' } }),
    );
    await recordUpdate(
      store,
      update(id, { state: 'in_progress', state_reason: 'Creating the manifest list' }),
    );
    await recordUpdate(store, update(id, { state: 'failed', state_reason: 'late failure' }));
    const r = await store.get(id);
    expect(r).toMatchObject({ state: 'complete', state_reason: 'done', index_image: 'r/x:1' });
    const rows = await outbox(id);
    const batch = rows.filter((x) => x.destination === Names.batchStateEvents).map((x) => x.body.state);
    expect(batch).toEqual(['in_progress', 'complete']);
  });

  it('when a second complete with another result follows a complete (a rebuild), then neither the result nor the messages change', async () => {
    const id = await newRequest();
    await recordUpdate(
      store,
      update(id, { state: 'complete', state_reason: 'done', fields: { index_image: 'r/x@sha256:aaa' } }),
    );
    const before = (await outbox(id)).length;
    await recordUpdate(store, update(id, { fields: { index_image: 'r/x@sha256:bbb' } }));
    const second = update(id, {
      state: 'complete',
      state_reason: 'done again',
      fields: { index_image: 'r/x@sha256:bbb' },
      logs: ['a late log line'],
    });
    expect(await recordUpdate(store, second)).toEqual({ applied: true, changed: false });
    expect(await store.get(id)).toMatchObject({
      state: 'complete',
      state_reason: 'done',
      index_image: 'r/x@sha256:aaa',
    });
    expect((await outbox(id)).length).toBe(before);
    expect((await store.history(id)).map((h) => h.state_reason)).toEqual([
      'done',
      'The request was initiated',
    ]);
    expect(await store.logs(id)).toEqual(['a late log line']);
  });

  it('when an update carries NUL characters and lone surrogates, then it is recorded with them cleaned, not refused', async () => {
    const id = await newRequest();
    const u = update(id, {
      state: 'failed',
      state_reason: 'tool said \u0000 bad \ud800 thing',
      logs: ['stderr \u0000 line'],
      fields: { 'k\u0000': 'v\udc00' },
    });
    expect(await recordUpdate(store, u)).toEqual({
      applied: true,
      changed: true,
      durationMs: expect.any(Number),
    });
    expect(await store.get(id)).toMatchObject({
      state: 'failed',
      state_reason: 'tool said  bad \ufffd thing',
    });
    expect(await store.logs(id)).toEqual(['stderr  line']);
  });

  /**
   * Outbox rows left once the relay has caught up (at most 10 s). A row is
   * deleted after the broker accepted its message, so a consumer can see the
   * message a moment before the relay's DELETE commits.
   */
  async function outboxRowsLeft(): Promise<number> {
    const count = async (): Promise<number> => Number((await db('outbox').count('* as n'))[0]!.n);
    const deadline = Date.now() + 10_000;
    while ((await count()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return count();
  }

  it('when the relay runs, then every outbox row is published once and deleted', async () => {
    const config = loadAmqpConfig({
      ...brokerEnv(`${dbName}.`),
    });
    const messaging = new Messaging(config, log);
    const received: InboundMessage[] = [];
    for (const q of [Names.requests, Names.buildStateEvents, Names.batchStateEvents]) {
      messaging.consumeQueue(q, async (m) => void received.push(m), { concurrency: 10 });
    }
    const pending = Number((await db('outbox').count('* as n'))[0]!.n);
    const relay = new OutboxRelay(db, messaging, log, { pollMs: 50 });
    try {
      relay.start();
      const deadline = Date.now() + 20_000;
      while (received.length < pending && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(received).toHaveLength(pending);
      expect(await outboxRowsLeft()).toBe(0);
      expect(new Set(received.map((m) => m.messageId)).size).toBe(pending);
    } finally {
      await relay.stop();
      await messaging.close(1000);
    }
  });

  it('when two relays (two gateway replicas) run at once, then every row is published once, in id order, and deleted', async () => {
    const config = loadAmqpConfig({
      ...brokerEnv(`${dbName}.two.`),
    });
    const ids: number[] = [];
    for (let i = 0; i < 40; i += 1) ids.push(await newRequest());
    const pending = Number((await db('outbox').count('* as n'))[0]!.n);
    expect(pending).toBe(120);
    const consumer = new Messaging(config, log);
    const received: InboundMessage[] = [];
    // One at a time: arrival order is the order the broker holds them in.
    consumer.consumeQueue(Names.requests, async (m) => void received.push(m), { concurrency: 1 });
    for (const q of [Names.buildStateEvents, Names.batchStateEvents]) {
      consumer.consumeQueue(q, async (m) => void received.push(m), { concurrency: 10 });
    }
    const replicas = [new Messaging(config, log), new Messaging(config, log)];
    // Small batches and fast polls: the two take the lock in turn many times.
    const relays = replicas.map((m) => new OutboxRelay(db, m, log, { pollMs: 5, batchSize: 5 }));
    try {
      relays.forEach((r) => r.start());
      const deadline = Date.now() + 30_000;
      while (received.length < pending && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // Anything published twice would arrive within this.
      await new Promise((r) => setTimeout(r, 500));
      expect(received).toHaveLength(pending);
      expect(new Set(received.map((m) => m.messageId)).size).toBe(pending);
      expect(await outboxRowsLeft()).toBe(0);
      const requestOrder = received
        .map((m) => m.body as { id?: number; request_type?: string })
        .filter((b) => b.request_type !== undefined && !('state' in b))
        .map((b) => b.id);
      expect(requestOrder).toEqual(ids);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
      await Promise.all([...replicas, consumer].map((m) => m.close(1000)));
    }
  });
});
