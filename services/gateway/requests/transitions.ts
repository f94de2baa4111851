import type { StateUpdate } from '../../../shared/contracts';
import { isFinal } from '../../../shared/contracts';
import type { RequestRecord, StateRecord } from './record';
import type { RowChanges } from './store';

/**
 * The request state rules, as pure functions: given the request as stored
 * and an update, what changes. Two writers follow them:
 * - a builder's update (the recorder): a final state is final, whatever
 *   comes later changes nothing but the log; a change of the results alone
 *   is published too;
 * - a worker's PATCH (IIB's patch_request): results may change at any time,
 *   a final state may not become another state, and only a state change is
 *   published.
 * Neither records a state that repeats the current one (state and reason).
 */
export interface Transition {
  /** The request after the update. */
  record: RequestRecord;
  /** The columns to write; empty when the row stays as it is. */
  changes: RowChanges;
  /** The state history entry to add, when the state or its reason changed. */
  history?: StateRecord;
  /** Whether the new state is published (a build state event). */
  publish: boolean;
  /**
   * Whether the batch's state may have changed with this one: the update
   * was published and leaves the request final (a request in progress keeps
   * its batch in progress).
   */
  batchMayChange: boolean;
  /** Log lines to append. */
  logs: string[];
  /** Artifacts to store, by kind. */
  artifacts: Record<string, unknown>;
}

/** Why an update was not applied; the request stays as it was. */
export interface Refusal {
  refused: 'final-state';
  /** IIB's words. */
  message: string;
}

export function isRefusal(t: Transition | Refusal): t is Refusal {
  return 'refused' in t;
}

/** A PATCH body after validatePatch: `arches` a list, state and reason together or absent. */
export type PatchBody = Record<string, unknown>;

function unchanged(current: RequestRecord, logs: string[] = []): Transition {
  return { record: current, changes: {}, publish: false, batchMayChange: false, logs, artifacts: {} };
}

/** The state entry, when `state` and `reason` differ from the request's. */
function newState(
  current: RequestRecord,
  state: string | undefined,
  reason: string | undefined,
  now: Date,
): StateRecord | undefined {
  if (state === undefined || reason === undefined) return undefined;
  if (state === current.state && reason === current.state_reason) return undefined;
  return { state, state_reason: reason, updated: now };
}

function withState(changes: RowChanges, record: RequestRecord, s: StateRecord): void {
  Object.assign(changes, { state: s.state, state_reason: s.state_reason, updated: s.updated });
  Object.assign(record, { state: s.state, state_reason: s.state_reason, updated: s.updated });
}

/**
 * A builder's update. A final request keeps its state and results and
 * publishes nothing (a rebuild after a crash, a second builder, a
 * redelivered update); only its log lines are kept. Otherwise results are
 * merged, a new state is recorded, and any change is published, with
 * `updated` set to now.
 */
export function builderUpdate(current: RequestRecord, update: StateUpdate, now: Date): Transition {
  const logs = update.logs ?? [];
  if (isFinal(current.state)) return unchanged(current, logs);
  const record: RequestRecord = { ...current };
  const changes: RowChanges = {};
  if (update.fields && Object.keys(update.fields).length > 0) {
    const results = { ...current.results, ...update.fields };
    if (JSON.stringify(results) !== JSON.stringify(current.results)) {
      changes.results = results;
      record.results = results;
      if (typeof update.fields.index_image === 'string') changes.index_image = update.fields.index_image;
    }
  }
  const history = newState(current, update.state, update.state_reason, now);
  if (history) withState(changes, record, history);
  const changed = Object.keys(changes).length > 0;
  if (changed && !changes.updated) {
    changes.updated = now;
    record.updated = now;
  }
  return {
    record,
    changes,
    history,
    publish: changed,
    batchMayChange: changed && isFinal(record.state),
    logs,
    artifacts: update.artifacts ?? {},
  };
}

/**
 * A worker's PATCH, as IIB applies it: result fields are set (even on a
 * final request), arches are added to the known ones, a new state is
 * recorded unless the request is final and the state differs (a refusal),
 * and only a state change is published and moves `updated`.
 */
export function patchUpdate(current: RequestRecord, body: PatchBody, now: Date): Transition | Refusal {
  const { state, state_reason: reason, arches, ...fields } = body;
  const results = { ...current.results, ...fields };
  if (arches !== undefined) {
    const known = Array.isArray(current.results.arches) ? (current.results.arches as string[]) : [];
    results.arches = [...new Set([...known, ...(arches as string[])])];
  }
  const record: RequestRecord = { ...current, results };
  const changes: RowChanges = { results };
  if (typeof fields.index_image === 'string') changes.index_image = fields.index_image;
  const history = newState(
    current,
    typeof state === 'string' ? state : undefined,
    typeof reason === 'string' ? reason : undefined,
    now,
  );
  if (history && isFinal(current.state) && history.state !== current.state) {
    return { refused: 'final-state', message: `A ${current.state} request cannot change states` };
  }
  if (history) withState(changes, record, history);
  return {
    record,
    changes,
    history,
    publish: history !== undefined,
    batchMayChange: history !== undefined && isFinal(record.state),
    logs: [],
    artifacts: {},
  };
}
