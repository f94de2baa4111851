import type { Logger } from 'pino';
import type { StateUpdate } from '../../shared/contracts';
import { STATES } from '../../shared/contracts';
import { DependencyError, ValidationError } from '../../shared/errors';
import type { InboundMessage } from '../../shared/messaging';
import type { RequestStore } from './store';

export function parseStateUpdate(body: unknown): StateUpdate {
  const u = body as Partial<StateUpdate> | null;
  if (!u || typeof u !== 'object') throw new ValidationError('state update must be a JSON object');
  if (typeof u.key !== 'string' || u.key === '') throw new ValidationError('state update needs a key');
  if (typeof u.request_id !== 'number' || !Number.isInteger(u.request_id)) {
    throw new ValidationError('state update needs an integer request_id');
  }
  if (u.state !== undefined && !(STATES as readonly string[]).includes(u.state)) {
    throw new ValidationError(`invalid state ${String(u.state)}`);
  }
  if ((u.state === undefined) !== (u.state_reason === undefined)) {
    throw new ValidationError('state and state_reason must come together');
  }
  return u as StateUpdate;
}

/** Consumes `iib.state-updates`: applies each update once, then wakes the relay. */
export function createRecorder(deps: { store: RequestStore; log: Logger; onCommitted: () => void }) {
  // Updates are consumed several at a time, but one request's updates must be
  // applied in the order its builder sent them (else a late progress reason
  // would land after `complete` and be dropped): chain them per request.
  const chains = new Map<number, Promise<void>>();
  return (message: InboundMessage): Promise<void> => {
    const update = parseStateUpdate(message.body);
    const previous = chains.get(update.request_id) ?? Promise.resolve();
    const mine = previous.catch(() => undefined).then(() => apply(update));
    const tail = mine.catch(() => undefined);
    chains.set(update.request_id, tail);
    void tail.then(() => {
      if (chains.get(update.request_id) === tail) chains.delete(update.request_id);
    });
    return mine;
  };

  async function apply(update: StateUpdate): Promise<void> {
    let result;
    try {
      result = await deps.store.applyUpdate(update);
    } catch (err) {
      throw new DependencyError('recording the state update failed', { retryable: true, cause: err });
    }
    if (result.changed) {
      deps.log.info(
        { requestId: update.request_id, state: update.state, reason: update.state_reason },
        'state recorded',
      );
      deps.onCommitted();
    }
  }
}
