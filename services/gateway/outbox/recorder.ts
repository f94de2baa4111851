import type { Logger } from 'pino';
import type { FinalStateEvent, RequestState, StateQuery, StateUpdate } from '../../../shared/contracts';
import { isStateQuery, parseStateQuery, parseStateUpdate } from '../../../shared/contracts';
import { DependencyError } from '../../../shared/errors';
import type { InboundMessage } from '../../../shared/messaging';
import type { RequestStore } from '../requests/store';
import { recordUpdate } from '../requests/updates';
import { isTransientDbError } from '../db/errors';

export { parseStateQuery, parseStateUpdate };

export interface RecorderDeps {
  store: RequestStore;
  log: Logger;
  onCommitted: () => void;
  /** Publishes the answer to a builder's state query (the final-state topic). */
  answer: (event: FinalStateEvent) => Promise<void>;
  /** The gateway's clock (tests set it). */
  now?: () => Date;
}

/**
 * Consumes `iib.state-updates`: applies each update once (requests/updates),
 * then wakes the relay; answers state queries. A failure to reach PostgreSQL is retryable:
 * the consumer holds the message and retries it (retryInPlace), so no update
 * is ever dropped, whatever the outage's length.
 */
export function createRecorder(deps: RecorderDeps) {
  // Updates are consumed several at a time, but one request's updates must be
  // applied in the order its builder sent them (else a late progress reason
  // would land after `complete` and be dropped): chain them per request. A
  // state query joins the same chain, so it is answered only after every
  // earlier update of its request has been applied.
  const chains = new Map<number, Promise<void>>();
  return (message: InboundMessage): Promise<void> => {
    const body = message.body;
    const item = isStateQuery(body) ? parseStateQuery(body) : parseStateUpdate(body);
    const previous = chains.get(item.request_id) ?? Promise.resolve();
    const mine = previous
      .catch(() => undefined)
      .then(() => (isStateQuery(item) ? answer(item) : apply(item)));
    const tail = mine.catch(() => undefined);
    chains.set(item.request_id, tail);
    void tail.then(() => {
      if (chains.get(item.request_id) === tail) chains.delete(item.request_id);
    });
    return mine;
  };

  async function apply(update: StateUpdate): Promise<void> {
    let result;
    try {
      result = await recordUpdate(deps.store, update, deps.now?.());
    } catch (err) {
      throw new DependencyError('recording the state update failed', {
        retryable: isTransientDbError(err),
        cause: err,
      });
    }
    if (result.changed) {
      deps.log.info(
        // A final state says how long the request took, from its submission.
        {
          requestId: update.request_id,
          state: update.state,
          reason: update.state_reason,
          durationMs: result.durationMs,
        },
        'state recorded',
      );
      deps.onCommitted();
    } else if (update.state && result.applied) {
      deps.log.debug({ requestId: update.request_id, state: update.state }, 'state update changed nothing');
    }
  }

  async function answer(query: StateQuery): Promise<void> {
    let state: string;
    try {
      state = (await deps.store.get(query.request_id))?.state ?? 'unknown';
    } catch (err) {
      throw new DependencyError('reading the request state failed', {
        retryable: isTransientDbError(err),
        cause: err,
      });
    }
    await deps
      .answer({ request_id: query.request_id, state: state as RequestState, answer_to: query.key })
      .catch((err: unknown) => {
        throw new DependencyError('answering the state query failed', { retryable: true, cause: err });
      });
  }
}
