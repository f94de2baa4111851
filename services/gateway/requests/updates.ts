import type { StateUpdate } from '../../../shared/contracts';
import { ConflictError, NotFoundError } from '../../../shared/errors';
import { textSafe } from './pg-text';
import type { OutboxMessage } from '../outbox/outbox';
import { batchMessage, batchState, buildStateMessage } from './events';
import type { RequestRecord } from './record';
import type { RequestStore, RequestTransaction } from './store';
import { builderUpdate, isRefusal, patchUpdate, Transition } from './transitions';
import { validatePatch } from './validation/patch';

export interface UpdateResult {
  /** False when the update's key was seen before: a duplicate, ignored. */
  applied: boolean;
  /** Whether the request changed (and its new state was published). */
  changed: boolean;
  /** Set when the update made the request final: the time since its submission. */
  durationMs?: number;
}

/** Writes a transition and the messages it causes, in the caller's transaction. */
async function persist(tx: RequestTransaction, t: Transition): Promise<RequestRecord> {
  const id = t.record.id;
  if (t.history) await tx.addState(id, t.history);
  if (t.logs.length > 0) await tx.appendLogs(id, t.logs);
  if (Object.keys(t.artifacts).length > 0) await tx.putArtifacts(id, t.artifacts);
  if (Object.keys(t.changes).length === 0) return t.record;
  const saved = await tx.save(id, t.changes);
  if (!t.publish) return saved;
  const messages: OutboxMessage[] = [buildStateMessage(saved)];
  if (t.batchMayChange) {
    const siblings = await tx.batchRequests(t.record.batch_id);
    if (batchState(siblings.map((s) => s.state)) !== 'in_progress') {
      const annotations = await tx.batchAnnotations(t.record.batch_id);
      messages.push(batchMessage(t.record.batch_id, annotations, siblings));
    }
  }
  await tx.enqueue(messages);
  return saved;
}

/**
 * Applies one builder update exactly once (by its key), under the builder
 * rules of requests/transitions; every change is published through the
 * outbox in the same transaction. Text PostgreSQL cannot hold is cleaned,
 * not refused (db/pg-text).
 */
export async function recordUpdate(
  store: RequestStore,
  raw: StateUpdate,
  now: Date = new Date(),
): Promise<UpdateResult> {
  const update = textSafe(raw);
  return store.transaction(async (tx) => {
    if (!(await tx.claim(update.key))) return { applied: false, changed: false };
    const current = await tx.lock(update.request_id);
    if (!current) return { applied: true, changed: false };
    const t = builderUpdate(current, update, now);
    await persist(tx, t);
    if (!t.publish) return { applied: true, changed: false };
    let durationMs: number | undefined;
    if (t.batchMayChange) {
      // The first state's time is the submission's (the same clock as `now`: the gateway's).
      const first = await tx.firstStateTime(current.id);
      if (first) durationMs = now.getTime() - first.getTime();
    }
    return { applied: true, changed: true, durationMs };
  });
}

/**
 * Applies a worker's PATCH (IIB's patch_request) under the PATCH rules of
 * requests/transitions: 404 for an unknown request, IIB's 400s for a bad
 * body, 409 for a final request asked to change its state.
 */
export async function patchRequest(
  store: RequestStore,
  id: number,
  payload: unknown,
  now: Date = new Date(),
): Promise<{ record: RequestRecord; stateUpdated: boolean }> {
  return store.transaction(async (tx) => {
    const current = await tx.lock(id);
    if (!current) throw new NotFoundError();
    const t = patchUpdate(current, validatePatch(current.type, id, payload), now);
    if (isRefusal(t)) throw new ConflictError(t.message);
    const record = await persist(tx, t);
    return { record, stateUpdated: t.publish };
  });
}
