import { NotFoundError, ValidationError } from '../../shared/errors';
import type { OutboxMessage } from '../../services/gateway/outbox/outbox';
import type { RequestRecord, StateRecord } from '../../services/gateway/requests/record';
import type {
  ListQuery,
  NewBatch,
  Page,
  RequestStore,
  RequestTransaction,
  RowChanges,
} from '../../services/gateway/requests/store';

interface Tables {
  nextBatch: number;
  nextRequest: number;
  nextLog: number;
  requests: Map<number, RequestRecord & { from_index: string | null; index_image?: string }>;
  states: Map<number, StateRecord[]>;
  logs: Map<number, { id: number; text: string }[]>;
  artifacts: Map<string, unknown>;
  batches: Map<number, Record<string, unknown> | null>;
  processed: Set<string>;
  outbox: OutboxMessage[];
}

const copy = <T>(v: T): T => structuredClone(v);

/**
 * The request store in memory, for unit tests: the same contract as
 * db/knex-store, with PostgreSQL's row locks and rollback.
 */
export class MemoryRequestStore implements RequestStore {
  readonly t: Tables = {
    nextBatch: 1,
    nextRequest: 1,
    nextLog: 1,
    requests: new Map(),
    states: new Map(),
    logs: new Map(),
    artifacts: new Map(),
    batches: new Map(),
    processed: new Set(),
    outbox: [],
  };

  /** Every message written to the outbox, in order. */
  get outbox(): OutboxMessage[] {
    return this.t.outbox;
  }

  async reserveIds(count: number): Promise<{ batchId: number; ids: number[] }> {
    const ids = Array.from({ length: count }, () => this.t.nextRequest++);
    return { batchId: this.t.nextBatch++, ids };
  }

  async insertBatch(batch: NewBatch): Promise<void> {
    this.t.batches.set(batch.batchId, copy(batch.annotations));
    for (const r of batch.rows) {
      this.t.requests.set(r.id, copy(r));
      this.t.states.set(r.id, [{ state: r.state, state_reason: r.state_reason, updated: r.updated }]);
    }
    this.t.outbox.push(...copy(batch.messages));
  }

  async get(id: number): Promise<RequestRecord | undefined> {
    return copy(this.t.requests.get(id));
  }

  async history(id: number): Promise<StateRecord[]> {
    return copy([...(this.t.states.get(id) ?? [])].reverse());
  }

  async histories(ids: number[]): Promise<Map<number, StateRecord[]>> {
    return new Map(await Promise.all(ids.map(async (id) => [id, await this.history(id)] as const)));
  }

  async annotationsOf(batchIds: number[]): Promise<Map<number, Record<string, unknown> | null>> {
    return new Map(batchIds.map((b) => [b, copy(this.t.batches.get(b) ?? null)]));
  }

  async artifact(id: number, kind: string): Promise<unknown> {
    return copy(this.t.artifacts.get(`${id} ${kind}`));
  }

  async logs(id: number): Promise<string[]> {
    return (this.t.logs.get(id) ?? []).map((l) => l.text);
  }

  async logsAfter(id: number, afterId: number, limit = 1000): Promise<{ id: number; text: string }[]> {
    return (this.t.logs.get(id) ?? []).filter((l) => l.id > afterId).slice(0, limit);
  }

  /** State, batch, type and user filters (the index filters need PostgreSQL). */
  async list(q: ListQuery): Promise<Page> {
    const column: Record<string, 'state' | 'batch_id' | 'type' | 'user_name'> = {
      state: 'state',
      batch: 'batch_id',
      request_type: 'type',
      user: 'user_name',
    };
    const rows = [...this.t.requests.values()]
      .filter((r) =>
        q.filters.every(([key, value]) => {
          const c = column[key];
          if (!c) throw new ValidationError(`the memory store cannot filter by ${key}`);
          return String(r[c] ?? '') === value;
        }),
      )
      .sort((a, b) => b.id - a.id);
    const page = rows.slice((q.page - 1) * q.perPage, q.page * q.perPage);
    if (page.length === 0 && q.page !== 1) throw new NotFoundError();
    return { rows: copy(page), total: rows.length };
  }

  async ping(): Promise<void> {}

  /** Called as each transaction claims a message key: a test delays or fails it here. */
  onClaim?: (key: string) => Promise<void>;

  /**
   * Transactions run side by side, as PostgreSQL's do; lock(id) waits for
   * the transaction holding that request, and a failed transaction's writes
   * are undone.
   */
  async transaction<T>(work: (tx: RequestTransaction) => Promise<T>): Promise<T> {
    const tx = new MemoryTransaction(this.t, this.locks, this.onClaim);
    try {
      return await work(tx);
    } catch (err) {
      for (const undo of tx.undo.reverse()) undo();
      throw err;
    } finally {
      tx.release();
    }
  }

  private readonly locks = new Map<number, Promise<void>>();
}

class MemoryTransaction implements RequestTransaction {
  readonly undo: (() => void)[] = [];
  private readonly held: (() => void)[] = [];

  constructor(
    private readonly t: Tables,
    private readonly locks: Map<number, Promise<void>>,
    private readonly onClaim?: (key: string) => Promise<void>,
  ) {}

  release(): void {
    for (const free of this.held) free();
  }

  async claim(key: string): Promise<boolean> {
    await this.onClaim?.(key);
    if (this.t.processed.has(key)) return false;
    this.t.processed.add(key);
    this.undo.push(() => this.t.processed.delete(key));
    return true;
  }

  async lock(id: number): Promise<RequestRecord | undefined> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    let free = (): void => undefined;
    const mine = new Promise<void>((resolve) => (free = resolve));
    const chained = previous.then(() => mine);
    this.locks.set(id, chained);
    this.held.push(() => {
      free();
      if (this.locks.get(id) === chained) this.locks.delete(id);
    });
    await previous;
    return copy(this.t.requests.get(id));
  }

  async save(id: number, changes: RowChanges): Promise<RequestRecord> {
    const row = this.t.requests.get(id);
    if (!row) throw new Error(`no request ${id}`);
    const before = copy(row);
    this.undo.push(() => this.t.requests.set(id, before));
    Object.assign(row, copy(changes));
    return copy(row);
  }

  async addState(id: number, s: StateRecord): Promise<void> {
    const states = this.t.states.get(id) ?? [];
    this.t.states.set(id, states);
    states.push(copy(s));
    this.undo.push(() => states.pop());
  }

  async appendLogs(id: number, lines: string[]): Promise<void> {
    const logs = this.t.logs.get(id) ?? [];
    this.t.logs.set(id, logs);
    const length = logs.length;
    for (const text of lines) logs.push({ id: this.t.nextLog++, text });
    this.undo.push(() => logs.splice(length));
  }

  async putArtifacts(id: number, artifacts: Record<string, unknown>): Promise<void> {
    for (const [kind, content] of Object.entries(artifacts)) {
      const key = `${id} ${kind}`;
      const had = this.t.artifacts.has(key);
      const before = this.t.artifacts.get(key);
      this.undo.push(() => (had ? this.t.artifacts.set(key, before) : this.t.artifacts.delete(key)));
      this.t.artifacts.set(key, copy(content));
    }
  }

  async firstStateTime(id: number): Promise<Date | undefined> {
    return this.t.states.get(id)?.[0]?.updated;
  }

  async batchRequests(batchId: number): Promise<RequestRecord[]> {
    const rows = [...this.t.requests.values()].filter((r) => r.batch_id === batchId);
    return copy(rows.sort((a, b) => a.id - b.id));
  }

  async batchAnnotations(batchId: number): Promise<Record<string, unknown> | null> {
    return copy(this.t.batches.get(batchId) ?? null);
  }

  async enqueue(messages: OutboxMessage[]): Promise<void> {
    const length = this.t.outbox.length;
    this.t.outbox.push(...copy(messages));
    this.undo.push(() => this.t.outbox.splice(length));
  }
}
