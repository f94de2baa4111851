import pino from 'pino';
import type { StateUpdate } from '../../../shared/contracts';
import type { InboundMessage } from '../../../shared/messaging';
import { createRecorder } from '../../../services/gateway/outbox/recorder';
import type { RequestStore, UpdateResult } from '../../../services/gateway/db/knex-store';

const message = (state: string, reason: string): InboundMessage =>
  ({
    body: { key: `${state}-${reason}`, request_id: 4, state, state_reason: reason, at: '' },
    applicationProperties: {},
    deliveryCount: 0,
  }) as unknown as InboundMessage;

describe('the recorder’s log lines', () => {
  it('when a request becomes final, then its "state recorded" line carries the duration since submission', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino(
      { level: 'info' },
      { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
    );
    const results: Record<string, UpdateResult> = {
      in_progress: { applied: true, changed: true },
      complete: { applied: true, changed: true, durationMs: 4200 },
    };
    const store = {
      applyUpdate: (u: StateUpdate) => Promise.resolve(results[u.state ?? ''] as UpdateResult),
    } as unknown as RequestStore;
    const record = createRecorder({
      store,
      log,
      onCommitted: () => undefined,
      answer: () => Promise.resolve(),
    });
    await record(message('in_progress', 'Building'));
    await record(message('complete', 'Done'));
    const recorded = lines.filter((l) => l.msg === 'state recorded');
    expect(recorded).toHaveLength(2);
    expect(recorded[0]).not.toHaveProperty('durationMs');
    expect(recorded[1]).toMatchObject({ requestId: 4, state: 'complete', reason: 'Done', durationMs: 4200 });
  });
});
