import type { OutboxMessage } from '../outbox/outbox';
import type { RequestRecord, StateRecord } from './record';

/** A new request's row, as the store writes it (`results` start empty). */
export interface NewRow extends RequestRecord {
  /** The request's from_index, a column of its own for the listing's filters. */
  from_index: string | null;
}

/** One submitted batch: its rows, their first states and every message they cause, written at once. */
export interface NewBatch {
  batchId: number;
  annotations: Record<string, unknown> | null;
  rows: NewRow[];
  messages: OutboxMessage[];
}

/** The columns a state transition changes; absent ones stay as they are. */
export interface RowChanges {
  results?: Record<string, unknown>;
  index_image?: string;
  state?: string;
  state_reason?: string;
  updated?: Date;
}

/** The listing's page and filters, in IIB's order (see http/listing). */
export interface ListQuery {
  page: number;
  perPage: number;
  verbose: boolean;
  /** The filters as given, in IIB's order, for the meta links. */
  filters: [string, string][];
}

export interface Page {
  rows: RequestRecord[];
  total: number;
}

/**
 * What one update of one request may do, inside one transaction: every
 * call sees the writes before it, and all of them commit together or not
 * at all.
 */
export interface RequestTransaction {
  /** Records a message key; false when it was recorded before (the message is a duplicate). */
  claim(key: string): Promise<boolean>;
  /** The request, locked until the transaction ends; undefined when there is none. */
  lock(id: number): Promise<RequestRecord | undefined>;
  /** Writes the changed columns; answers the row as stored. */
  save(id: number, changes: RowChanges): Promise<RequestRecord>;
  addState(id: number, state: StateRecord): Promise<void>;
  appendLogs(id: number, lines: string[]): Promise<void>;
  /** Stores each artifact by kind, replacing an earlier one of the same kind. */
  putArtifacts(id: number, artifacts: Record<string, unknown>): Promise<void>;
  /** When the request's first state was recorded: its submission. */
  firstStateTime(id: number): Promise<Date | undefined>;
  /** The requests of a batch, by id. */
  batchRequests(batchId: number): Promise<RequestRecord[]>;
  batchAnnotations(batchId: number): Promise<Record<string, unknown> | null>;
  /** Writes messages to the outbox; the relay publishes them once the transaction committed. */
  enqueue(messages: OutboxMessage[]): Promise<void>;
}

/**
 * The system of record: requests, their history, logs, artifacts, batches
 * and the outbox. It only stores; the rules live in requests/ (transitions,
 * submit, updates). db/knex-store is the PostgreSQL implementation; the
 * unit tests use an in-memory one.
 */
export interface RequestStore {
  /** New ids for a batch and its `count` requests, in order. */
  reserveIds(count: number): Promise<{ batchId: number; ids: number[] }>;
  /** Writes a batch, its requests, their first states and messages, atomically. */
  insertBatch(batch: NewBatch): Promise<void>;
  get(id: number): Promise<RequestRecord | undefined>;
  /** The request's states, newest first. */
  history(id: number): Promise<StateRecord[]>;
  /** Histories of several requests, newest first each. */
  histories(ids: number[]): Promise<Map<number, StateRecord[]>>;
  annotationsOf(batchIds: number[]): Promise<Map<number, Record<string, unknown> | null>>;
  artifact(id: number, kind: string): Promise<unknown>;
  logs(id: number): Promise<string[]>;
  /** Log lines after the line `afterId` (0 = from the start), with their ids, for following a log. */
  logsAfter(id: number, afterId: number, limit?: number): Promise<{ id: number; text: string }[]>;
  /** A listing page, newest first; an unknown index filter or a page past the end is refused. */
  list(query: ListQuery): Promise<Page>;
  /** Resolves when the store answers (health and readiness checks). */
  ping(): Promise<void>;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: RequestTransaction) => Promise<T>): Promise<T>;
}
