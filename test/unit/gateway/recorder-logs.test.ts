import pino from 'pino';
import type { InboundMessage } from '../../../shared/messaging';
import { createRecorder } from '../../../services/gateway/outbox/recorder';
import { submitRequests } from '../../../services/gateway/requests/submit';
import { MemoryRequestStore } from '../../support/memory-request-store';

const message = (id: number, state: string, reason: string): InboundMessage =>
  ({
    body: { key: `${state}-${reason}`, request_id: id, state, state_reason: reason, at: '' },
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
    const store = new MemoryRequestStore();
    const submitted = new Date('2026-01-01T00:00:00Z');
    const [r] = await submitRequests(
      store,
      undefined,
      [{ type: 'create-empty-index', user: 'u', params: { from_index: 'r/i:1' } }],
      null,
      submitted,
    );
    const record = createRecorder({
      store,
      log,
      onCommitted: () => undefined,
      answer: () => Promise.resolve(),
      now: () => new Date(submitted.getTime() + 4200),
    });
    await record(message(r!.id, 'in_progress', 'Building'));
    await record(message(r!.id, 'complete', 'Done'));
    const recorded = lines.filter((l) => l.msg === 'state recorded');
    expect(recorded).toHaveLength(2);
    expect(recorded[0]).not.toHaveProperty('durationMs');
    expect(recorded[1]).toMatchObject({
      requestId: r!.id,
      state: 'complete',
      reason: 'Done',
      durationMs: 4200,
    });
  });
});
