import type { Knex } from 'knex';
import type { BatchStateBody, RequestType, StateUpdate } from '../../shared/contracts';
import { BuildRequestEvent, isFinal, outgoingMessage } from '../../shared/contracts';
import { DependencyError } from '../../shared/errors';
import { Names } from '../../shared/messaging/names';
import { currentTraceId } from '../../shared/tracing';
import { enqueue, OutboxMessage, outboxRows } from './outbox';
import { textSafe } from './pg-text';
import { requestJson, RequestRecord, StateRecord } from './request-json';

export const INITIAL_REASON = 'The request was initiated';

export interface NewRequest {
  type: RequestType;
  user: string | null;
  params: Record<string, unknown>;
  /** Sealed with the request id as associated data, never stored in plain text. */
  secrets?: object;
  fromIndex?: string | null;
}

/** Seals a request's secrets for the builder; the request id binds them to that request. */
export type Sealer = (secrets: object, requestId: number) => string;

/** The associated data a builder passes to SecretBox.open for a request's sealed_secrets. */
export function secretsAssociatedData(requestId: number): string {
  return `iib-request:${requestId}`;
}

export function buildStateMessage(r: RequestRecord): OutboxMessage {
  return {
    destination: Names.buildStateEvents,
    body: requestJson(r),
    applicationProperties: { batch: r.batch_id, id: r.id, state: r.state, user: r.user_name },
  };
}

export function batchState(states: string[]): 'in_progress' | 'failed' | 'complete' {
  if (states.some((s) => s === 'in_progress')) return 'in_progress';
  if (states.some((s) => s === 'failed')) return 'failed';
  return 'complete';
}

export interface UpdateResult {
  applied: boolean;
  changed: boolean;
  /** Set when the update made the request final: the time since its submission. */
  durationMs?: number;
}

/** The system of record: requests, their history, batches, and the outbox. */
export class RequestStore {
  constructor(
    readonly db: Knex,
    private readonly sealer?: Sealer,
  ) {}

  private seal(secrets: object | undefined, requestId: number): string | undefined {
    if (!secrets) return undefined;
    if (!this.sealer)
      throw new DependencyError('IIB_SECRETS_KEY is not configured: tokens cannot be accepted', {
        retryable: false,
      });
    return this.sealer(secrets, requestId);
  }

  /**
   * Creates the requests of one batch, their first state and every message
   * they cause, atomically, in two round trips whatever the batch size: the
   * ids first (sealed secrets are bound to their request id), then every row
   * in one statement (a statement is atomic; no transaction is held open).
   */
  async create(
    items: NewRequest[],
    annotations: Record<string, unknown> | null = null,
  ): Promise<RequestRecord[]> {
    const ids = await this.db.raw<{ rows: { batch_id: string; id: string }[] }>(
      `SELECT (SELECT nextval(pg_get_serial_sequence('batches', 'id'))) AS batch_id,
              nextval(pg_get_serial_sequence('requests', 'id')) AS id
         FROM generate_series(1, ?::int) ORDER BY 2`,
      [items.length],
    );
    const batchId = Number(ids.rows[0]?.batch_id);
    const now = new Date();
    const traceId = currentTraceId() ?? null;
    const rows: RequestRecord[] = items.map((i, idx) => ({
      id: Number(ids.rows[idx]?.id),
      type: i.type,
      user_name: i.user,
      batch_id: batchId,
      state: 'in_progress',
      state_reason: INITIAL_REASON,
      updated: now,
      // As read back from the database: a copy holding only JSON values.
      params: JSON.parse(JSON.stringify(i.params)) as Record<string, unknown>,
      results: {},
      trace_id: traceId,
    }));
    const messages: OutboxMessage[] = [];
    rows.forEach((r, idx) => {
      const item = items[idx] as NewRequest;
      const event = outgoingMessage(
        BuildRequestEvent,
        {
          id: r.id,
          request_type: r.type,
          user: r.user_name,
          batch: batchId,
          params: r.params,
          sealed_secrets: this.seal(item.secrets, r.id),
          submitted_at: now.toISOString(),
        },
        `request event ${r.id}`,
      );
      messages.push({ destination: Names.requests, body: event });
      messages.push(buildStateMessage(r));
    });
    messages.push({
      destination: Names.batchStateEvents,
      body: this.batchBody(batchId, annotations, rows),
    });
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
          rows.map((r, idx) => ({
            id: r.id,
            type: r.type,
            user_name: r.user_name,
            batch_id: batchId,
            state: r.state,
            state_reason: r.state_reason,
            updated: now,
            params: JSON.stringify(r.params),
            results: '{}',
            from_index: items[idx]?.fromIndex ?? null,
            trace_id: traceId,
          })),
        ),
      )
      .with(
        's',
        db('request_states').insert(
          rows.map((r) => ({ request_id: r.id, state: r.state, state_reason: r.state_reason, updated: now })),
        ),
      )
      .insert(outboxRows(messages))
      .into('outbox');
    return rows;
  }

  batchBody(
    batch: number,
    annotations: Record<string, unknown> | null,
    rows: RequestRecord[],
  ): BatchStateBody {
    return {
      batch,
      annotations,
      requests: rows.map((r) => ({
        id: r.id,
        organization: typeof r.params.organization === 'string' ? r.params.organization : null,
        request_type: r.type,
      })),
      state: batchState(rows.map((r) => r.state)),
      user: rows[0]?.user_name ?? null,
    };
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

  async batchAnnotations(batchId: number, db: Knex = this.db): Promise<Record<string, unknown> | null> {
    const row = await db('batches')
      .where({ id: batchId })
      .first<{ annotations: Record<string, unknown> | null } | undefined>('annotations');
    return row?.annotations ?? null;
  }

  /** Histories of several requests, newest first each, in one query. */
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

  /** Log lines after the line `afterId` (0 = from the start), with their ids, for following a log. */
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

  /**
   * Applies one builder update exactly once (by its key): final states stay
   * final, an identical state is not recorded twice, and every real change
   * is published through the outbox in the same transaction.
   */
  async applyUpdate(raw: StateUpdate): Promise<UpdateResult> {
    const update = textSafe(raw);
    return this.db.transaction(async (trx) => {
      const inserted = await trx('processed_messages')
        .insert({ key: update.key })
        .onConflict('key')
        .ignore()
        .returning('key');
      if (inserted.length === 0) return { applied: false, changed: false };
      const current = (await trx('requests').where({ id: update.request_id }).forUpdate().first()) as
        RequestRecord | undefined;
      if (!current) return { applied: true, changed: false };
      const patch: Record<string, unknown> = {};
      let changed = false;
      const now = new Date();
      const wasFinal = isFinal(current.state);
      if (wasFinal) {
        // A final state is final: a late or duplicate report (a rebuild after a
        // crash, a second builder, a redelivered update) changes neither the
        // state nor the result and publishes nothing. Its log lines are kept.
        if (update.logs && update.logs.length > 0) {
          await trx('request_logs').insert(update.logs.map((text) => ({ request_id: current.id, text })));
        }
        return { applied: true, changed: false };
      }
      if (update.fields && Object.keys(update.fields).length > 0) {
        const results = { ...current.results, ...update.fields };
        if (JSON.stringify(results) !== JSON.stringify(current.results)) {
          patch.results = JSON.stringify(results);
          current.results = results;
          if (typeof update.fields.index_image === 'string') patch.index_image = update.fields.index_image;
          changed = true;
        }
      }
      if (update.state && update.state_reason !== undefined) {
        const same = update.state === current.state && update.state_reason === current.state_reason;
        if (!same) {
          patch.state = update.state;
          patch.state_reason = update.state_reason;
          patch.updated = now;
          current.state = update.state;
          current.state_reason = update.state_reason;
          current.updated = now;
          await trx('request_states').insert({
            request_id: current.id,
            state: update.state,
            state_reason: update.state_reason,
            updated: now,
          });
          changed = true;
        }
      }
      if (update.logs && update.logs.length > 0) {
        await trx('request_logs').insert(update.logs.map((text) => ({ request_id: current.id, text })));
      }
      if (update.artifacts) {
        for (const [kind, content] of Object.entries(update.artifacts)) {
          await trx('request_artifacts')
            .insert({ request_id: current.id, kind, content: JSON.stringify(content) })
            .onConflict(['request_id', 'kind'])
            .merge();
        }
      }
      if (!changed) return { applied: true, changed: false };
      if (!patch.updated) {
        patch.updated = now;
        current.updated = now;
      }
      await trx('requests').where({ id: current.id }).update(patch);
      const messages: OutboxMessage[] = [buildStateMessage(current)];
      let durationMs: number | undefined;
      if (!wasFinal && isFinal(current.state)) {
        // The first state's time is the submission's (the same clock as `now`: the gateway's).
        const first = await trx('request_states')
          .where({ request_id: current.id })
          .orderBy('id')
          .first<{ updated: Date } | undefined>('updated');
        if (first) durationMs = now.getTime() - new Date(first.updated).getTime();
        const siblings = (await trx('requests')
          .where({ batch_id: current.batch_id })
          .orderBy('id')) as RequestRecord[];
        const state = batchState(siblings.map((s) => s.state));
        if (state !== 'in_progress') {
          const annotations = await this.batchAnnotations(current.batch_id, trx);
          messages.push({
            destination: Names.batchStateEvents,
            body: this.batchBody(current.batch_id, annotations, siblings),
          });
        }
      }
      await enqueue(trx, messages);
      return { applied: true, changed: true, durationMs };
    });
  }
}
