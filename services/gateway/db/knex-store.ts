import type { Knex } from 'knex';
import { enqueue, OutboxMessage, outboxRows } from '../outbox/outbox';
import type { RequestRecord, StateRecord } from '../requests/record';
import type {
  ListQuery,
  NewBatch,
  Page,
  RequestStore,
  RequestTransaction,
  RowChanges,
} from '../requests/store';
import { listRequests } from './knex-listing';

/** The request store on PostgreSQL (schema: db/migrations). */
export class KnexRequestStore implements RequestStore {
  /** Public and read at each call, so a test can point the store at a dead server. */
  constructor(public db: Knex) {}

  async reserveIds(count: number): Promise<{ batchId: number; ids: number[] }> {
    const { rows } = await this.db.raw<{ rows: { batch_id: string; id: string }[] }>(
      `SELECT (SELECT nextval(pg_get_serial_sequence('batches', 'id'))) AS batch_id,
              nextval(pg_get_serial_sequence('requests', 'id')) AS id
         FROM generate_series(1, ?::int) ORDER BY 2`,
      [count],
    );
    return { batchId: Number(rows[0]?.batch_id), ids: rows.map((r) => Number(r.id)) };
  }

  /** One statement whatever the batch size (a statement is atomic; no transaction is held open). */
  async insertBatch({ batchId, annotations, rows, messages }: NewBatch): Promise<void> {
    const db = this.db;
    await db
      .with(
        'b',
        db('batches').insert({
          id: batchId,
          annotations: annotations === null ? null : JSON.stringify(annotations),
        }),
      )
      .with(
        'r',
        db('requests').insert(
          rows.map((r) => ({
            id: r.id,
            type: r.type,
            user_name: r.user_name,
            batch_id: batchId,
            state: r.state,
            state_reason: r.state_reason,
            updated: r.updated,
            params: JSON.stringify(r.params),
            results: JSON.stringify(r.results),
            from_index: r.from_index,
            trace_id: r.trace_id,
          })),
        ),
      )
      .with(
        's',
        db('request_states').insert(
          rows.map((r) => ({
            request_id: r.id,
            state: r.state,
            state_reason: r.state_reason,
            updated: r.updated,
          })),
        ),
      )
      .insert(outboxRows(messages))
      .into('outbox');
  }

  async get(id: number): Promise<RequestRecord | undefined> {
    return (await this.db('requests').where({ id }).first()) as RequestRecord | undefined;
  }

  async history(id: number): Promise<StateRecord[]> {
    return this.db('request_states')
      .where({ request_id: id })
      .orderBy('id', 'desc')
      .select<StateRecord[]>('state', 'state_reason', 'updated');
  }

  /** In one query. */
  async histories(ids: number[]): Promise<Map<number, StateRecord[]>> {
    const out = new Map<number, StateRecord[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return out;
    const rows = await this.db('request_states')
      .whereIn('request_id', ids)
      .orderBy('id', 'desc')
      .select<(StateRecord & { request_id: number })[]>('request_id', 'state', 'state_reason', 'updated');
    for (const { request_id: id, ...state } of rows) out.get(id)?.push(state);
    return out;
  }

  async annotationsOf(batchIds: number[]): Promise<Map<number, Record<string, unknown> | null>> {
    const rows = await this.db('batches')
      .whereIn('id', [...new Set(batchIds)])
      .select<{ id: number; annotations: Record<string, unknown> | null }[]>('id', 'annotations');
    return new Map(rows.map((r) => [r.id, r.annotations]));
  }

  async artifact(id: number, kind: string): Promise<unknown> {
    const row = await this.db('request_artifacts')
      .where({ request_id: id, kind })
      .first<{ content: unknown } | undefined>('content');
    return row?.content;
  }

  async logsAfter(id: number, afterId: number, limit = 1000): Promise<{ id: number; text: string }[]> {
    const rows = await this.db('request_logs')
      .where({ request_id: id })
      .andWhere('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .select<{ id: number | string; text: string }[]>('id', 'text');
    return rows.map((r) => ({ id: Number(r.id), text: r.text }));
  }

  async logs(id: number): Promise<string[]> {
    const rows = await this.db('request_logs')
      .where({ request_id: id })
      .orderBy('id')
      .select<{ text: string }[]>('text');
    return rows.map((r) => r.text);
  }

  list(query: ListQuery): Promise<Page> {
    return listRequests(this.db, query);
  }

  async ping(): Promise<void> {
    await this.db.raw('SELECT 1');
  }

  transaction<T>(work: (tx: RequestTransaction) => Promise<T>): Promise<T> {
    return this.db.transaction((trx) => work(new KnexTransaction(trx)));
  }
}

class KnexTransaction implements RequestTransaction {
  constructor(private readonly trx: Knex.Transaction) {}

  async claim(key: string): Promise<boolean> {
    const inserted = await this.trx('processed_messages')
      .insert({ key })
      .onConflict('key')
      .ignore()
      .returning('key');
    return inserted.length > 0;
  }

  async lock(id: number): Promise<RequestRecord | undefined> {
    return (await this.trx('requests').where({ id }).forUpdate().first()) as RequestRecord | undefined;
  }

  async save(id: number, changes: RowChanges): Promise<RequestRecord> {
    const row: Record<string, unknown> = { ...changes };
    if (changes.results) row.results = JSON.stringify(changes.results);
    const [saved] = (await this.trx('requests').where({ id }).update(row).returning('*')) as RequestRecord[];
    return saved as RequestRecord;
  }

  async addState(id: number, s: StateRecord): Promise<void> {
    await this.trx('request_states').insert({ request_id: id, ...s });
  }

  async appendLogs(id: number, lines: string[]): Promise<void> {
    await this.trx('request_logs').insert(lines.map((text) => ({ request_id: id, text })));
  }

  async putArtifacts(id: number, artifacts: Record<string, unknown>): Promise<void> {
    for (const [kind, content] of Object.entries(artifacts)) {
      await this.trx('request_artifacts')
        .insert({ request_id: id, kind, content: JSON.stringify(content) })
        .onConflict(['request_id', 'kind'])
        .merge();
    }
  }

  async firstStateTime(id: number): Promise<Date | undefined> {
    const first = await this.trx('request_states')
      .where({ request_id: id })
      .orderBy('id')
      .first<{ updated: Date } | undefined>('updated');
    return first ? new Date(first.updated) : undefined;
  }

  async batchRequests(batchId: number): Promise<RequestRecord[]> {
    return (await this.trx('requests').where({ batch_id: batchId }).orderBy('id')) as RequestRecord[];
  }

  async batchAnnotations(batchId: number): Promise<Record<string, unknown> | null> {
    const row = await this.trx('batches')
      .where({ id: batchId })
      .first<{ annotations: Record<string, unknown> | null } | undefined>('annotations');
    return row?.annotations ?? null;
  }

  async enqueue(messages: OutboxMessage[]): Promise<void> {
    await enqueue(this.trx, messages);
  }
}
